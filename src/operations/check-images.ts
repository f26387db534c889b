import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { chainProviders } from '../credentials/chain.js';
import { dockerConfigProvider } from '../credentials/docker-config.js';
import { ecrCredentialProvider } from '../credentials/ecr-token.js';
import type { CredentialProvider } from '../credentials/types.js';
import { isPackpubError, type ErrorCode } from '../errors.js';
import type { Finding } from '../pack/findings.js';
import { loadPack, PACK_FILES } from '../pack/model.js';
import { packRepository } from '../pack/naming.js';
import { parseRegistryLocation } from '../oci/reference.js';
import { ProxyError } from '../net/proxy.js';
import { RegistryClient } from '../registry/client.js';
import type { RegistryClientOptions } from '../registry/stack.js';
import { targetCredentialChain } from '../targets/credential-chain.js';
import type { OpenTargetOptions, PackTarget } from '../targets/open.js';
import { awsConnectionOf } from '../targets/options.js';
import { summarize, type PackResult, type PushReport } from './push-report.js';
import { mapConcurrent } from '../util/concurrency.js';

/** An image reference as Docker reads it: `nginx` is `docker.io/library/nginx:latest`. */
export interface ImageRef {
  /** Registry host as written after normalisation (`docker.io` for Docker Hub). */
  host: string;
  repository: string;
  /** Tag or digest (`sha256:...`); `latest` when neither is given. */
  reference: string;
  /** The normalised reference, for messages. */
  full: string;
}

/** Docker's rules: the first segment is a host when it has a dot or a colon or is `localhost`; Docker Hub's official images live under `library/`. */
export function normalizeImage(image: string): ImageRef {
  let rest = image.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const slash = rest.indexOf('/');
  const first = slash < 0 ? '' : rest.slice(0, slash);
  let host = 'docker.io';
  let repository = rest;
  if (first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    host = first;
    repository = rest.slice(slash + 1);
  }
  if (host === 'index.docker.io') host = 'docker.io';
  if (host === 'docker.io' && !repository.includes('/')) repository = `library/${repository}`;
  const reference = digest ?? tag ?? 'latest';
  const full = `${host}/${repository}${digest !== undefined ? `@${digest}` : `:${reference}`}`;
  return { host, repository, reference, full };
}

/** The images a pack lists in values.yaml `pack.content.images[].image` (none when the file or list is absent). */
export async function packImages(dir: string): Promise<string[]> {
  let doc: unknown;
  try {
    doc = parse(await readFile(join(dir, PACK_FILES.values), 'utf8'));
  } catch {
    return []; // unreadable values.yaml is the validator's finding, not this check's
  }
  const images = (doc as { pack?: { content?: { images?: unknown } } } | null)?.pack?.content?.images;
  if (!Array.isArray(images)) return [];
  return images.flatMap((e: unknown) => {
    const image = (e as { image?: unknown } | null)?.image;
    return typeof image === 'string' && image.trim() !== '' ? [image.trim()] : [];
  });
}

export type ImageStatus = { status: 'found' } | { status: 'missing' } | { status: 'gated' } | { status: 'unreachable' } | { status: 'unchecked'; reason: string };

export interface ImageCheckOptions {
  /**
   * The environment the check reads (default the process's): the Docker config's place, the proxy variables
   * (HTTPS_PROXY / HTTP_PROXY / NO_PROXY) and the ECR API endpoint variables, as the run's targets read theirs.
   */
  env?: NodeJS.ProcessEnv;
  /** Images resolved at once (default 8). */
  concurrency?: number;
  /** Attempts per request (default 2: an image check should not wait out a long retry). */
  attempts?: number;
  /**
   * How to reach particular hosts (credentials, TLS), by `host[:port]` as images name it: the run's own
   * registry targets (targetRegistries). Every other host gets the default chain; a host's options are
   * used for that host only.
   */
  registries?: ReadonlyMap<string, Omit<RegistryClientOptions, 'host'>>;
}

/**
 * The connection of each registry target, keyed by its host: an image hosted on the registry the run
 * publishes to is checked with the target's own credentials (flags, --password-stdin, packpub.yaml) and
 * TLS settings. The first target of a host wins.
 */
export function targetRegistries(targets: OpenTargetOptions[]): Map<string, Omit<RegistryClientOptions, 'host'>> {
  const out = new Map<string, Omit<RegistryClientOptions, 'host'>>();
  for (const options of targets) {
    if (options.registry === undefined) continue;
    const { host } = parseRegistryLocation(options.registry);
    if (!out.has(host)) out.set(host, { ...options, credentials: options.credentials ?? targetCredentialChain(options) });
  }
  return out;
}

/** How long an image check waits for an answer (a registry's, a credential helper's). */
const IMAGE_REQUEST_TIMEOUT_MS = 20_000;

/**
 * Credentials for an image host that is not a target of the run: the Docker config (and ECR tokens on ECR
 * hosts), else anonymous. Never the run's own credentials (flags, PACKPUB_USERNAME / PACKPUB_PASSWORD,
 * packpub.yaml): those are meant for the target registry and would go to every image host.
 */
function imageHostCredentials(env: NodeJS.ProcessEnv): CredentialProvider {
  // An ECR API endpoint of plain HTTP off this machine (AWS_ENDPOINT_URL_ECR) is refused as for a target: the image is 'not checked'.
  // A credential helper gets the check's request timeout.
  return chainProviders(dockerConfigProvider({ env, helper: { timeoutMs: IMAGE_REQUEST_TIMEOUT_MS } }), ecrCredentialProvider({ refusePlainHttpIn: env, connection: awsConnectionOf({ env }) }));
}

/**
 * Resolves images by HEAD of their manifest with packpub's registry client and default credential chain
 * (anonymous where the registry allows it, else the Docker config), or a target's own connection for its
 * host (`registries`). Each distinct image is asked once per
 * checker; hosts share one client.
 */
export class ImageChecker {
  private readonly results = new Map<string, Promise<ImageStatus>>();
  private readonly clients = new Map<string, RegistryClient>();
  private imageCredentials: CredentialProvider | undefined;
  private readonly options: ImageCheckOptions;

  constructor(options: ImageCheckOptions = {}) {
    this.options = options;
  }

  check(image: string): Promise<ImageStatus> {
    const ref = normalizeImage(image);
    let found = this.results.get(ref.full);
    if (found === undefined) {
      found = this.resolve(ref);
      this.results.set(ref.full, found);
    }
    return found;
  }

  private client(host: string): RegistryClient {
    let client = this.clients.get(host);
    if (client === undefined) {
      const env = this.options.env ?? process.env;
      const own = this.options.registries?.get(host);
      client = RegistryClient.create({
        // One provider for every image host: a credential helper that hung is not asked again for each of them.
        ...(own ?? { credentials: (this.imageCredentials ??= imageHostCredentials(env)) }),
        // HTTPS_PROXY / HTTP_PROXY / NO_PROXY of the caller's environment (a target's own, else this checker's), as
        // every other client of the run reads them: not the process's, which a library caller's may not be.
        env: own?.env ?? env,
        host: host === 'docker.io' ? 'registry-1.docker.io' : host,
        retry: { attempts: this.options.attempts ?? 2, requestTimeoutMs: IMAGE_REQUEST_TIMEOUT_MS, deadlineMs: 60_000 },
      });
      this.clients.set(host, client);
    }
    return client;
  }

  private async resolve(ref: ImageRef): Promise<ImageStatus> {
    try {
      await this.client(ref.host).headManifest(ref.repository, ref.reference);
      return { status: 'found' };
    } catch (err) {
      if (isPackpubError(err, 'NOT_FOUND')) return { status: 'missing' };
      if (isPackpubError(err, 'AUTH')) return { status: 'gated' };
      // A proxy's refusal (credentials it wants, a host it will not tunnel to) is said as the proxy's: "<host>
      // unreachable" sent the user after every image host while the proxy setting was what to fix.
      if (isPackpubError(err, 'NETWORK')) return err instanceof ProxyError || (err as { cause?: unknown }).cause instanceof ProxyError ? { status: 'unchecked', reason: (err as Error).message } : { status: 'unreachable' };
      return { status: 'unchecked', reason: (err as Error).message };
    }
  }

  /** Findings for one pack folder's images: an error per missing image, an info finding per image not checked (never fails a run). */
  async findings(dir: string): Promise<Finding[]> {
    const images = await packImages(dir);
    const statuses = await mapConcurrent(images, this.options.concurrency ?? 8, (image) => this.check(image));
    const out: Finding[] = [];
    images.forEach((image, i) => {
      const s = statuses[i];
      const ref = normalizeImage(image);
      const base = { file: PACK_FILES.values, path: `pack.content.images[${i}]` };
      if (s === undefined || s.status === 'found') return;
      if (s.status === 'missing') {
        out.push({ ...base, severity: 'error', rule: 'image-not-found', message: `image ${image} does not exist (${ref.full}: manifest unknown); fix the tag or publish the image` });
      } else if (s.status === 'gated') {
        out.push({ ...base, severity: 'info', rule: 'image-gated', message: `image ${image}: gated, not checked (${ref.host} denied access; log in with docker login to check it)` });
      } else if (s.status === 'unreachable') {
        out.push({ ...base, severity: 'info', rule: 'image-unchecked', message: `image ${image}: cannot check: ${ref.host} unreachable` });
      } else {
        out.push({ ...base, severity: 'info', rule: 'image-unchecked', message: `image ${image}: cannot check: ${s.reason}` });
      }
    });
    return out;
  }

  async close(): Promise<void> {
    for (const c of this.clients.values()) await c.close();
  }
}

/** The `error.code` of a push refused by --check-images (docs/report.md). */
export const IMAGE_NOT_FOUND: ErrorCode = 'IMAGE_NOT_FOUND';

/**
 * The report of a push that --check-images refused before publishing anything: one `failed` result per
 * pack and target with code IMAGE_NOT_FOUND, carrying the pack's image findings. A pack naming a missing
 * image says which; the others say they were held back by it.
 */
export async function imageRefusalReport(packs: string[], findings: ReadonlyMap<string, Finding[]>, targets: PackTarget[], durationMs: number): Promise<PushReport> {
  const results: PackResult[] = [];
  const culprits = packs.filter((dir) => findings.get(dir)?.some((f) => f.severity === 'error') === true).length;
  for (const dir of packs) {
    const own = findings.get(dir) ?? [];
    const missing = own.filter((f) => f.severity === 'error').map((f) => f.message);
    const error =
      missing.length > 0
        ? { code: IMAGE_NOT_FOUND, message: missing.length === 1 ? `${missing[0]}` : `${missing.length} images do not exist: ${missing.join('; ')}` }
        : {
            code: IMAGE_NOT_FOUND,
            message: `not published because ${culprits === 1 ? 'another pack names an image that does not exist' : 'other packs name images that do not exist'}`,
            hint: 'fix the images named in the other packs; --check-images publishes nothing while one is missing',
          };
    const id = await loadPack(dir).then(
      (p) => ({ name: p.name, version: p.version }),
      () => undefined, // pack.json problems are validation's to report; the result names the folder
    );
    for (const target of targets) {
      results.push({
        dir,
        ...(id === undefined
          ? {}
          : { ...id, reference: target.store.reference(packRepository(target.basePath, id.name), id.version), target: target.display }),
        status: 'failed',
        uploadedBytes: 0,
        durationMs: 0,
        error,
        ...(own.length === 0 ? {} : { findings: own }),
      });
    }
  }
  return { target: targets.map((t) => t.display).join(', '), results, summary: summarize(results), durationMs, aborted: false };
}

/** A result with the image findings of its pack added (the `info` notes of a run that went on). */
export function withImageFindings(result: PackResult, findings: ReadonlyMap<string, Finding[]>): PackResult {
  const own = findings.get(result.dir);
  return own === undefined || own.length === 0 ? result : { ...result, findings: [...(result.findings ?? []), ...own] };
}
