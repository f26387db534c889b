import type { ECRClient } from '@aws-sdk/client-ecr';
import type { EcrHost } from './ecr-host.js';
import { PackpubError } from '../errors.js';

/*
 * Every AWS SDK touch: loading the SDK (only when an ECR host is used, so CLI start-up does not pay for
 * it), opening an ECR API client for a host, and turning SDK errors into PackpubErrors.
 */

export interface EcrAwsOptions {
  /** ECR API endpoint URL (else the SDK reads AWS_ENDPOINT_URL_ECR, else the regional endpoint). */
  endpoint?: string;
  /** Shared-config profile (else the SDK chain: AWS_PROFILE, env keys, SSO, web identity, container, IMDS). */
  awsProfile?: string;
  /** Assume this role through STS before calling ECR (Palette's "STS" mode). */
  awsRoleArn?: string;
}

export type EcrSdk = typeof import('@aws-sdk/client-ecr');

export async function loadEcrSdk(): Promise<EcrSdk> {
  // The SDK warns on every run under Node 20 about its releases after January 2027; packpub pins its SDK
  // version and supports Node 20, so that warning would only be noise on stderr. Set it to "false" to see it.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  return import('@aws-sdk/client-ecr');
}

/**
 * The ECR API clients of one run: one per region, endpoint flavour and AWS settings, shared by the token
 * provider (GetAuthorizationToken) and the store's API calls (CreateRepository, DescribeRepositories).
 * `destroy` releases them when the run's store closes.
 */
export class EcrClients {
  private readonly opened = new Map<string, Promise<{ sdk: EcrSdk; client: ECRClient }>>();

  get(host: EcrHost, aws: EcrAwsOptions = {}): Promise<{ sdk: EcrSdk; client: ECRClient }> {
    const key = JSON.stringify([host.region, host.fips, host.dualStack, host.dnsSuffix, aws.endpoint, aws.awsProfile, aws.awsRoleArn]);
    let pending = this.opened.get(key);
    if (pending === undefined) {
      pending = openEcrClient(host, aws);
      this.opened.set(key, pending);
      pending.catch(() => this.opened.delete(key));
    }
    return pending;
  }

  destroy(): void {
    for (const pending of this.opened.values()) void pending.then(({ client }) => client.destroy(), () => undefined);
    this.opened.clear();
  }
}

/** An ECR API client for the host's region (and FIPS / dual-stack endpoint flavour), with the SDK loaded. */
export async function openEcrClient(host: EcrHost, aws: EcrAwsOptions = {}): Promise<{ sdk: EcrSdk; client: ECRClient }> {
  const [sdk, providers] = await Promise.all([loadEcrSdk(), import('@aws-sdk/credential-providers')]);
  const region = host.region;
  const base = providers.fromNodeProviderChain({
    ...(aws.awsProfile === undefined ? {} : { profile: aws.awsProfile }),
    clientConfig: { region },
  });
  const credentials =
    aws.awsRoleArn === undefined
      ? base
      : providers.fromTemporaryCredentials({
          masterCredentials: base,
          params: { RoleArn: aws.awsRoleArn, RoleSessionName: `packpub-${Date.now()}` },
          clientConfig: { region },
        });
  const client = new sdk.ECRClient({
    region,
    credentials,
    ...(aws.endpoint === undefined || aws.endpoint === '' ? {} : { endpoint: aws.endpoint }),
    ...(host.fips ? { useFipsEndpoint: true } : {}),
    ...(host.dualStack ? { useDualstackEndpoint: true } : {}),
  });
  return { sdk, client };
}

const NO_CREDENTIALS_HINT =
  'give packpub AWS credentials: set AWS_PROFILE (or --aws-profile), run "aws sso login", set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or configure OIDC (web identity) in CI';

/**
 * Turn an SDK error into a PackpubError that says what to do. `action` is the IAM action the call needs
 * (e.g. `ecr:CreateRepository`): a missing permission often surfaces vaguely, so name it.
 */
export function mapAwsError(err: unknown, action: string, context: { host: string; endpoint?: string; roleArn?: string }): PackpubError {
  if (err instanceof PackpubError) return err;
  const e = err as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? '';
  const message = (e.message ?? String(err)).split('\n')[0] ?? '';
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return new PackpubError('CREDENTIALS', `ECR provider: no AWS credentials found to call ${action} for ${context.host}`, {
      hint: NO_CREDENTIALS_HINT,
      cause: err,
    });
  }
  if (context.roleArn !== undefined && /AssumeRole|sts:/i.test(`${name} ${message}`)) {
    return new PackpubError('AUTH', `ECR provider: cannot assume role ${context.roleArn}: ${message}`, {
      hint: "allow sts:AssumeRole for your identity and check the role's trust policy",
      cause: err,
    });
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied' || e.$metadata?.httpStatusCode === 403) {
    return new PackpubError('AUTH', `AWS denied ${action} for ${context.host}: ${message}`, {
      hint: `grant ${action} to the IAM identity packpub runs as (and check the repository policy)`,
      cause: err,
    });
  }
  if (['UnrecognizedClientException', 'InvalidSignatureException', 'ExpiredTokenException', 'InvalidClientTokenId', 'ExpiredToken'].includes(name)) {
    return new PackpubError('CREDENTIALS', `ECR provider: AWS rejected the credentials (${name}): ${message}`, {
      hint: 'refresh them ("aws sso login", new keys, or re-run the OIDC step), or pick another profile with --aws-profile',
      cause: err,
    });
  }
  const netCode = e.code ?? (err as { cause?: { code?: string } }).cause?.code;
  if (name === 'TimeoutError' || (netCode !== undefined && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT|EHOSTUNREACH)$/.test(netCode))) {
    const where = context.endpoint ?? 'the regional ECR endpoint';
    return new PackpubError('NETWORK', `cannot reach the ECR API at ${where} (${netCode ?? name})`, {
      hint: 'check the network, proxy settings, --ecr-endpoint / AWS_ENDPOINT_URL_ECR and the VPC endpoint for ECR',
      cause: err,
    });
  }
  return new PackpubError('REGISTRY', `ECR API call for ${action} failed (${name || 'error'}): ${message}`, {
    hint: 'run again with --debug for the cause',
    cause: err,
  });
}
