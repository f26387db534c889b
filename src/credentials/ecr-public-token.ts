import { isEcrPublicHost } from '../aws/ecr-host.js';
import { PackpubError } from '../errors.js';
import { registerSecret } from '../util/redact.js';
import type { AwsConnection, EcrClients } from '../aws/ecr-sdk.js';
import { awsIdentityConfigured, EcrPublicApi, NO_AWS_IDENTITY } from '../aws/ecr-public-api.js';
import { decodeEcrToken, mintingProvider, type EcrToken } from './ecr-token.js';
import type { CredentialProvider } from './types.js';

/*
 * ECR Public's registry password, minted as `aws ecr-public get-login-password` mints it: GetAuthorizationToken of the
 * ECR Public API (us-east-1; aws/ecr-public-api.ts), whose `authorizationToken` is base64 `AWS:<password>`, valid 12
 * hours; asked only where an AWS identity is configured (awsIdentityConfigured). Where it gets none (no AWS credentials on the SDK's chain, an identity without ecr-public:GetAuthorizationToken,
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
  /** The target's CA file's trust store, for the API's connections (aws/ecr-sdk.ts AwsConnection). */
  trust?: AwsConnection['trust'];
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

async function fetchEcrPublicToken(options: EcrPublicTokenOptions, now: () => number): Promise<EcrToken | undefined> {
  if (!awsIdentityConfigured(options.env ?? process.env, options.awsProfile)) {
    if (options.notes !== undefined) options.notes.ecrPublicTokenRefusal = new PackpubError('CREDENTIALS', `${NO_AWS_IDENTITY}; an EC2 instance role alone is not asked for ECR Public tokens`);
    return undefined;
  }
  const api = new EcrPublicApi({ env: options.env ?? process.env, ...(options.awsProfile === undefined ? {} : { awsProfile: options.awsProfile }), trust: options.trust });
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
