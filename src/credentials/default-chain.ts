import { chainProviders, staticProvider } from './chain.js';
import type { CredentialHelperOptions } from './cred-helper.js';
import { dockerConfigProvider } from './docker-config.js';
import { envCredential } from './env.js';
import { awsFilesOf } from '../aws/ecr-sdk.js';
import { ecrCredentialProvider, type EcrTokenProviderOptions } from './ecr-token.js';
import { ecrPublicCredentialProvider } from './ecr-public-token.js';
import type { Credential, CredentialProvider } from './types.js';

export interface DefaultChainOptions {
  /** --username (with --password-stdin). */
  username?: string;
  password?: string;
  /** A credential given explicitly (e.g. a copy side's PACKPUB_FROM_USERNAME): first, named by its `source`. */
  credential?: Credential;
  /** The credential a configuration file names for this target: after the environment, before the Docker config. */
  file?: Credential;
  env?: NodeJS.ProcessEnv;
  /** --registry-config: a Docker config.json to read instead of the default. */
  registryConfig?: string;
  /** ECR token exchange settings (used only for ECR hosts). */
  ecrEndpoint?: string;
  awsProfile?: string;
  awsRoleArn?: string;
  /**
   * The AWS identity was named for this target (a role or profile given to packpub): on an ECR host the token minted
   * with it is asked for before the Docker config, whose token (a `docker login` of another identity, the ecr-login
   * helper on the default chain) was used instead, and the named identity only for the ECR API calls.
   */
  ecrFirst?: boolean;
  /**
   * Mint ECR Public tokens (public.ecr.aws) with the AWS identity (credentials/ecr-public-token.ts): for a target of
   * ECR Public (openTarget), not for the images a check looks up there, which are public: the SDK's credential chain
   * would be asked on every such run (on a machine without AWS credentials it probes the EC2 instance metadata).
   */
  ecrPublic?: boolean;
  /** Credential helper process settings (timeout, a custom runner). */
  helper?: Omit<CredentialHelperOptions, 'configuredIn'>;
  /** ECR token provider extras (injectable clock or token source, for tests and embedding). */
  ecr?: Pick<EcrTokenProviderOptions, 'now' | 'fetchToken' | 'clients' | 'connection'>;
}

/**
 * The documented credential chain, first answer wins:
 * flags -> environment (PACKPUB_USERNAME / PACKPUB_PASSWORD) -> the configuration file's auth -> Docker config
 * (`auths`, `credHelpers`, `credsStore`) -> ECR (ECR hosts only) -> ECR Public (public.ecr.aws, a token minted with the
 * AWS identity, when it gets one) -> anonymous. Half of the environment's pair
 * (envCredential) throws USAGE here, before any request.
 * To add a provider of your own, compose: `chainProviders(myProvider, defaultCredentialChain(options))`.
 */
export function defaultCredentialChain(options: DefaultChainOptions = {}): CredentialProvider {
  const env = options.env ?? process.env;
  const providers: CredentialProvider[] = [];
  if (options.username !== undefined || options.password !== undefined) {
    providers.push(staticProvider('flags', { username: options.username ?? '', password: options.password ?? '' }));
  }
  if (options.credential !== undefined) providers.push(staticProvider(options.credential.source ?? 'flags', options.credential));
  // Read (and a half-set pair refused) only when no credential before it answers.
  const fromEnv = providers.length === 0 ? envCredential(env) : undefined;
  if (fromEnv !== undefined) providers.push(staticProvider('environment', fromEnv));
  if (options.file !== undefined) providers.push(staticProvider(options.file.source ?? 'configuration file', options.file));
  const docker = dockerConfigProvider({
    env,
    ...(options.registryConfig === undefined ? {} : { registryConfig: options.registryConfig }),
    ...(options.helper === undefined ? {} : { helper: options.helper }),
  });
  const ecr = ecrCredentialProvider({
    ...(options.ecrEndpoint === undefined ? {} : { endpoint: options.ecrEndpoint }),
    ...(options.awsProfile === undefined ? {} : { awsProfile: options.awsProfile }),
    ...(options.awsRoleArn === undefined ? {} : { awsRoleArn: options.awsRoleArn }),
    // The SDK reads the process's environment: the files `env` names are handed to it, and its calls go through the
    // proxy `env` names (unless the caller's clients, or connection, say how).
    ...awsFilesOf(env),
    connection: { env },
    ...options.ecr,
  });
  // ECR Public's token (public.ecr.aws only), minted with the same AWS identity; none without AWS credentials.
  const ecrPublic =
    options.ecrPublic === true
      ? [ecrPublicCredentialProvider({ env, ...(options.awsProfile === undefined ? {} : { awsProfile: options.awsProfile }), ...(options.ecr?.clients === undefined ? {} : { notes: options.ecr.clients, trust: options.ecr.clients.connection.trust }) })]
      : [];
  // The ECR providers answer only for their hosts: any other host still reaches the Docker config.
  providers.push(...(options.ecrFirst === true ? [ecr, ...ecrPublic, docker] : [docker, ecr, ...ecrPublic]));
  return chainProviders(...providers);
}
