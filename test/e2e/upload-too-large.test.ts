import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { stackLines } from '../support/secrets.js';
import { proxiedSharedRegistry } from '../support/proxied-writes.js';
import { setup } from '../support/stage.js';
import { rawAnswer } from '../support/wire-proxy.js';

/*
 * A registry behind an nginx left at its default body limit (client_max_body_size 1m): every layer larger than
 * that is answered `413 Request Entity Too Large` with nginx's HTML page. packpub said only "answered 413 (PUT
 * ...)", no hint, and the push failed the same way on every re-run. A real registry sits behind a proxy that
 * answers 413 to upload PUTs over 64 KiB, as nginx does.
 */

const w = setup((stack) => proxiedSharedRegistry(stack, 'packpub-upload-413-'));

const PAGE = '<html><head><title>413 Request Entity Too Large</title></head><body><center><h1>413 Request Entity Too Large</h1></center><hr><center>nginx</center></body></html>';

/** A CLI push of `dir` through the proxy answering as `onRequest` says, put back after the run. */
async function pushThrough(dir: string, onRequest: NonNullable<typeof w.proxy.onRequest>): Promise<Awaited<ReturnType<typeof runCli>>> {
  w.proxy.onRequest = onRequest;
  try {
    return await runCli(['push', dir, '--registry', `${w.proxy.host}/${w.registry.base}`, '--no-cache']);
  } finally {
    w.proxy.onRequest = undefined;
  }
}

describe('an upload refused for its size by a proxy', () => {
  it('exit 1 naming the 413 with a hint about the body size limit; nothing tagged (was: no hint)', async () => {
    const dir = await writePack(join(w.root, 'large'), { name: 'large-layer', version: '1.0.0' });
    await writeFile(join(dir, 'manifests', 'payload.bin'), randomBytes(256 * 1024));
    const run = await pushThrough(dir, (r) =>
      r.method === 'PUT' && r.path.includes('/blobs/uploads/') && Number(r.headers['content-length']) > 64 * 1024
        ? { raw: rawAnswer(413, 'Request Entity Too Large', { server: 'nginx', 'content-type': 'text/html', 'content-length': PAGE.length, connection: 'close' }, PAGE), end: true }
        : 'pass',
    );
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`FAILED large-layer:1.0.0: ${w.proxy.host} answered 413 (PUT`);
    expect(run.stderr).toContain("hint: the registry or a proxy in front of it refuses request bodies this large (nginx's client_max_body_size");
    expect(stackLines(run.stderr)).toEqual([]);
    expect(await w.reader.tags(`${w.registry.base}/spectro-packs/archive/large-layer`)).toEqual([]);
  });
});

/*
 * A registry that takes container images only (Quay without FEATURE_GENERAL_OCI_SUPPORT, or without the pack's config
 * type in ALLOWED_OCI_ARTIFACT_TYPES) refuses the pack's manifest 400 MANIFEST_INVALID after taking its blobs. It said
 * "answered 400 MANIFEST_INVALID: ... (PUT ...)" with no hint of what a pack is or what the registry lacks.
 */
describe('a manifest refused by a registry that takes container images only', () => {
  it('exit 1 naming the refusal, hint what a pack is and what to allow; nothing tagged', async () => {
    const dir = await writePack(join(w.root, 'artifact'), { name: 'artifact-refused', version: '1.0.0' });
    const refusal = JSON.stringify({ errors: [{ code: 'MANIFEST_INVALID', message: 'manifest invalid', detail: { message: 'unsupported config media type' } }] });
    const run = await pushThrough(dir, (r) =>
      r.method === 'PUT' && r.path.includes('/artifact-refused/manifests/') ? { raw: rawAnswer(400, 'Bad Request', { 'content-type': 'application/json', 'content-length': refusal.length }, refusal) } : 'pass',
    );
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(`FAILED artifact-refused:1.0.0: ${w.proxy.host} answered 400 MANIFEST_INVALID: manifest invalid (PUT`);
    expect(run.stderr).toContain(
      `hint: a pack is an OCI artifact as ORAS 1.0 writes it (an OCI image manifest whose config is application/vnd.unknown.config.v1+json, one layer application/vnd.oci.image.layer.v1.tar): a registry that takes container images only refuses it (Quay without FEATURE_GENERAL_OCI_SUPPORT and that config type in ALLOWED_OCI_ARTIFACT_TYPES); let ${w.proxy.host} take OCI artifacts, or publish to a registry that does\n`,
    );
    expect(stackLines(run.stderr)).toEqual([]);
    expect(await w.reader.tags(`${w.registry.base}/spectro-packs/archive/artifact-refused`)).toEqual([]);
  });
});
