import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import type { RegistryOnDisk, RunningRegistry } from './registry.js';

/*
 * What a Harbor or ECR stand-in does to the real registry behind it when its own API deletes something.
 * distribution 2.8 deletes manifests by digest only (and every tag with them); removing one tag is a
 * distribution-spec 1.1 feature it lacks (DELETE by tag answers 400 DIGEST_INVALID), so `untag` removes the
 * tag's link from the registry's storage, which is where distribution keeps tags: only a registry started
 * with `storage: 'filesystem'` offers `untag`.
 */

const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json';

export interface RegistryAdmin {
  /** The digest a tag points at, or undefined. */
  digestOf(repository: string, tag: string): Promise<string | undefined>;
  /** Every tag of the repository pointing at `digest`. */
  tagsOf(repository: string, digest: string): Promise<string[]>;
  /** Delete a manifest by digest through the registry API (its tags go with it). */
  deleteManifest(repository: string, digest: string): Promise<void>;
}

export interface DiskRegistryAdmin extends RegistryAdmin {
  /** Remove one tag; the manifest stays. */
  untag(repository: string, tag: string): Promise<void>;
}

/** `authorization` gives the header for a repository when the registry wants one (token auth). */
export function registryAdmin(registry: RegistryOnDisk, authorization?: (repository: string) => string): DiskRegistryAdmin;
export function registryAdmin(registry: RunningRegistry, authorization?: (repository: string) => string): RegistryAdmin;
export function registryAdmin(registry: RunningRegistry | RegistryOnDisk, authorization?: (repository: string) => string): RegistryAdmin | DiskRegistryAdmin {
  const call = async (method: 'GET' | 'HEAD' | 'DELETE', repository: string, path: string) => {
    const res = await request(`${registry.url}/v2/${repository}/${path}`, {
      method,
      headers: { accept: ACCEPT, ...(authorization === undefined ? {} : { authorization: authorization(repository) }) },
    });
    const body = method === 'HEAD' ? '' : await res.body.text();
    if (method === 'HEAD') await res.body.dump();
    return { status: res.statusCode, digest: res.headers['docker-content-digest'] as string | undefined, body };
  };
  const admin: RegistryAdmin = {
    async digestOf(repository, tag) {
      const res = await call('HEAD', repository, `manifests/${tag}`);
      return res.status === 200 ? res.digest : undefined;
    },
    async tagsOf(repository, digest) {
      const res = await call('GET', repository, 'tags/list');
      const tags = res.status === 200 ? ((JSON.parse(res.body) as { tags?: string[] | null }).tags ?? []) : [];
      const digests = await Promise.all(tags.map((t) => admin.digestOf(repository, t)));
      return tags.filter((_, i) => digests[i] === digest);
    },
    async deleteManifest(repository, digest) {
      const res = await call('DELETE', repository, `manifests/${digest}`);
      if (res.status !== 202) throw new Error(`registry-admin: DELETE ${repository}@${digest} answered ${res.status} ${res.body}`);
    },
  };
  if (!('storageDir' in registry)) return admin;
  const { storageDir } = registry;
  return {
    ...admin,
    async untag(repository, tag) {
      await rm(join(storageDir, 'docker/registry/v2/repositories', repository, '_manifests/tags', tag), { recursive: true, force: true });
    },
  };
}

/**
 * Make `registry` hold each `repository:tag` without a push through packpub (for tests that only need the
 * versions to exist): the 2-byte `{}` blob as config and as the one layer, titled `<last segment>-<tag>.tar.gz`.
 * Two requests a version (the blob mounted), no archive built.
 */
export async function holdVersions(registry: RunningRegistry, refs: readonly { repository: string; tag: string }[]): Promise<void> {
  const bytes = Buffer.from('{}');
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const blob = { digest, size: bytes.length };
  let from: string | undefined;
  for (const { repository, tag } of refs) {
    // After the first upload the blob is mounted from that repository: one request instead of two.
    const query = from === undefined ? '' : `?mount=${digest}&from=${from}`;
    const started = await request(`${registry.url}/v2/${repository}/blobs/uploads/${query}`, { method: 'POST' });
    await started.body.dump();
    if (started.statusCode !== 201) {
      const location = new URL(started.headers['location'] as string, registry.url);
      location.searchParams.set('digest', digest);
      const put = await request(location, { method: 'PUT', body: bytes, headers: { 'content-type': 'application/octet-stream' } });
      await put.body.dump();
      from = repository;
    }
    const title = `${repository.split('/').pop() ?? repository}-${tag}.tar.gz`;
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', ...blob },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...blob, annotations: { 'org.opencontainers.image.title': title } }],
    });
    const res = await request(`${registry.url}/v2/${repository}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
    const text = await res.body.text();
    if (res.statusCode !== 201) throw new Error(`registry-admin: PUT ${repository}:${tag} answered ${res.statusCode} ${text}`);
  }
}
