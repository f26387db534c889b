/**
 * Credentials for one registry host. At most one form is used:
 * username+password (Basic, or exchanged for a Bearer token), an identity token (OAuth2 refresh token
 * exchanged at the token realm), or a ready registry token sent as Bearer.
 */
export interface Credential {
  username?: string;
  password?: string;
  /** Docker config `identitytoken`: exchanged with grant_type=refresh_token. */
  identityToken?: string;
  /** A bearer token sent as is (no exchange). */
  registryToken?: string;
  /** Where the credential came from, for messages ("flags", "environment", "docker config ~/.docker/config.json", "ECR"). Never the secret. */
  source?: string;
  /** When the credential stops being valid (ECR tokens); the client renews before then. */
  expiresAt?: Date;
}

export const ANONYMOUS: Credential = Object.freeze({ source: 'anonymous' });

export function isAnonymous(c: Credential): boolean {
  return c.username === undefined && c.identityToken === undefined && c.registryToken === undefined;
}

/**
 * One link of the credential chain (the aws-sdk provider idea): return undefined when it does not apply
 * so the next provider is tried; throw a PackpubError('CREDENTIALS') naming itself and the fix when it
 * applies but fails.
 */
export interface CredentialProvider {
  readonly name: string;
  resolve(host: string): Promise<Credential | undefined>;
  /**
   * Called when the registry rejected a credential this provider returned as expired, so it can mint a
   * new one (ECR). Optional.
   */
  invalidate?(host: string): void;
}

/** A mark set on error objects (a WeakSet): `mark` returns the error marked, `has` whether one is. */
function errorMark(): { mark: <T extends object>(err: T) => T; has: (err: unknown) => boolean } {
  const marked = new WeakSet<object>();
  return {
    mark: (err) => (marked.add(err), err),
    has: (err) => typeof err === 'object' && err !== null && marked.has(err),
  };
}

/**
 * Errors of a credential source that could not answer (a Docker config's credential helper not installed, failing,
 * hanging, printing no answer): a registry that asks no credentials needs none of it, as ORAS asks a helper only when
 * challenged. The auth session then goes on anonymous and gives this error as the answer to a 401 or 403.
 */
const UNANSWERED = errorMark();

/** `err`, marked as a credential source that could not answer (see isUnanswered). */
export const unanswered = UNANSWERED.mark;
export const isUnanswered = UNANSWERED.has;

/**
 * Errors of a source that could not answer where a later source of the chain may answer instead (a Docker config's
 * default store for an ECR host, whose token packpub mints itself): chainProviders goes on, and says this one's error
 * beside a later source's failure, or throws it when no later source answers.
 */
const PASSABLE = errorMark();

/** `err`, marked as passable to the next source (see above). */
export const passable = PASSABLE.mark;
export const isPassable = PASSABLE.has;
