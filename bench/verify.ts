import { createReadStream } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { digestStream, sha256Digest } from '../src/oci/digest.js';
import { mapConcurrent } from '../src/util/concurrency.js';
import { run } from './proc.js';

/*
 * Independent checks with skopeo (not packpub's own client): the manifest under each published tag is
 * byte-identical to what the publisher reported, and a sample copies out to an OCI layout, which makes
 * skopeo fetch and digest-check every blob. Any difference throws: a fast publisher that corrupts packs
 * must not get a result.
 */

export interface Published {
  /** e.g. `docker://127.0.0.1:5000/bench/spectro-packs/archive/x:1.0.0` or `oci:/dir/repo:1.0.0`. */
  ref: string;
  /** Manifest digest the publisher reported. */
  digest: string;
}

export class VerificationFailed extends Error {
  override name = 'VerificationFailed';
}

function tlsFlag(ref: string, flag: '--tls-verify=false' | '--src-tls-verify=false'): string[] {
  return ref.startsWith('docker://') ? [flag] : [];
}

/** `skopeo inspect --raw` digest of every reference equals the reported digest. */
export async function verifyManifests(items: readonly Published[]): Promise<void> {
  const bad: string[] = [];
  // Two skopeo processes at a time: enough to keep both cores busy, no more.
  await mapConcurrent([...items], 2, async (item) => {
    const r = await run('skopeo', ['inspect', '--raw', ...tlsFlag(item.ref, '--tls-verify=false'), item.ref], { allowFailure: true });
    if (r.code !== 0) {
      bad.push(`${item.ref}: skopeo inspect failed: ${r.stderr.trim().split('\n').pop() ?? ''}`);
      return;
    }
    // skopeo prints the raw bytes as stored; compare digests of exactly those bytes.
    const got = sha256Digest(Buffer.from(r.stdout, 'utf8'));
    if (got !== item.digest) bad.push(`${item.ref}: manifest digest ${got}, publisher reported ${item.digest}`);
  });
  if (bad.length > 0) throw new VerificationFailed(`${bad.length} of ${items.length} published manifests are wrong:\n${bad.slice(0, 20).join('\n')}`);
}

/** Copy each reference into a fresh OCI layout with skopeo (fetching and verifying every blob), then re-hash the blobs on disk. */
export async function verifyCopies(items: readonly Published[], scratch: string): Promise<void> {
  for (const [i, item] of items.entries()) {
    const dest = join(scratch, `verify-copy-${i}`);
    await rm(dest, { recursive: true, force: true });
    try {
      const r = await run('skopeo', ['copy', '--quiet', '--all', '--preserve-digests', ...tlsFlag(item.ref, '--src-tls-verify=false'), item.ref, `oci:${dest}:verify`], { allowFailure: true });
      if (r.code !== 0) throw new VerificationFailed(`skopeo copy of ${item.ref} failed: ${r.stderr.trim()}`);
      const blobs = join(dest, 'blobs', 'sha256');
      const names = await readdir(blobs);
      if (!names.includes(item.digest.slice('sha256:'.length))) {
        throw new VerificationFailed(`skopeo copy of ${item.ref} did not keep manifest ${item.digest}`);
      }
      for (const name of names) {
        const { digest } = await digestStream(createReadStream(join(blobs, name)));
        if (digest !== `sha256:${name}`) throw new VerificationFailed(`blob ${name} copied from ${item.ref} hashes to ${digest}`);
      }
    } finally {
      await rm(dest, { recursive: true, force: true });
    }
  }
}
