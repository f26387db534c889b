import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isEcrPublicHost } from '../aws/ecr-host.js';
import { PackpubError } from '../errors.js';
import { registerSecret } from '../util/redact.js';
import type { EcrClients } from '../aws/ecr-sdk.js';
import { decodeEcrToken, mintingProvider, type EcrToken } from './ecr-token.js';
import type { CredentialProvider } from './types.js';

/*
 * ECR Public's registry password, minted as `aws ecr-public get-login-password` mints it: GetAuthorizationToken of the
 * ECR Public API (us-east-1; aws/ecr-public-api.ts), whose `authorizationToken` is base64 `AWS:<password>`, valid 12
 * hours; asked only where an AWS identity is configured (identityConfigured). Where it gets none (no AWS credentials on the SDK's chain, an identity without ecr-public:GetAuthorizationToken,
 * no route to the API), the run goes on anonymous, as before: public repositories are read anonymously, and the run may
 * only read (a CI role with ECR rights alone, an air-gapped runner reaching the registry through a mirror). Why is kept
 * on the run's EcrClients (`notes`), for the ECR Public store to say when a write is then refused.
 */

export interface EcrPublicTokenOptions {
  env?: NodeJS.ProcessEnv;
  awsProfile?: string;
  now?: () => number;
  /** Where why no token was got is noted (EcrClients.ecrPublicTokenRefusal). */
  notes?: Pick<EcrClients, 'ecrPublicTokenRefusal'>;
}

export function ecrPublicCredentialProvider(options: EcrPublicTokenOptions = {}): CredentialProvider {
  const now = options.now ?? Date.now;
  return mintingProvider<true>({
    name: 'ECR Public',
    now,
    hostOf: (host) => (isEcrPublicHost(host) ? true : undefined),
    keyOf: () => 'public.ecr.aws',
    fetch: () => fetchEcrPublicToken(options, now),
  });
}

/** What names an AWS identity without asking the network: the SDK chain's sources but the EC2 instance metadata. */
const IDENTITY_VARIABLES = ['AWS_ACCESS_KEY_ID', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI'];

/**
 * Whether an AWS identity is configured where the SDK reads it first: environment variables (keys, a profile, web
 * identity (EKS, GitHub OIDC), container credentials (ECS, EKS Pod Identity, CodeBuild)), a shared credentials or config
 * file, or --aws-profile. Not the EC2 instance metadata: on a machine without AWS credentials the SDK's chain ends
 * probing it (up to its 1 s timeout) on every run that targets public.ecr.aws anonymously, as such runs did not before.
 * An EC2 instance role alone mints no ECR Public token (packpub login does; repository creation still uses it).
 */
function identityConfigured(options: EcrPublicTokenOptions): boolean {
  if (options.awsProfile !== undefined) return true;
  const envs = [options.env ?? process.env, process.env];
  if (envs.some((env) => IDENTITY_VARIABLES.some((name) => (env[name] ?? '') !== ''))) return true;
  return envs.some((env) => {
    // Where the SDK reads them: the file a variable names, else the one in ~/.aws.
    const home = env['HOME'] ?? '';
    const file = (name: string, base: string) => (env[name] ?? '') !== '' ? env[name] : home === '' ? undefined : join(home, '.aws', base);
    return [file('AWS_SHARED_CREDENTIALS_FILE', 'credentials'), file('AWS_CONFIG_FILE', 'config')].some((f) => f !== undefined && existsSync(f));
  });
}

async function fetchEcrPublicToken(options: EcrPublicTokenOptions, now: () => number): Promise<EcrToken | undefined> {
  if (!identityConfigured(options)) {
    if (options.notes !== undefined) {
      options.notes.ecrPublicTokenRefusal = new PackpubError('CREDENTIALS', 'no AWS credentials in the environment, a shared credentials or config file, or --aws-profile; an EC2 instance role alone is not asked for ECR Public tokens');
    }
    return undefined;
  }
  // Loaded when a public.ecr.aws target asks for credentials, not with the credential chain of every run.
  const { EcrPublicApi } = await import('../aws/ecr-public-api.js');
  const api = new EcrPublicApi({ env: options.env ?? process.env, ...(options.awsProfile === undefined ? {} : { awsProfile: options.awsProfile }) });
  try {
    let data: { authorizationToken?: string; expiresAt?: Date };
    try {
      data = await api.authorizationToken();
    } catch (err) {
      if (options.notes !== undefined) options.notes.ecrPublicTokenRefusal = err instanceof PackpubError ? err : new PackpubError('CREDENTIALS', String(err));
      return undefined;
    }
    const decoded = data.authorizationToken === undefined ? { problem: 'is missing' } : decodeEcrToken(data.authorizationToken);
    if ('problem' in decoded) {
      // An answer that is no token: the endpoint is not the ECR Public API; said, not read past.
      throw new PackpubError('CREDENTIALS', `ECR Public GetAuthorizationToken returned a token that ${decoded.problem}`, {
        hint: 'check AWS_ENDPOINT_URL_ECR_PUBLIC points at the ECR Public API (a proxy or another service may answer instead)',
      });
    }
    registerSecret(decoded.password);
    if (options.notes !== undefined) options.notes.ecrPublicTokenRefusal = undefined;
    const expiresAt = data.expiresAt instanceof Date && !Number.isNaN(data.expiresAt.getTime()) ? data.expiresAt : new Date(now() + 12 * 3600_000);
    return { ...decoded, expiresAt };
  } finally {
    api.close();
  }
}
