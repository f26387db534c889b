import { PackpubError } from '../errors.js';
import type { Credential } from './types.js';

/** The variable pairs packpub reads credentials from: shared, or one side of a copy. */
export type EnvCredentialPrefix = 'PACKPUB_' | 'PACKPUB_FROM_' | 'PACKPUB_TO_';

/**
 * The credential `<prefix>USERNAME` + `<prefix>PASSWORD` give, or undefined when neither is set. Half a pair
 * (one unset, or set but empty) is refused with USAGE naming the missing variable, never a value: it is
 * almost always a CI secret that did not expand, and going on would quietly send other credentials (the
 * Docker config's) or none.
 */
export function envCredential(env: NodeJS.ProcessEnv, prefix: EnvCredentialPrefix = 'PACKPUB_'): Credential | undefined {
  const pair = envPair(env, `${prefix}USERNAME`, `${prefix}PASSWORD`, 'or unset both to use the Docker config');
  return pair === undefined ? undefined : { username: pair[0], password: pair[1], source: 'environment' };
}

/**
 * Two variables that only mean something together (a user and its password, an access key and its
 * secret): both values when both are set and not empty, undefined when neither is set, else USAGE naming
 * the variable that is missing or empty (never a value). `otherwise` ends the hint: what unsetting both does.
 */
export function envPair(env: NodeJS.ProcessEnv, first: string, second: string, otherwise: string): [string, string] | undefined {
  const a = envValue(env, first);
  const b = envValue(env, second);
  if (a === undefined && b === undefined) return undefined;
  if (a !== undefined && a !== '' && b !== undefined && b !== '') return [a, b];
  const state = (value: string | undefined) => (value === undefined ? 'not set' : 'empty');
  const message =
    a === undefined || a === ''
      ? b === undefined || b === ''
        ? a === '' && b === ''
          ? `${first} and ${second} are set but empty`
          : a === ''
            ? `${first} is set but empty and ${second} is not set`
            : `${second} is set but empty and ${first} is not set`
        : `${second} is set but ${first} is ${state(a)}`
      : `${first} is set but ${second} is ${state(b)}`;
  throw new PackpubError('USAGE', message, {
    hint: `set both ${first} and ${second} (in CI: check that both secrets exist and the job can read them), ${otherwise}`,
  });
}

/**
 * A credential variable's value as --password-stdin reads a secret: without one trailing line break (`\n` or
 * `\r\n`; a secret stored from a file keeps the file's newline, and sent with it the registry answered
 * "credentials rejected", review s21 L7), and `''` when it holds only blanks (an unset CI secret padded, a
 * quoted space), which was sent as the password and came back "credentials rejected" (review2 L6).
 * Undefined when the variable is not set.
 */
export function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.replace(/\r?\n$/, '');
  return value === undefined || value.trim() !== '' ? value : '';
}
