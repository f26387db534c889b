import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { Prng } from '../../bench/prng.js';
import { sha256Digest } from '../../src/oci/digest.js';
import { BIN, TEST_CACHE_DIR, type CliRun } from './cli.js';
import { writePack } from './packs.js';

/*
 * Helpers for the reliability tests (faults, kills, concurrent runs, secrets, redirects): seeded packs,
 * a reader that checks what a registry really holds (straight to the registry, never through packpub or a
 * proxy), the built CLI as a child process that can be killed, and skopeo copy.
 */

export interface GeneratedPack {
  dir: string;
  name: string;
  version: string;
}

export interface GenerateOptions {
  /** Names are `<prefix>-<n>` (default "gen"). */
  prefix?: string;
  seed?: number;
  /** Size range of each pack's incompressible payload file, in bytes (default 200..20 000). */
  payloadBytes?: [number, number];
}

/** `count` small valid packs under `root`, the same bytes for the same seed on every run. */
export async function generatePacks(root: string, count: number, options: GenerateOptions = {}): Promise<GeneratedPack[]> {
  const prefix = options.prefix ?? 'gen';
  const [min, max] = options.payloadBytes ?? [200, 20_000];
  const prng = new Prng(options.seed ?? 42);
  const packs: GeneratedPack[] = [];
  for (let i = 0; i < count; i++) {
    const name = `${prefix}-${String(i).padStart(3, '0')}`;
    const version = `1.${i % 7}.${i}`;
    const own = prng.fork(name);
    const dir = await writePack(join(root, `${name}-${version}`), {
      name,
      version,
      files: { 'payload.bin': own.fill(Buffer.alloc(own.int(min, max))) },
    });
    packs.push({ dir, name, version });
  }
  return packs;
}

/** Every file below `dir` (relative path -> base64 content), to compare a pulled pack with its source. */
export async function fileTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out[relative(dir, join(e.parentPath, e.name))] = (await readFile(join(e.parentPath, e.name))).toString('base64');
  }
  return out;
}

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface RegistryHoldings {
  /** `repo:tag` -> manifest digest, for every tag in every repository under the prefix. */
  tags: Map<string, string>;
  /** Tags whose manifest or blobs are missing or wrong; empty when the registry is consistent. */
  problems: string[];
}

/**
 * Reads a registry directly (plain HTTP, anonymous or Basic), to check what it holds without trusting
 * packpub: catalog, tags, manifests, blob HEADs.
 */
export class RegistryReader {
  private readonly headers: Record<string, string>;

  constructor(
    /** `http://127.0.0.1:<port>` */
    readonly url: string,
    basic?: { username: string; password: string },
  ) {
    this.headers = basic === undefined ? {} : { authorization: `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString('base64')}` };
  }

  private async get(path: string, method: 'GET' | 'HEAD' = 'GET', accept?: string) {
    const res = await request(`${this.url}${path}`, {
      method,
      headers: { ...this.headers, ...(accept === undefined ? {} : { accept }) },
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    const body = method === 'HEAD' ? Buffer.alloc(0) : Buffer.from(await res.body.arrayBuffer());
    if (method === 'HEAD') await res.body.dump();
    return { status: res.statusCode, headers: res.headers, body };
  }

  async catalog(): Promise<string[]> {
    const all: string[] = [];
    // distribution pages the catalog (at most 1000 a page) with `Link: </v2/_catalog?last=..&n=..>; rel="next"`
    for (let path: string | undefined = '/v2/_catalog?n=1000'; path !== undefined; ) {
      const res = await this.get(path);
      if (res.status !== 200) throw new Error(`catalog: ${res.status} ${res.body.toString()}`);
      all.push(...((JSON.parse(res.body.toString()) as { repositories?: string[] | null }).repositories ?? []));
      path = /<([^>]+)>;\s*rel="?next"?/.exec(String(res.headers['link'] ?? ''))?.[1];
    }
    return all;
  }

  /** Tags of a repository; empty when it does not exist. */
  async tags(repo: string): Promise<string[]> {
    const res = await this.get(`/v2/${repo}/tags/list`);
    if (res.status === 404) return [];
    if (res.status !== 200) throw new Error(`tags of ${repo}: ${res.status} ${res.body.toString()}`);
    return (JSON.parse(res.body.toString()) as { tags?: string[] | null }).tags ?? [];
  }

  async manifest(repo: string, ref: string): Promise<Buffer | undefined> {
    const res = await this.get(`/v2/${repo}/manifests/${ref}`, 'GET', 'application/vnd.oci.image.manifest.v1+json');
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`manifest ${repo}:${ref}: ${res.status} ${res.body.toString()}`);
    return res.body;
  }

  /** HEAD a blob: its size, or undefined when the registry does not have it. */
  async blobSize(repo: string, digest: string): Promise<number | undefined> {
    const res = await this.get(`/v2/${repo}/blobs/${digest}`, 'HEAD');
    if (res.status !== 200) return undefined;
    return Number(res.headers['content-length']);
  }

  /** Every tag under `prefix` and anything wrong with it: a tag must never point at missing content. */
  async holdings(prefix = ''): Promise<RegistryHoldings> {
    const tags = new Map<string, string>();
    const problems: string[] = [];
    const repos = (await this.catalog()).filter((r) => prefix === '' || r.startsWith(`${prefix}/`));
    for (const repo of repos) {
      for (const tag of await this.tags(repo)) {
        const bytes = await this.manifest(repo, tag);
        if (bytes === undefined) {
          problems.push(`${repo}:${tag} is listed but its manifest is missing`);
          continue;
        }
        tags.set(`${repo}:${tag}`, sha256Digest(bytes));
        const manifest = JSON.parse(bytes.toString()) as { config: Descriptor; layers: Descriptor[] };
        for (const d of [manifest.config, ...manifest.layers]) {
          const size = await this.blobSize(repo, d.digest);
          if (size === undefined) problems.push(`${repo}:${tag} points at missing blob ${d.digest}`);
          else if (size !== d.size) problems.push(`${repo}:${tag} blob ${d.digest} is ${size} bytes, its descriptor says ${d.size}`);
        }
      }
    }
    return { tags, problems };
  }
}

/**
 * Every tag in every `index.json` below an OCI layout root, and anything wrong with it: a manifest or blob
 * file missing, or not matching its digest or size (image-spec image-layout.md).
 */
export async function layoutHoldings(root: string): Promise<RegistryHoldings> {
  const tags = new Map<string, string>();
  const problems: string[] = [];
  const blob = async (repo: string, d: Descriptor, what: string): Promise<Buffer | undefined> => {
    try {
      const bytes = await readFile(join(root, repo, 'blobs', 'sha256', d.digest.slice('sha256:'.length)));
      if (sha256Digest(bytes) !== d.digest || bytes.length !== d.size) problems.push(`${what}: blob ${d.digest} does not match its descriptor`);
      return bytes;
    } catch {
      problems.push(`${what} points at missing blob ${d.digest}`);
      return undefined;
    }
  };
  const walk = async (repo: string): Promise<void> => {
    const entries = await readdir(join(root, repo), { withFileTypes: true }).catch(() => []);
    if (entries.some((e) => e.isFile() && e.name === 'index.json')) {
      const index = JSON.parse(await readFile(join(root, repo, 'index.json'), 'utf8')) as { manifests: Array<Descriptor & { annotations?: Record<string, string> }> };
      for (const entry of index.manifests) {
        const tag = entry.annotations?.['org.opencontainers.image.ref.name'];
        const what = `${repo}:${tag ?? entry.digest}`;
        const bytes = await blob(repo, entry, what);
        if (bytes === undefined) continue;
        if (tag !== undefined) tags.set(`${repo}:${tag}`, entry.digest);
        const manifest = JSON.parse(bytes.toString()) as { config: Descriptor; layers: Descriptor[] };
        for (const d of [manifest.config, ...manifest.layers]) await blob(repo, d, what);
      }
    }
    for (const e of entries) if (e.isDirectory() && e.name !== 'blobs') await walk(repo === '' ? e.name : `${repo}/${e.name}`);
  };
  await walk('');
  return { tags, problems };
}

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** The built CLI is there (tests that run it as a process skip with a message when it is not). */
export const DIST_BUILT = existsSync(join(REPO_ROOT, 'dist/cli/main.js'));
if (!DIST_BUILT) console.warn('skipping built-CLI process tests: dist/ is missing; run `npm run build`');

export interface SpawnedCli {
  child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Exit code (or 128 + signal number for a killed process) and all output. */
  done: Promise<CliRun & { signal: NodeJS.Signals | null }>;
}

/** Start the built CLI as a child process, as runBin does, but hand back the process so a test can signal it. */
export function spawnCli(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: string } = {}): SpawnedCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env: { PATH: process.env['PATH'], HOME: process.env['HOME'], PACKPUB_CACHE_DIR: TEST_CACHE_DIR, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (c: Buffer) => out.push(c));
  child.stderr?.on('data', (c: Buffer) => err.push(c));
  child.stdin?.end(options.stdin ?? '');
  const stdout = () => Buffer.concat(out).toString('utf8');
  const stderr = () => Buffer.concat(err).toString('utf8');
  const done = new Promise<CliRun & { signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? -1, signal, stdout: stdout(), stderr: stderr() }));
  });
  return { child, stdout, stderr, done };
}

/** Resolve once `check` holds (polled every 20 ms); reject after `timeoutMs` with `what` in the message. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `skopeo copy` from a plain-HTTP registry into an OCI layout (it fetches and verifies every blob). */
export function skopeoCopyToLayout(ref: string, layoutDir: string, tag: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      'skopeo',
      ['copy', '--src-tls-verify=false', `docker://${ref}`, `oci:${layoutDir}:${tag}`],
      { timeout: 60_000 },
      (err, _stdout, stderr) => (err === null ? resolve() : reject(new Error(`skopeo copy ${ref} failed: ${String(stderr).trim()}`))),
    );
  });
}

export interface SecretForm {
  /** What it is, for failure messages (never the value itself). */
  label: string;
  value: string;
}

/** A secret as it could leak: itself, and its base64 forms alone and as Basic `user:secret`. */
export function secretForms(label: string, secret: string, user?: string): SecretForm[] {
  const forms: SecretForm[] = [{ label, value: secret }];
  const add = (what: string, text: string) => {
    forms.push({ label: `base64(${what})`, value: Buffer.from(text).toString('base64') });
    forms.push({ label: `base64url(${what})`, value: Buffer.from(text).toString('base64url') });
  };
  add(label, secret);
  if (user !== undefined) add(`${user}:${label}`, `${user}:${secret}`);
  if (encodeURIComponent(secret) !== secret) forms.push({ label: `urlencoded(${label})`, value: encodeURIComponent(secret) });
  // base64 of short inputs ends in padding that may not show; compare without it
  return forms.map((f) => ({ ...f, value: f.value.replace(/=+$/, '') }));
}

/** Labels of the forms found in `text` (empty when nothing leaked). */
export function leaks(text: string, forms: readonly SecretForm[]): string[] {
  return forms.filter((f) => f.value.length > 0 && text.includes(f.value)).map((f) => f.label);
}

/** Lines of text that look like a JavaScript stack frame. */
export function stackLines(text: string): string[] {
  return text.split('\n').filter((l) => /^\s+at .+(\(|:\d+:\d+)/.test(l));
}
