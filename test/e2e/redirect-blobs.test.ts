import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { runCli } from '../support/cli.js';
import { throwawaySecret } from '../support/secrets.js';
import { treeOf } from '../support/files.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';
import { registryWith } from '../support/push-setup.js';

/*
 * issue 6: blob downloads redirected to another host (as ECR sends them to presigned S3 URLs) must not
 * carry credentials there. A proxy in front of an authenticated registry answers every authorized blob GET
 * with a 307 to a "bucket" host, a second loopback server under another name (mapped with --resolve) that
 * serves the blob from the registry's storage and records the headers it receives.
 */

const USER = 'ci-robot';
const PASSWORD = throwawaySecret('redirect-password');
const BUCKET = 'bucket.s3.packpub.test';
/** The presigned URL's credential and signature: neither may show in any output. */
const SIGNATURE = throwawaySecret('SIGNATURE');
const KEY_ID = throwawaySecret('AKIATESTKEY');

interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
}

/** Serves `/bucket/sha256/<hex>` from a distribution storage folder, recording every request. */
async function startBucket(storageDir: string): Promise<{ port: number; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    seen.push({ path: req.url ?? '', headers: req.headers });
    const hex = /^\/bucket\/sha256\/([0-9a-f]{64})\?/.exec(req.url ?? '')?.[1];
    if (hex === undefined) {
      res.writeHead(404).end();
      return;
    }
    const data = join(storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    stat(data).then(
      (info) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(info.size) });
        createReadStream(data).pipe(res);
      },
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('blob GETs redirected to another host', () => {
  for (const mode of ['htpasswd', 'token'] as const) {
    describe(`${mode} registry`, () => {
      const w = setup(async (stack) => {
        const root = await stack.tempDir(`packpub-redirect-${mode}-`);
        const { registry, tokens } = await registryWith(stack, mode, { [USER]: PASSWORD }, { storage: 'filesystem' });
        const bucket = stack.add(await startBucket(registry.storageDir));
        const proxy = stack.add(await startRecordingProxy(registry.host));
        const env = { PACKPUB_USERNAME: USER, PACKPUB_PASSWORD: PASSWORD, SOURCE_DATE_EPOCH: '1700000000', DOCKER_CONFIG: join(root, 'docker') };
        const common = ['--registry', `${proxy.host}/base`, '--resolve', `${BUCKET}:${bucket.port}:127.0.0.1`];
        const pack = await writePack(join(root, 'pack'), { name: 'redirected', version: '2.0.0' });
        const push = await runCli(['push', pack, ...common], { env });
        expect(push.code, push.stderr).toBe(0);
        // From now on, an authorized blob GET is sent to the bucket with a presigned-looking URL (ECR -> S3).
        proxy.onRequest = (req) => {
          if (req.kind !== 'blob-get' || req.headers.authorization === undefined) return 'pass';
          const hex = /sha256:([0-9a-f]{64})/.exec(req.path)?.[1] ?? '';
          const query = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${KEY_ID}%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=${SIGNATURE}`;
          return { status: 307, headers: { location: `http://${BUCKET}:${bucket.port}/bucket/sha256/${hex}?${query}` } };
        };
        return { tokens, registry, proxy, bucket, root, pack, common, env };
      });

      function expectNoCredentialsAtTheBucket(from: number): void {
        const requests = w.bucket.seen.slice(from);
        expect(requests.length).toBeGreaterThan(0);
        for (const r of requests) {
          expect(r.path).toContain(`X-Amz-Signature=${SIGNATURE}`); // the redirect was followed as given
          expect(r.headers.authorization).toBeUndefined();
          expect(r.headers['proxy-authorization']).toBeUndefined();
          expect(r.headers.cookie).toBeUndefined();
        }
      }

      function expectRedactedTrace(stderr: string): void {
        expect(stderr).toContain(`debug: GET http://${BUCKET}:${w.bucket.port}/bucket/sha256/`);
        expect(stderr).toContain('X-Amz-Signature=***');
        expect(stderr).not.toContain(SIGNATURE);
        expect(stderr).not.toContain(KEY_ID);
      }

      it('pull follows the redirect without credentials and still gets the pack byte for byte', async () => {
        const before = w.bucket.seen.length;
        w.proxy.clear();
        const out = join(w.root, 'pulled');
        const run = await runCli(['pull', 'redirected:2.0.0', ...w.common, '-o', out, '--debug'], { env: w.env });
        expect(run.code, run.stderr).toBe(0);
        expect(await treeOf(out)).toEqual(await treeOf(w.pack));
        expect(w.proxy.count((r) => r.kind === 'blob-get' && r.status === 307 && r.hadAuthorization)).toBe(1);
        expectNoCredentialsAtTheBucket(before);
        expectRedactedTrace(run.stderr);
      });

      it('inspect reads the archive through the redirect, without credentials there', async () => {
        const before = w.bucket.seen.length;
        const run = await runCli(['inspect', 'redirected:2.0.0', ...w.common, '--json', '--debug'], { env: w.env });
        expect(run.code, run.stderr).toBe(0);
        expect((JSON.parse(run.stdout) as { packJson: { name: string } }).packJson.name).toBe('redirected');
        expectNoCredentialsAtTheBucket(before);
        expectRedactedTrace(run.stderr);
      });

      it('copy to a local layout fetches the blobs through the redirect, without credentials there', async () => {
        const before = w.bucket.seen.length;
        const layout = join(w.root, 'copied');
        const run = await runCli(['copy', 'redirected:2.0.0', '--from', `${w.proxy.host}/base`, '--to', `oci:${layout}`, '--resolve', `${BUCKET}:${w.bucket.port}:127.0.0.1`], {
          env: w.env,
        });
        expect(run.code, run.stderr).toBe(0);
        expectNoCredentialsAtTheBucket(before);
      });
    });
  }
});
