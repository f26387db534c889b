import { hostName } from '../oci/reference.js';

export interface EcrHost {
  /** 12-digit AWS account id. */
  accountId: string;
  /** Region taken from the host name, never from the environment. */
  region: string;
  /** `dkr.ecr-fips` / `dkr-ecr-fips` hosts. */
  fips: boolean;
  /** `amazonaws.com`, `amazonaws.com.cn`, `on.aws` (dual-stack), `sc2s.sgov.gov`, ... */
  dnsSuffix: string;
  /** Dual-stack (IPv4 + IPv6) endpoint: `<acct>.dkr-ecr.<region>.on.aws`. */
  dualStack: boolean;
}

// amazon-ecr-credential-helper's ecrPattern (registries.md): account, -fips, region, DNS suffix.
// Anchored at both ends, so look-alikes such as `...amazonaws.com.evil.example` never match.
const ECR_HOST_RE =
  /^(\d{12})\.dkr[.-]ecr(-fips)?\.([a-zA-Z0-9][a-zA-Z0-9-_]*)\.(amazonaws\.(?:com(?:\.cn)?|eu)|on\.(?:aws|amazonwebservices\.com\.cn)|sc2s\.sgov\.gov|c2s\.ic\.gov|cloud\.adc-e\.uk|csp\.hci\.ic\.gov)$/;

/**
 * Parse an ECR private registry host (with or without `:port`); undefined for any other host.
 * Host names are case-insensitive, so the match is made on the lowercased name.
 */
export function parseEcrHost(host: string): EcrHost | undefined {
  const m = ECR_HOST_RE.exec(hostName(host.trim()));
  if (m === null) return undefined;
  return {
    accountId: m[1] ?? '',
    fips: m[2] !== undefined,
    region: m[3] ?? '',
    dnsSuffix: m[4] ?? '',
    dualStack: (m[4] ?? '').startsWith('on.'),
  };
}

export function isEcrHost(host: string): boolean {
  return parseEcrHost(host) !== undefined;
}

/**
 * Amazon ECR Public's registry host (targets/ecr-public.ts has its store). Here, beside isEcrHost, so that opening a
 * target asks it without loading the ECR Public store, and with it the registry client and undici, at the start of
 * every push (before bin/packpub.js sets its V8 flags, which must hold when undici's parser is compiled: issue 16).
 */
export const ECR_PUBLIC_HOST = 'public.ecr.aws';

export function isEcrPublicHost(host: string): boolean {
  return hostName(host) === ECR_PUBLIC_HOST;
}
