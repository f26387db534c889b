import type { Credential, CredentialProvider } from './types.js';
import { ANONYMOUS } from './types.js';

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
      for (const provider of providers) {
        const credential = await provider.resolve(host);
        if (credential !== undefined) return credential;
      }
      return ANONYMOUS;
    },
    invalidate(host: string): void {
      for (const provider of providers) provider.invalidate?.(host);
    },
  };
}
