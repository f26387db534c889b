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
  const userVar = `${prefix}USERNAME`;
  const passwordVar = `${prefix}PASSWORD`;
  const username = env[userVar];
  const password = env[passwordVar];
  if (username === undefined && password === undefined) return undefined;
  if (username !== undefined && username !== '' && password !== undefined && password !== '') {
    return { username, password, source: 'environment' };
  }
  const state = (value: string | undefined) => (value === undefined ? 'not set' : 'empty');
  const message =
    username === undefined || username === ''
      ? password === undefined || password === ''
        ? `${userVar} and ${passwordVar} are set but empty`
        : `${passwordVar} is set but ${userVar} is ${state(username)}`
      : `${userVar} is set but ${passwordVar} is ${state(password)}`;
  throw new PackpubError('USAGE', message, {
    hint: `set both ${userVar} and ${passwordVar} (in CI: check that both secrets exist and the job can read them), or unset both to use the Docker config`,
  });
}
