import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBin } from '../support/cli.js';
import { startHostileRegistry } from '../support/hostile-registry.js';
import { writePack } from '../support/packs.js';
import { stackLines } from '../support/secrets.js';
import { stage } from '../support/stage.js';

/*
 * A registry that stops reading an upload body part-way and never answers: the client's writes fill the
 * socket buffers and stop. Upload bodies are bounded only per chunk on purpose (a large blob may take long),
 * so this pins that a body the registry stops reading still ends: each attempt at --request-timeout, the
 * attempts (and the whole upload) at --retry-deadline, with exit 1, one line, and no tag.
 */

const stack = stage();

describe('a registry that stops reading an upload', () => {
  it('ends at --request-timeout per attempt and --retry-deadline in all: exit 1, no tag', async () => {
    const hostile = stack.add(await startHostileRegistry());
    const root = await stack.tempDir('packpub-robust-stall-');
    const pack = await writePack(join(root, 'pack'), { name: 'robust-stall', version: '1.0.0' });
    // Incompressible and larger than the loopback socket buffers of both sides, so writes really stop.
    await writeFile(join(pack, 'manifests', 'blob.bin'), randomBytes(24 * 1024 * 1024));
    hostile.behaviour = { stallUploadAfter: 256 * 1024 };
    const run = await runBin(['push', pack, '--registry', `${hostile.host}/stall`, '--request-timeout', '0.5', '--retry-deadline', '1', '--no-cache']);
    expect(run.code, run.stderr).toBe(1);
    // Whichever ends it first: an attempt's --request-timeout, or --retry-deadline over the whole upload (0bc1879).
    const host = hostile.host.replace(/\./g, '\\.');
    expect(run.stderr).toMatch(new RegExp(`^FAILED robust-stall:1\\.0\\.0: (timed out waiting for ${host}|the upload of blob sha256:[0-9a-f]{64} to ${host} did not end within the retry deadline of 1 s)`, 'm'));
    expect(stackLines(run.stderr)).toEqual([]);
    const puts = hostile.requests.filter((r) => r.method === 'PUT' && r.path.includes('/blobs/uploads/'));
    expect(puts.length).toBeGreaterThanOrEqual(1);
    // Never a manifest: no tag points at the blob that never arrived.
    expect(hostile.requests.filter((r) => r.method === 'PUT' && r.path.includes('/robust-stall/manifests/'))).toEqual([]);
  });
});
