import type { EcrClients } from '../aws/ecr-sdk.js';
import { defaultCredentialChain } from '../credentials/default-chain.js';
import type { CredentialProvider } from '../credentials/types.js';
import type { OpenTargetOptions } from './open.js';
import { awsConnectionOf } from './options.js';

/**
 * The credential chain a registry target sends from when the caller gives no provider: the explicit
 * login, PACKPUB_USERNAME / PACKPUB_PASSWORD, the configuration file's credential, the Docker config,
 * then ECR tokens (ECR hosts only), ECR Public tokens minted with the AWS identity (`ecrPublic`: for a target of
 * public.ecr.aws, which openTarget asks; not for the images a check looks up there), else anonymous.
 */
export function targetCredentialChain(options: OpenTargetOptions, ecrClients?: EcrClients, ecrPublic = false): CredentialProvider {
  return defaultCredentialChain({
    env: options.env ?? process.env,
    ...(options.login === undefined ? {} : { credential: options.login }),
    ...(options.fileLogin === undefined ? {} : { file: options.fileLogin }),
    ...(options.registryConfig === undefined ? {} : { registryConfig: options.registryConfig }),
    ...(options.ecrEndpoint === undefined ? {} : { ecrEndpoint: options.ecrEndpoint }),
    ...(options.awsProfile === undefined ? {} : { awsProfile: options.awsProfile }),
    ...(options.awsRoleArn === undefined ? {} : { awsRoleArn: options.awsRoleArn }),
    ...(options.awsIdentityNamed === true ? { ecrFirst: true } : {}),
    // Without the target's clients (a caller resolving its credentials alone), ECR tokens connect as its clients would.
    ecr: ecrClients === undefined ? { connection: awsConnectionOf(options) } : { clients: ecrClients },
    ...(ecrPublic ? { ecrPublic } : {}),
    // A credential helper waits as long as a request does (--request-timeout): it waited 60 s whatever was asked.
    ...(options.retry?.requestTimeoutMs === undefined ? {} : { helper: { timeoutMs: options.retry.requestTimeoutMs } }),
  });
}
