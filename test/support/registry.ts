import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { meterLongLived } from './cpu-meter.js';
import { runChild, spawnChild, type ChildFailure, type SpawnedChild } from './spawner.js';
import { makeTestCertificates, type ClientCertificate, type TestCertificates } from './tls.js';
import type { TokenServer } from './token-server.js';

/*
 * A real CNCF distribution registry (`docker-registry`, 2.8) on 127.0.0.1 and a random port, with its own
 * config and temp storage, for integration tests. Usage:
 *
 *   const registry = await startRegistry({ auth: 'htpasswd', users: { alice: 'secret' } });
 *   afterAll(() => registry.stop());
 *   // registry.host === '127.0.0.1:<port>', plain HTTP (TLS with { tls: true }: registry.caFile)
 *
 * The temp storage is distribution's `inmemory` storage driver unless a test asks for `storage: 'filesystem'`:
 * still the real registry process, with the same storage code above its driver (uploads and their resumable
 * hash state, cross-repository mounts, manifest and tag links, deletes, the catalog, no redirects: neither
 * driver can sign a URL); only where the bytes lie differs, and tags/list comes in name order rather than
 * directory order. On the six registry-heaviest test files the registries used ~10 % less CPU than with
 * their storage in files on a tmpfs. A registry on disk, and only it, offers its `storageDir`, for the
 * tests that read or change what distribution keeps there.
 */


export interface StartRegistryOptions {
  /** none (default), htpasswd Basic (needs users), or token (needs token: a running startTokenServer()). */
  auth?: 'none' | 'htpasswd' | 'token';
  /** htpasswd users: name -> password (bcrypt entries made with `htpasswd -B -C 4 -bn`). */
  users?: Record<string, string>;
  token?: TokenServer;
  /** Serve HTTPS with a throwaway CA (true), or with given certificates. */
  tls?: boolean | TestCertificates;
  /** mTLS: require a client certificate signed by the CA of `tls` (distribution's http.tls.clientcas); this one is used to check the registry is up. */
  clientCert?: ClientCertificate;
  /** Allow DELETE of manifests (default true). */
  deleteEnabled?: boolean;
  /** distribution's read-only mode (storage.maintenance.readonly): reads answer, every write 405 `Allow: GET, HEAD`. */
  readOnly?: boolean;
  /** distribution's storage driver: `inmemory` (default) or `filesystem`, for a test that reads or changes the storage folder (`storageDir`). */
  storage?: 'inmemory' | 'filesystem';
  /**
   * `test` (default): tuned for the suite's many small requests (in-memory storage unless `storage` says
   * otherwise, one Go thread). `deployed`: as a registry is run for users, for the benchmark (bench/registry.ts):
   * filesystem storage (the in-memory driver copies a blob's whole content again on each write: a 1 GiB upload
   * never ended) and as many Go threads as cores.
   */
  profile?: 'test' | 'deployed';
  /** Also serve Go's net/http/pprof on distribution's debug server (http.debug.addr), for the bench: `debugUrl`. */
  debug?: boolean;
}

export interface RunningRegistry {
  /** `127.0.0.1:<port>` */
  host: string;
  port: number;
  /** `http://127.0.0.1:<port>` or `https://...` */
  url: string;
  /** CA certificate that signed the server certificate (TLS only). */
  caFile: string | undefined;
  /** `http://127.0.0.1:<port>` of the debug server (/debug/pprof/), with `debug: true` only. */
  debugUrl?: string;
  /** The registry's stderr so far (for failure messages). */
  logs(): string;
  stop(): Promise<void>;
}

/** A registry started with `storage: 'filesystem'`. */
export interface RegistryOnDisk extends RunningRegistry {
  /** The filesystem driver's root directory (distribution's layout under `docker/registry/v2/`). */
  storageDir: string;
}

const live = new Set<SpawnedChild>();
// A registry left running when the worker exits (a failed file's) goes with it. vitest ends its workers with
// SIGTERM, which runs no exit handler: the worker's spawner (support/spawner.ts) then kills what it started, and
// the shared registries are also started under `setpriv --pdeathsig KILL` (killed when the spawner goes).
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A port that was free a moment ago (bind to 0, read it, release it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** htpasswd lines (bcrypt) for `users`. */
async function htpasswdLines(users: Record<string, string>): Promise<string[]> {
  const lines: string[] = [];
  for (const [user, password] of Object.entries(users)) {
    // bcrypt at its lowest cost (4; htpasswd's default is 5): distribution checks the password on every
    // request, and each cost step doubles that check. These are throwaway test passwords.
    const { stdout } = await runChild('htpasswd', ['-B', '-C', '4', '-bn', user, password]);
    lines.push(stdout.toString().trim());
  }
  return lines;
}

async function htpasswdFile(path: string, users: Record<string, string>): Promise<void> {
  await writeFile(path, `${(await htpasswdLines(users)).join('\n')}\n`, { mode: 0o600 });
}

/**
 * The response header each test registry adds to every answer, with a value of its own (http.headers): a port
 * from freePort() can be taken by another registry starting at the same moment (in this worker or another),
 * which then answers /v2/ on it while ours fails to bind; without the check, that one (another test's, other
 * auth) was taken for ours.
 */
const IDENTITY_HEADER = 'X-Packpub-Test-Registry';

async function waitUntilUp(url: string, identity: string, child: SpawnedChild, logs: () => string, client: ClientCertificate | undefined): Promise<void> {
  const clientIdentity = client === undefined ? {} : { cert: await readFile(client.certFile), key: await readFile(client.keyFile) };
  const agent = new Agent({ connect: { rejectUnauthorized: false, ...clientIdentity } });
  const deadline = Date.now() + 20_000;
  try {
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`docker-registry exited (${child.exitCode ?? child.signalCode}): ${logs().trim().slice(-2000)}`);
      }
      try {
        const res = await request(`${url}/v2/`, { dispatcher: agent, headersTimeout: 2_000, bodyTimeout: 2_000 });
        await res.body.dump();
        // Another process's answer (no header of ours) means ours has not bound the port yet, or never will:
        // asked again until ours answers or exits ("address already in use": started again on another port).
        if ((res.statusCode === 200 || res.statusCode === 401) && res.headers[IDENTITY_HEADER.toLowerCase()] === identity) return;
      } catch {
        // not listening yet
      }
      // distribution answers 0.1-0.3 s after its start (less on an idle machine): asked every 100 ms, each of
      // the suite's ~75 registries kept its test file waiting ~50 ms after it was up; every 20 ms, ~10 ms (a
      // refused connection costs next to nothing).
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`docker-registry did not answer ${url}/v2/ within 20 s: ${logs().trim().slice(-2000)}`);
  } finally {
    await agent.close();
  }
}

export function startRegistry(options: StartRegistryOptions & { storage: 'filesystem' }): Promise<RegistryOnDisk>;
export function startRegistry(options?: StartRegistryOptions): Promise<RunningRegistry>;
export async function startRegistry(options: StartRegistryOptions = {}): Promise<RunningRegistry | RegistryOnDisk> {
  return launch(options, false);
}

/** Start one; a `shared` one (sharedRegistry) is killed by the kernel when the worker dies and metered per file. */
async function launch(options: StartRegistryOptions, shared: boolean): Promise<RunningRegistry | RegistryOnDisk> {
  const auth = options.auth ?? 'none';
  const dir = await mkdtemp(join(tmpdir(), 'packpub-registry-'));
  const deployed = options.profile === 'deployed';
  const storageDir = options.storage === 'filesystem' || deployed ? join(dir, 'storage') : undefined;
  if (storageDir !== undefined) await mkdir(storageDir);
  let ownCerts: TestCertificates | undefined;
  try {
    const certs = options.tls === true ? (ownCerts = await makeTestCertificates()) : options.tls === false ? undefined : options.tls;
    const authConfig: Record<string, unknown> = {};
    if (auth === 'htpasswd') {
      if (options.users === undefined || Object.keys(options.users).length === 0) throw new Error('startRegistry: htpasswd needs users');
      const path = join(dir, 'htpasswd');
      await htpasswdFile(path, options.users);
      authConfig['htpasswd'] = { realm: 'packpub-test', path };
    } else if (auth === 'token') {
      const token = options.token;
      if (token === undefined) throw new Error('startRegistry: token auth needs a token server (startTokenServer)');
      authConfig['token'] = { realm: token.realm, service: token.service, issuer: token.issuer, rootcertbundle: token.certFile };
    }

    for (let tries = 0; ; tries++) {
      const port = await freePort();
      const identity = randomBytes(8).toString('hex');
      const debugPort = options.debug === true ? await freePort() : undefined;
      const config = {
        version: '0.1',
        log: { level: 'error', accesslog: { disabled: true } },
        storage: {
          ...(storageDir === undefined ? { inmemory: {} } : { filesystem: { rootdirectory: storageDir } }),
          delete: { enabled: options.deleteEnabled ?? true },
          maintenance: { uploadpurging: { enabled: false }, ...(options.readOnly === true ? { readonly: { enabled: true } } : {}) },
          cache: { blobdescriptor: 'inmemory' },
        },
        http: {
          addr: `127.0.0.1:${port}`,
          secret: randomBytes(16).toString('hex'),
          headers: { [IDENTITY_HEADER]: [identity] },
          ...(debugPort === undefined ? {} : { debug: { addr: `127.0.0.1:${debugPort}` } }),
          ...(certs === undefined
            ? {}
            : { tls: { certificate: certs.certFile, key: certs.keyFile, ...(options.clientCert === undefined ? {} : { clientcas: [certs.caFile] }) } }),
        },
        ...(Object.keys(authConfig).length === 0 ? {} : { auth: authConfig }),
        health: { storagedriver: { enabled: false } },
      };
      // JSON is valid YAML; distribution reads it as its config file.
      const configFile = join(dir, 'config.yml');
      await writeFile(configFile, JSON.stringify(config, null, 2));
      let stderr = '';
      // GOGC=400: a test registry's live heap is a few MB, and at Go's default (100) it collected garbage so
      // often that a request cost it twice the CPU; the heap stays a few tens of MB (GOGC=off with a 128 MiB
      // GOMEMLIMIT cost it ~45 % more, user and system CPU alike). GOMAXPROCS=1: one
      // test file's few requests at a time need no second Go thread, and on the 2 cores it shares with the
      // test workers the Go scheduler waking and parking threads between requests cost ~7 % of its CPU
      // (requests still interleave, on I/O and by preemption).
      const env = { ...process.env, GOGC: '400', ...(deployed ? {} : { GOMAXPROCS: '1' }) };
      const command = shared ? ['setpriv', '--pdeathsig', 'KILL', 'docker-registry'] : ['docker-registry'];
      const child = spawnChild(command[0] ?? '', [...command.slice(1), 'serve', configFile], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      live.add(child);
      if (shared) child.once('spawn', () => child.pid !== undefined && meterLongLived(child.pid, 'docker-registry-shared'));
      child.stderr?.on('data', (d: Buffer) => {
        stderr = (stderr + d.toString()).slice(-20_000);
      });
      child.once('exit', () => live.delete(child));
      const url = `${certs === undefined ? 'http' : 'https'}://127.0.0.1:${port}`;
      try {
        await waitUntilUp(url, identity, child, () => stderr, options.clientCert);
      } catch (err) {
        child.kill('SIGKILL');
        if (tries < 2 && /address already in use/i.test(stderr)) continue;
        throw err;
      }
      const stop = async () => {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
          await exited;
          clearTimeout(timer);
        }
        await rm(dir, { recursive: true, force: true });
        await ownCerts?.cleanup();
      };
      if (shared) sharedDirs.set(port, dir);
      const debugUrl = debugPort === undefined ? {} : { debugUrl: `http://127.0.0.1:${debugPort}` };
      const running: RunningRegistry = { host: `127.0.0.1:${port}`, port, url, caFile: certs?.caFile, ...debugUrl, logs: () => stderr, stop };
      return storageDir === undefined ? running : { ...running, storageDir };
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    await ownCerts?.cleanup();
    throw err;
  }
}

/*
 * Registries shared by the test files of one worker (issue 11): starting and stopping one costs ~0.1 CPU-s
 * (distribution's start-up, the worker's waiting for it), and most test files only push to a registry and
 * read back what they pushed. A file that does not need a registry of its own asks for a shared one of the
 * auth it needs; it gets the worker's running one (started on the first ask) and a repository base path
 * no other caller gets (`base`), under which it keeps all its repositories, so no file sees another's
 * packs. Keep a registry of your own (startRegistry) to list the catalog without a prefix (`list` of every
 * pack, `copy --all`), stop or restart it, change its storage, count its requests or read its logs, or
 * depend on anything registry-wide.
 * A shared registry lives as long as its worker: stop() of the handle does nothing. It is started under
 * `setpriv --pdeathsig KILL` (the kernel kills it when its parent, the worker's spawner, dies; the spawner kills
 * it when the worker goes: vitest ends a worker with SIGTERM, which runs no exit handler), its temp folder is under the run's TMPDIR (removed at the end of the run,
 * test/support/test-tmpdir.ts), and its CPU goes to the files that use it (support/cpu-meter.ts).
 */

export interface SharedRegistryOptions {
  /** none (default), htpasswd Basic with `users`, or token with `token`: a startTokenServer({ sharedRealm: true }). */
  auth?: 'none' | 'htpasswd' | 'token';
  users?: Record<string, string>;
  token?: TokenServer;
}

export interface SharedRegistry extends RunningRegistry {
  /** A repository base path (one path segment) that no other caller of sharedRegistry in this worker gets. */
  base: string;
}

/** The temp folder of each shared registry, by port. */
const sharedDirs = new Map<number, string>();

interface Shared {
  registry: Promise<RunningRegistry>;
  /** htpasswd: the users it lets in so far (name -> password). */
  users: Map<string, string>;
  /** token: the realm, service and issuer it was started with. */
  token?: string;
}
const sharedAnonymous: Shared[] = [];
/**
 * token: every token server of a run signs with one key (support/token-server.ts), so a registry trusts the
 * tokens of any of them; the ones on the worker's shared realm (sharedRealm) answer at one address, the
 * latest started one answering.
 */
const sharedToken: Shared[] = [];
/**
 * htpasswd: distribution reads its htpasswd file again whenever the file's modification time changes (it
 * looks on every request), so one registry serves every file's users: each file's users are added to the
 * file as it asks. A user name another file gave another password gets a registry of its own.
 */
const sharedHtpasswd: Shared[] = [];
/** One caller at a time changes the shared registries (files of a worker run one after another; a file's calls may overlap). */
let sharedQueue: Promise<unknown> = Promise.resolve();
let basesHanded = 0;

/** This worker's registry with `options` (started on the first ask), with a base path of the caller's own. */
export function sharedRegistry(options: SharedRegistryOptions = {}): Promise<SharedRegistry> {
  const next = sharedQueue.then(() => sharedRegistryNow(options));
  sharedQueue = next.catch(() => undefined);
  return next;
}

async function sharedRegistryNow(options: SharedRegistryOptions): Promise<SharedRegistry> {
  const auth = options.auth ?? 'none';
  const users = auth === 'htpasswd' ? Object.entries(options.users ?? {}) : [];
  if (auth === 'htpasswd' && users.length === 0) throw new Error('sharedRegistry: htpasswd needs users');
  if (auth === 'token' && options.token === undefined) throw new Error('sharedRegistry: token auth needs a token server (startTokenServer with sharedRealm)');
  const pool = auth === 'htpasswd' ? sharedHtpasswd : auth === 'token' ? sharedToken : sharedAnonymous;
  let shared: Shared | undefined;
  const token = options.token === undefined ? undefined : JSON.stringify([options.token.realm, options.token.service, options.token.issuer]);
  for (const candidate of pool) {
    if (candidate.token !== token) continue;
    if (users.some(([name, password]) => candidate.users.has(name) && candidate.users.get(name) !== password)) continue;
    const running = await candidate.registry.catch(() => undefined);
    // One that died (nothing stops it, but a crash must not fail every later file) is not used again.
    if (running !== undefined && (await answers(running))) {
      shared = candidate;
      break;
    }
    pool.splice(pool.indexOf(candidate), 1);
  }
  if (shared === undefined) {
    const registry = launch(auth === 'htpasswd' ? { auth, users: Object.fromEntries(users) } : auth === 'token' ? { auth, token: await lastingCertificate(options.token) } : {}, true);
    shared = { registry, users: new Map(users), ...(token === undefined ? {} : { token }) };
    pool.push(shared);
    await registry.catch(() => pool.splice(pool.indexOf(shared as Shared), 1));
  }
  const registry = await shared.registry;
  const missing = users.filter(([name]) => !shared.users.has(name));
  if (missing.length > 0) {
    const dir = sharedDirs.get(registry.port) ?? '';
    const path = join(dir, 'htpasswd');
    const lines = [(await readFile(path, 'utf8')).trimEnd(), ...(await htpasswdLines(Object.fromEntries(missing)))];
    // Written beside it and renamed over it (the registry never reads half a file), with a modification time
    // later than the last one's: two writes in one tick of the file system's clock would otherwise look unchanged.
    const next = join(dir, 'htpasswd.next');
    await writeFile(next, `${lines.join('\n')}\n`, { mode: 0o600 });
    const later = (await stat(path)).mtimeMs / 1000 + 1;
    await utimes(next, later, later);
    await rename(next, path);
    for (const [name, password] of missing) shared.users.set(name, password);
  }
  basesHanded += 1;
  return { ...registry, base: `shared${basesHanded}`, stop: async () => {} };
}

/** `token` with its certificate copied where it outlives the token server (a shared registry outlives the file). */
async function lastingCertificate(token: TokenServer | undefined): Promise<TokenServer | undefined> {
  if (token === undefined) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'packpub-token-cert-'));
  const certFile = join(dir, 'signing.pem');
  await writeFile(certFile, await readFile(token.certFile));
  return { ...token, certFile };
}

/** The shared registry still answers /v2/ (any status: it is up). */
async function answers(registry: RunningRegistry): Promise<boolean> {
  try {
    const res = await request(`${registry.url}/v2/`, { headersTimeout: 5_000, bodyTimeout: 5_000 });
    await res.body.dump();
    return true;
  } catch {
    return false;
  }
}

export interface SkopeoOptions {
  /** `user:password` for the registry (passed in a temp auth file, never on the command line). */
  creds?: { username: string; password: string };
  /** The registry serves HTTPS; accepted for readability, skopeo handles both since verification is off. */
  tls?: boolean;
  /** Verify TLS (default false: test registries use throwaway certificates or plain HTTP). */
  tlsVerify?: boolean;
  /** skopeo's --cert-dir: `*.crt` CA certificates, `*.cert` + `*.key` a client certificate (mTLS). */
  certDir?: string;
}

/** `skopeo inspect --raw docker://<ref>`: the manifest bytes exactly as the registry serves them. */
export async function skopeoInspectRaw(ref: string, options: SkopeoOptions = {}): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'packpub-skopeo-'));
  try {
    const args = ['inspect', '--raw', `--tls-verify=${options.tlsVerify === true ? 'true' : 'false'}`];
    if (options.certDir !== undefined) args.push('--cert-dir', options.certDir);
    if (options.creds !== undefined) {
      const registry = ref.split('/')[0] ?? '';
      const authFile = join(dir, 'auth.json');
      const auth = Buffer.from(`${options.creds.username}:${options.creds.password}`).toString('base64');
      await writeFile(authFile, JSON.stringify({ auths: { [registry]: { auth } } }), { mode: 0o600 });
      args.push('--authfile', authFile);
    }
    args.push(`docker://${ref}`);
    try {
      return (await runChild('skopeo', args, { maxBuffer: 8 * 1024 * 1024, timeout: 30_000 })).stdout;
    } catch (err) {
      throw new Error(`skopeo inspect ${ref} failed: ${(err as ChildFailure).stderr.toString().trim()}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
/**
 * `skopeo sync --src yaml --dest dir --preserve-digests`: many tags of a plain-HTTP registry copied by one
 * skopeo process (one process per tag costs more than the copying), every blob fetched and verified against
 * its digest. Returns each `repo:tag`'s manifest bytes exactly as skopeo read them.
 */
export async function skopeoSyncManifests(
  host: string,
  images: Array<{ repo: string; tag: string }>,
  dir: string,
  options: Pick<SkopeoOptions, 'creds'> = {},
): Promise<Map<string, Buffer>> {
  const byRepo: Record<string, string[]> = {};
  for (const { repo, tag } of images) (byRepo[repo] ??= []).push(tag);
  const list = join(dir, 'sync.yaml');
  // JSON is valid YAML; skopeo reads it as its sync list (credentials in it: a file, never the command line).
  const credentials = options.creds === undefined ? {} : { credentials: options.creds };
  await writeFile(list, JSON.stringify({ [host]: { 'tls-verify': false, ...credentials, images: byRepo } }), { mode: 0o600 });
  const out = join(dir, 'synced');
  try {
    await runChild('skopeo', ['sync', '--src', 'yaml', '--dest', 'dir', '--scoped', '--preserve-digests', list, out], { timeout: 120_000 });
  } catch (err) {
    throw new Error(`skopeo sync from ${host} failed: ${String((err as { stderr?: unknown }).stderr ?? err).trim()}`);
  }
  const manifests = new Map<string, Buffer>();
  for (const { repo, tag } of images) manifests.set(`${repo}:${tag}`, await readFile(join(out, host, `${repo}:${tag}`, 'manifest.json')));
  return manifests;
}

/** The file of blob `digest` of `repo:tag` that skopeoSyncManifests(host, ..., dir) copied (and verified). */
export function skopeoSyncedBlob(dir: string, host: string, image: string, digest: string): string {
  return join(dir, 'synced', host, image, digest.replace(/^sha256:/, ''));
}

/** `skopeo inspect --raw` of a pack in an OCI layout: the manifest bytes as an independent OCI client reads them. */
export async function skopeoInspectLayout(layout: string, name: string, version: string): Promise<Buffer> {
  const { stdout } = await runChild('skopeo', ['inspect', '--raw', `oci:${join(layout, 'spectro-packs/archive', name)}:${version}`]);
  return stdout;
}
