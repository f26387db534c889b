export interface EcrHost {
  accountId: string;
  region: string;
  fips: boolean;
  dnsSuffix: string;
}

/** Parse an ECR registry host (amazon-ecr-credential-helper pattern); undefined for any other host. */
export function parseEcrHost(_host: string): EcrHost | undefined {
  return undefined;
}
