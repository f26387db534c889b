import { PackpubError } from '../errors.js';
import type { Credential, CredentialProvider } from './types.js';
import { ANONYMOUS, isPassable } from './types.js';

/** A provider that always answers with one credential (flags, environment, library callers). */
export function staticProvider(name: string, credential: Credential | undefined): CredentialProvider {
  return {
    name,
    resolve: async () => (credential === undefined ? undefined : { source: name, ...credential }),
  };
}

/**
 * First provider with an answer wins (go-containerregistry's multi-keychain); none answering means
 * anonymous. A provider that throws stops the chain: it applied and failed, and the user must know.
 */
export function chainProviders(...providers: CredentialProvider[]): CredentialProvider {
  return {
    name: providers.map((p) => p.name).join(' -> '),
    async resolve(host: string): Promise<Credential> {
      // A source that could not answer but leaves it to the next (passable): its error is said with a later one's, or
      // is the answer when no later source has one.
      let passed: unknown;
      for (const provider of providers) {
        let credential: Credential | undefined;
        try {
          credential = await provider.resolve(host);
        } catch (err) {
          if (passed === undefined && isPassable(err)) {
            passed = err;
            continue;
          }
          throw passed instanceof Error && err instanceof PackpubError ? besides(err, passed) : err;
        }
        if (credential !== undefined) return credential;
      }
      if (passed !== undefined) throw passed;
      return ANONYMOUS;
    },
    invalidate(host: string): void {
      for (const provider of providers) provider.invalidate?.(host);
    },
  };
}

/** A later source's failure, with the error of the source passed before it in its hint (the user reads both). */
function besides(err: PackpubError, passed: Error): PackpubError {
  return new PackpubError(err.code, err.message, { hint: `${err.hint === undefined ? '' : `${err.hint}; `}before it, ${passed.message}`, cause: err });
}
