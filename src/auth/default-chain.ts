import { chainProviders, staticProvider } from './chain.js';
import type { CredentialProvider } from './types.js';

export interface DefaultChainOptions {
  /** --username (with --password-stdin). */
  username?: string;
  password?: string;
  env?: NodeJS.ProcessEnv;
  /** --registry-config: a Docker config.json to read instead of the default. */
  registryConfig?: string;
  /** ECR token exchange settings (used only for ECR hosts). */
  ecrEndpoint?: string;
  awsProfile?: string;
  awsRoleArn?: string;
}

/**
 * The documented credential chain, first answer wins:
 * flags -> environment (PACKPUB_USERNAME / PACKPUB_PASSWORD) -> anonymous.
 */
export function defaultCredentialChain(options: DefaultChainOptions = {}): CredentialProvider {
  const env = options.env ?? process.env;
  const providers: CredentialProvider[] = [];
  if (options.username !== undefined || options.password !== undefined) {
    providers.push(staticProvider('flags', { username: options.username ?? '', password: options.password ?? '' }));
  }
  const envUser = env['PACKPUB_USERNAME'];
  const envPassword = env['PACKPUB_PASSWORD'];
  if (envUser !== undefined && envUser !== '' && envPassword !== undefined) {
    providers.push(staticProvider('environment', { username: envUser, password: envPassword }));
  }
  return chainProviders(...providers);
}
