import { createReadStream } from 'node:fs';
import { link, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { digestStream, sha256Digest, type Digest } from '../src/oci/digest.js';
import { EMPTY_CONFIG, EMPTY_CONFIG_BYTES, packManifest, serializeManifest } from '../src/oci/manifest.js';
import { ANNOTATION_REF_NAME, MEDIA_TYPE_OCI_MANIFEST } from '../src/oci/media-types.js';
import { archiveFileName, packRepository } from '../src/pack/naming.js';
import { runTimed } from './proc.js';

/*
 * The manual workflow of the Palette docs, per pack and in sequence:
 *   tar -czf NAME-VERSION.tar.gz FOLDER        (from the folder's parent)
 *   oras push REG/BASE/spectro-packs/archive/NAME:VERSION NAME-VERSION.tar.gz   (ORAS 1.0)
 * ORAS cannot be installed here, so the push is skopeo copying an OCI layout that holds exactly the
 * manifest ORAS 1.0 writes (oras-1.0-push.md) — `--preserve-digests` keeps those bytes, which the
 * bench checks afterwards. Hashing the archive and writing the layout is ORAS's work and is timed too.
 */

export interface ManualPack {
  /** The pack folder's parent (tar runs there) and the folder's name. */
  parent: string;
  folder: string;
  name: string;
  version: string;
}

export interface ManualPushed {
  repository: string;
  tag: string;
  manifestDigest: Digest;
  layerDigest: Digest;
  layerSize: number;
}

export interface ManualOptions {
  /** `127.0.0.1:<port>` of the registry. */
  registryHost: string;
  basePath: string;
  /** Scratch space for archives and layouts; emptied per pack, as a user's loop would overwrite. */
  workDir: string;
  /** Fixed `created` so manifests can be compared; ORAS stamps "now", which costs nothing extra. */
  created: Date;
}

async function writeOrasLayout(layout: string, archive: string, title: string, tag: string, created: Date): Promise<{ manifest: Buffer; layer: { digest: Digest; size: number } }> {
  const layer = await digestStream(createReadStream(archive));
  await mkdir(join(layout, 'blobs', 'sha256'), { recursive: true });
  await writeFile(join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  // A hard link instead of a copy: ORAS reads the file in place, it does not copy it.
  await link(archive, join(layout, 'blobs', 'sha256', layer.digest.slice(7)));
  await writeFile(join(layout, 'blobs', 'sha256', EMPTY_CONFIG.digest.slice(7)), EMPTY_CONFIG_BYTES);
  const manifest = serializeManifest(packManifest({ layer, title, created }));
  const manifestDigest = sha256Digest(manifest);
  await writeFile(join(layout, 'blobs', 'sha256', manifestDigest.slice(7)), manifest);
  const index = {
    schemaVersion: 2,
    manifests: [{ mediaType: MEDIA_TYPE_OCI_MANIFEST, digest: manifestDigest, size: manifest.length, annotations: { [ANNOTATION_REF_NAME]: tag } }],
  };
  await writeFile(join(layout, 'index.json'), JSON.stringify(index));
  return { manifest, layer };
}

export interface ManualResult {
  pushed: ManualPushed[];
  /** User + system CPU seconds of the tar (with its gzip) and skopeo processes. */
  cpuS: number;
}

/** Publish the packs the manual way, one after another; returns what was pushed (for the checks). */
export async function manualPublish(packs: readonly ManualPack[], options: ManualOptions): Promise<ManualResult> {
  const pushed: ManualPushed[] = [];
  let cpuS = 0;
  for (const pack of packs) {
    const scratch = join(options.workDir, 'manual');
    await rm(scratch, { recursive: true, force: true });
    await mkdir(scratch, { recursive: true });
    const fileName = archiveFileName(pack.name, pack.version);
    const archive = join(scratch, fileName);
    const tar = await runTimed('tar', ['-czf', archive, pack.folder], { cwd: pack.parent });
    cpuS += tar.userS + tar.sysS;
    const layout = join(scratch, 'layout');
    const { manifest, layer } = await writeOrasLayout(layout, archive, fileName, pack.version, options.created);
    const repository = packRepository(options.basePath, pack.name);
    const skopeo = await runTimed('skopeo', [
      'copy',
      '--quiet',
      '--all',
      '--preserve-digests',
      '--dest-tls-verify=false',
      `oci:${layout}:${pack.version}`,
      `docker://${options.registryHost}/${repository}:${pack.version}`,
    ]);
    cpuS += skopeo.userS + skopeo.sysS;
    pushed.push({ repository, tag: pack.version, manifestDigest: sha256Digest(manifest), layerDigest: layer.digest, layerSize: layer.size });
  }
  await rm(join(options.workDir, 'manual'), { recursive: true, force: true });
  return { pushed, cpuS };
}
