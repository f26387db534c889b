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
  // One trailing line break dropped, as --password-stdin drops it: a secret stored from a file keeps the file's
  // newline, and sent with it the registry answered "credentials rejected" (review s21 L7).
  const a = withoutLineEnd(env[first]);
  const b = withoutLineEnd(env[second]);
  if (a === undefined && b === undefined) return undefined;
  if (a !== undefined && a !== '' && b !== undefined && b !== '') return [a, b];
  const state = (value: string | undefined) => (value === undefined ? 'not set' : 'empty');
  const message =
    a === undefined || a === ''
      ? b === undefined || b === ''
        ? `${first} and ${second} are set but empty`
        : `${second} is set but ${first} is ${state(a)}`
      : `${first} is set but ${second} is ${state(b)}`;
  throw new PackpubError('USAGE', message, {
    hint: `set both ${first} and ${second} (in CI: check that both secrets exist and the job can read them), ${otherwise}`,
  });
}

/** A variable's value without one trailing line break (`\n` or `\r\n`), as --password-stdin reads a secret. */
export function withoutLineEnd(value: string | undefined): string | undefined {
  return value?.replace(/\r?\n$/, '');
}
