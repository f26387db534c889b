import { isEcrHost, isEcrPublicHost } from '../aws/ecr-host.js';
import { isDockerHubHost } from '../credentials/registry-key.js';
import type { Credential, CredentialProvider } from '../credentials/types.js';
import { PackpubError } from '../errors.js';
import { parseRegistryLocation } from '../oci/reference.js';
import { PACKS_NAMESPACE } from '../pack/naming.js';
import type { ClientDeps } from '../registry/stack.js';
import { OciLayoutStore } from './oci-layout.js';
import { awsConnectionOf, DEFAULT_OCI_LAYOUT, type RegistryConnectionOptions } from './options.js';
import type { ArtifactStore, DeletableStore, ReadableStore, WritableStore } from './artifact-store.js';

/** A target an operation only reads from. */
export type ReadableTarget = PackTarget<ReadableStore>;
/** A target an operation publishes to. */
export type WritableTarget = PackTarget<WritableStore>;
/** A target an operation removes versions from. */
export type DeletableTarget = PackTarget<DeletableStore>;

export { DEFAULT_OCI_LAYOUT };

/** A store and where packs live in it; `S` narrows what an operation may do to it (ReadableStore, WritableStore). */
export interface PackTarget<S extends Pick<ArtifactStore, 'kind' | 'location' | 'reference'> = ArtifactStore> {
  store: S;
  /** Base content path below the host ('' for a layout or a registry root). */
  basePath: string;
  /** For messages: `oci-layout ./oci-packs` or `registry harbor.example.com/spectro-oci-registry`. */
  display: string;
  /** For hints that name a command: the flags that chose this target on the command line (` --registry h/b`); none: the default. */
  flags?: string;
}

export interface OpenTargetOptions extends Omit<RegistryConnectionOptions, 'host' | 'credentials'> {
  /** Where credentials come from; when undefined, the default chain (defaultCredentialChain) for this target. */
  credentials?: CredentialProvider;
  /** For the default chain: a credential given explicitly (flags, a copy side's environment), tried first. */
  login?: Credential;
  /** For the default chain: the credential a configuration file names, tried after the environment. */
  fileLogin?: Credential;
  /**
   * For the default chain: the AWS identity was named for this target (--aws-role-arn, --aws-profile, or packpub.yaml's
   * ecr.awsRoleArn / ecr.awsProfile), so on an ECR host the token minted with it comes before a token the Docker config
   * holds (a `docker login` of another identity, an ecr-login helper on the default chain).
   */
  awsIdentityNamed?: boolean;
  /** For the default chain: the Docker config file to read instead of the default one. */
  registryConfig?: string;
  /** `HOST[:PORT]/BASE-PATH`; when undefined the OCI layout is used. */
  registry?: string;
  /** OCI layout directory (default ./oci-packs when no registry is given). */
  ociLayout?: string;
}

/**
 * A registry named down to `spectro-packs/archive` (the ORAS habit of naming the full repository) would
 * publish to `<base>/spectro-packs/archive/spectro-packs/archive/<name>`, where Palette never looks.
 */
export function refusePacksNamespace(host: string, basePath: string): void {
  const segments = basePath.split('/');
  const at = segments.findIndex((s, i) => `${s}/${segments[i + 1] ?? ''}` === PACKS_NAMESPACE);
  if (at < 0) return;
  const base = segments.slice(0, at).join('/');
  const corrected = base === '' ? host : `${host}/${base}`;
  throw new PackpubError('USAGE', `the registry ${host}/${basePath} names the packs repository itself; give only HOST[:PORT]/BASE-PATH`, {
    hint: `use ${corrected}: packpub adds /${PACKS_NAMESPACE}/<name> itself`,
  });
}

/**
 * Docker Hub holds repositories of two segments, `<namespace>/<name>` (docker/hub-feedback#1404, open since 2018):
 * a pack repository, `<base>/spectro-packs/archive/<name>`, cannot be there, and a push to one is answered "denied:
 * requested access to the resource is denied" (moby#31760), which read as refused credentials. Said before any request.
 */
export function refuseDockerHub(host: string): void {
  if (!isDockerHubHost(host)) return;
  throw new PackpubError('USAGE', `${host} (Docker Hub) holds repositories of two segments only (<namespace>/<name>): packs go to <base>/spectro-packs/archive/<name>, which it cannot hold`, {
    hint: 'publish packs to a registry that takes nested repository paths (Harbor, ECR, GHCR, Zot, a CNCF distribution registry); Docker Hub answers such a push "requested access to the resource is denied"',
  });
}

/**
 * Open the target named by the options: a registry when `registry` is set, else the local OCI layout.
 * This is the one place where a registry target gets its credentials (the default chain unless given) and
 * its HTTP stack (transport, retry, auth; built once by the registry store). `deps` injects a transport
 * or a retry clock (tests, embedders).
 */
export async function openTarget(options: OpenTargetOptions, deps: ClientDeps = {}): Promise<PackTarget> {
  if (options.registry !== undefined && options.ociLayout !== undefined) {
    throw new PackpubError('USAGE', 'give either --registry or --oci-layout, not both');
  }
  if (options.registry === undefined) {
    // "" (an unset variable passed on) was the working directory: a push wrote blobs/ and index.json among its files.
    if (options.ociLayout?.trim() === '') throw new PackpubError('USAGE', 'openTarget: ociLayout is empty', { hint: `give the layout folder, or leave ociLayout out for ${DEFAULT_OCI_LAYOUT}` });
    const dir = options.ociLayout ?? DEFAULT_OCI_LAYOUT;
    return { store: new OciLayoutStore(dir), basePath: '', display: targetDisplay(options) };
  }
  const { host, basePath } = parseRegistryLocation(options.registry);
  refusePacksNamespace(host, basePath);
  refuseDockerHub(host);
  // The AWS SDK's wrapper and the credential chain (Docker config, ECR tokens) load for a registry only: an OCI
  // layout needs neither (~5 ms of a CLI run's start-up, issue 16).
  const [{ EcrClients, refusePlainHttpEcrEndpoint }, { targetCredentialChain }, { openRegistryStore, openGenericRegistryStore }] = await Promise.all([
    import('../aws/ecr-sdk.js'),
    import('./credential-chain.js'),
    import('./registry-store.js'),
  ]);
  if (isEcrHost(host)) refusePlainHttpEcrEndpoint(options.ecrEndpoint, options.env ?? process.env, options.plainHttp === true, options.awsRoleArn);
  // One ECR API client per host flavour for this target, shared by the token provider and the store.
  const ecrClients = options.ecrClients ?? new EcrClients(options.retry?.requestTimeoutMs, awsConnectionOf(options));
  const credentials = options.credentials ?? targetCredentialChain(options, ecrClients, true);
  // ECR Public: no Harbor probe (a request to AWS for nothing); its own store says what a generic one could not.
  const store =
    options.type === undefined && isEcrPublicHost(host)
      ? (await import('./ecr-public.js')).openEcrPublicStore(basePath, await openGenericRegistryStore({ ...options, host, credentials, ecrClients }, deps), { ...options, ecrClients })
      : await openRegistryStore({ ...options, host, credentials, ecrClients }, deps);
  if (options.createProject === true && store.kind !== 'harbor') {
    // Dropped without a word, a Harbor packpub did not recognise (its systeminfo probe failed) then refused the push
    // into the missing project as a permission matter.
    options.warn?.(`--create-project applies to Harbor projects, and ${host} was not recognised as Harbor (${store.kind === 'ecr' ? 'it is ECR, whose repositories packpub creates unless --no-create-repositories' : 'GET /api/v2.0/systeminfo did not answer as Harbor does'}): nothing will be created; pass --registry-type harbor if it is Harbor`);
  }
  return { store, basePath, display: targetDisplay(options) };
}

/** How reports name the target (`registry <host>[/<base path>]`, `oci-layout <dir>`), also before it is opened. */
export function targetDisplay(options: Pick<OpenTargetOptions, 'registry' | 'ociLayout'>): string {
  if (options.registry === undefined) return `oci-layout ${options.ociLayout ?? DEFAULT_OCI_LAYOUT}`;
  const { host, basePath } = parseRegistryLocation(options.registry);
  return `registry ${basePath === '' ? host : `${host}/${basePath}`}`;
}
