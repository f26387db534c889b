import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { sha256Digest } from '../../src/oci/digest.js';

/*
 * What a registry or an OCI layout really holds, read without packpub (straight to the registry, never
 * through a proxy): every tag, and anything wrong with it.
 */

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
 * Reads a registry directly (plain HTTP, anonymous, Basic or a bearer token), to check what it holds without trusting
 * packpub: catalog, tags, manifests, blob HEADs.
 */
export class RegistryReader {
  private readonly headers: Record<string, string>;

  constructor(
    /** `http://127.0.0.1:<port>` */
    readonly url: string,
    /** Basic credentials, or a bearer token (e.g. a token server's adminToken for one repository). */
    auth?: { username: string; password: string } | { bearer: string },
  ) {
    this.headers =
      auth === undefined
        ? {}
        : 'bearer' in auth
          ? { authorization: `Bearer ${auth.bearer}` }
          : { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
  }

  private async get(path: string, method: 'GET' | 'HEAD' = 'GET', accept?: string) {
    const res = await request(`${this.url}${path}`, {
      method,
      headers: { ...this.headers, ...(accept === undefined ? {} : { accept }) },
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
      // undici closes the connection after a HEAD unless told otherwise (a server may send a body it should not):
      // every blob HEAD of holdings() was a new connection. distribution sends none (packpub's client keeps them too).
      ...(method === 'HEAD' ? { reset: false } : {}),
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
    return this.read(prefix, true);
  }

  /**
   * Every tag under `prefix` (`repo:tag` -> the digest of the manifest it serves), its blobs not looked at: for a
   * test that asserts what the tags hold and not `problems` (holdings HEADs each tag's blobs too: two of its three
   * requests a tag, each ~1-2 ms of the registry's CPU).
   */
  async tagDigests(prefix = ''): Promise<Map<string, string>> {
    return (await this.read(prefix, false)).tags;
  }

  private async read(prefix: string, blobs: boolean): Promise<RegistryHoldings> {
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
        if (!blobs) continue;
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

/** An access entry of a distribution token (support/token-server.ts tokenFor). */
type TokenAccess = { type: string; name: string; actions: string[] };

/**
 * What a token-auth registry holds under `prefix`, read with tokens `tokenFor` mints: one for the catalog, then
 * one for the catalog and every repository under the prefix.
 */
export async function tokenHoldings(url: string, tokenFor: (access: TokenAccess[]) => string, prefix: string): Promise<RegistryHoldings> {
  const catalog = { type: 'registry', name: 'catalog', actions: ['*'] };
  const repos = (await new RegistryReader(url, { bearer: tokenFor([catalog]) }).catalog()).filter((r) => r.startsWith(`${prefix}/`));
  return new RegistryReader(url, { bearer: tokenFor([catalog, ...repos.map((name) => ({ type: 'repository', name, actions: ['*'] }))]) }).holdings(prefix);
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
