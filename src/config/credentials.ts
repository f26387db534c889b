import { defaultCredentialChain } from '../credentials/default-chain.js';
import type { Credential, CredentialProvider } from '../credentials/types.js';

// Apart from targets.ts, which the CLI loads on every target command: the chain's modules (Docker config, ECR
// tokens, the AWS SDK's wrapper) then load only when a registry is opened (targets/open.ts), not for an OCI layout.

export interface TargetCredentialOptions {
  env: NodeJS.ProcessEnv;
  /** Credential from the configuration file; used when the environment has none. */
  file?: Credential;
  registryConfig?: string;
  ecrEndpoint?: string;
  awsProfile?: string;
  awsRoleArn?: string;
}

/**
 * The chain for a configured target: environment (PACKPUB_USERNAME/PACKPUB_PASSWORD) -> the file's
 * auth -> Docker config -> ECR -> anonymous (the default chain with the file's credential in it).
 * openTarget builds the same chain from configTargetOptions' data; this is for library callers.
 */
export function targetCredentials(options: TargetCredentialOptions): CredentialProvider {
  return defaultCredentialChain(options);
}
