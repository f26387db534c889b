import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { listenOnLoopback } from '../support/loopback.js';
import { writePack } from '../support/packs.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * A registry that reads an upload at a trickle: each piece well within --request-timeout, so no timeout fires, but
 * the whole takes as long as it likes (a slowloris reader). --retry-deadline bounds a blob's upload whole, every
 * attempt included, as it bounds a download: the push ends at it, exit 1, saying so, nothing tagged. Before, the
 * push went on for as long as the registry kept reading (here ~40 s for 8 MiB, exit 0; a reader that only ever frees a little of its buffers in time holds it for days).
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-upload-deadline-');
  const requests: string[] = [];
  /** What distribution answers a finished blob upload with: 201, the blob's Location and its digest. */
  const uploaded = (path: string) => {
    const digest = decodeURIComponent(/[?&]digest=([^&]+)/.exec(path)?.[1] ?? '');
    return { location: `${path.split('/blobs/uploads/')[0] ?? ''}/blobs/${digest}`, 'docker-content-digest': digest, 'content-length': '0' };
  };
  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push(`${req.method ?? ''} ${path}`);
    if (req.method === 'POST') {
      req.resume();
      res.writeHead(202, { location: `${path.split('?')[0]}session-${requests.length}`, 'content-length': '0' });
      return void res.end();
    }
    if (req.method === 'PUT' && path.includes('/blobs/uploads/') && Number(req.headers['content-length']) > 1024 * 1024) {
      // a piece at a time, a short pause after each: about 200 KB/s
      req.on('data', () => {
        req.pause();
        const t = setTimeout(() => req.resume(), 300);
        req.once('close', () => clearTimeout(t));
      });
      req.on('end', () => {
        res.writeHead(201, uploaded(path));
        res.end();
      });
      return;
    }
    req.resume();
    if (req.method === 'PUT') {
      res.writeHead(201, path.includes('/blobs/uploads/') ? uploaded(path) : { 'content-length': '0' });
      return void res.end();
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}');
  });
  const listening = stack.add(await listenOnLoopback(server));
  return { root, host: listening.host, requests };
});

describe('an upload read at a trickle', () => {
  it('ends at --retry-deadline, exit 1 saying so, no manifest written (was: held for as long as the registry kept reading)', async () => {
    const pack = await writePack(join(w.root, 'trickle'), { name: 'trickle', version: '1.0.0' });
    await writeFile(join(pack, 'manifests', 'blob.bin'), randomBytes(8 * 1024 * 1024)); // incompressible
    const started = Date.now();
    const run = await runCli(['push', pack, '--registry', `${w.host}/slow`, '--no-cache', '--request-timeout', '30', '--retry-deadline', '3']);
    const ms = Date.now() - started;
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/^FAILED trickle:1\.0\.0: the upload of blob sha256:[0-9a-f]{64} to 127\.0\.0\.1:\d+ did not end within the retry deadline of 3 s/m);
    expect(stackLines(run.stderr)).toEqual([]);
    expect(ms).toBeLessThan(20_000);
    expect(w.requests.filter((r) => r.startsWith('PUT') && r.includes('/trickle/manifests/'))).toEqual([]);
  }, 120_000);
});
