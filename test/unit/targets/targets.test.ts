import fsPromises, { copyFile, readFile, writeFile, link, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import fs, { type PathLike } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { awsConnectionOf } from '../../../src/targets/options.js';
import { failure } from '../../support/errors.js';
import { stage, setup } from '../../support/stage.js';
import { makeTestCertificates } from '../../support/tls.js';
import { checkEcrSettings } from '../../../src/targets/ecr-settings.js';
import { sha256Digest } from '../../../src/oci/digest.js';
import { OciLayoutStore, SMALL_BLOB_BYTES } from '../../../src/targets/oci-layout.js';
import { EcrClients } from '../../../src/aws/ecr-sdk.js';
import { parseEcrHost } from '../../../src/aws/ecr-host.js';
import { staticProvider } from '../../../src/credentials/chain.js';
import type { HttpTransport } from '../../../src/registry/http.js';
import type { RetryClock } from '../../../src/registry/retry.js';
import { openTarget } from '../../../src/targets/open.js';
import { scripted, type Answer } from '../../support/fake-transport.js';
import { PackpubError } from '../../../src/errors.js';

/*
 * The tests of src/targets/'s modules, a describe per module (each was a test file of its own): each test file
 * costs vitest ~15-30 ms of CPU whatever its size (requests between worker and main process, test/per-file-
 * setup.ts).
 */

describe('aws-connection', () => {
  /*
   * What a target's AWS API clients trust (src/targets/options.ts awsConnectionOf): Node's roots once, then the
   * target's --ca-file, then the bundle AWS_CA_BUNDLE names (as the aws CLI reads it; `~/` is the env's HOME).
   */

  const stack = stage();

  describe('awsConnectionOf', () => {
    it('nothing to trust besides Node: no trust store of its own (the SDK keeps its own agent when no proxy is set either)', () => {
      expect(awsConnectionOf({ env: { HTTPS_PROXY: 'http://proxy:3128' } })).toEqual({ env: { HTTPS_PROXY: 'http://proxy:3128' } });
      expect(awsConnectionOf({ env: { AWS_CA_BUNDLE: '' } }).trust).toBeUndefined();
    });

    it('--ca-file and AWS_CA_BUNDLE (~/ read against the env\'s HOME): the roots once, then each file', async () => {
      const home = await stack.tempDir('packpub-aws-trust-');
      const own = stack.add(await makeTestCertificates({ hosts: ['registry.test'] }));
      const corporate = stack.add(await makeTestCertificates({ hosts: ['api.ecr.test'] }));
      await copyFile(corporate.caFile, join(home, 'corp-ca.pem'));
      const trust = awsConnectionOf({ caFile: own.caFile, env: { HOME: home, AWS_CA_BUNDLE: '~/corp-ca.pem' } }).trust;
      const ca = await trust?.();
      const roots = rootCertificates.length;
      expect(ca?.slice(0, roots)).toEqual([...rootCertificates]);
      expect(ca?.slice(-2)).toEqual([await readFile(own.caFile, 'utf8'), await readFile(corporate.caFile, 'utf8')]);
      expect(ca?.filter((c) => c === rootCertificates[0])).toHaveLength(1);
    });

    it('an AWS_CA_BUNDLE that cannot be read is refused naming the variable when a client is opened', async () => {
      const trust = awsConnectionOf({ env: { AWS_CA_BUNDLE: '/nonexistent/packpub-test/ca.pem' } }).trust;
      const refused = await failure((async () => trust?.())());
      expect(refused.code).toBe('USAGE');
      expect(refused.message).toContain('cannot read AWS_CA_BUNDLE /nonexistent/packpub-test/ca.pem');
    });
  });
});

describe('ecr-settings', () => {
  /* What an existing ECR repository's own settings mean for what was asked (the e2e test, ecr-settings.test.ts, runs the CLI). */

  const KEY = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555';
  const REF = 'host/r:1.0.0';
  const repo = (over: Record<string, string>) => ({ name: 'b/spectro-packs/archive/p', arn: 'arn:aws:ecr:us-east-1:123456789012:repository/b/spectro-packs/archive/p', ...over });

  describe('checkEcrSettings', () => {
    it('refuses weaker encryption, warns about stronger', () => {
      expect(checkEcrSettings({ encryption: 'KMS_DSSE' }, repo({ encryptionType: 'KMS', kmsKey: KEY }), undefined, REF).refusal?.message).toContain(
        `--ecr-encryption KMS_DSSE was asked, but the ECR repository b/spectro-packs/archive/p already existed with KMS encryption with key ${KEY}: refused`,
      );
      const stronger = checkEcrSettings({ encryption: 'KMS' }, repo({ encryptionType: 'KMS_DSSE', kmsKey: KEY }), undefined, REF);
      expect(stronger.refusal).toBeUndefined();
      expect(stronger.warnings.map((w) => w.message)).toEqual([expect.stringContaining('already existed with KMS_DSSE encryption')]);
      // No encryption in the answer is ECR's default, AES256.
      expect(checkEcrSettings({ encryption: 'KMS' }, repo({}), undefined, REF).refusal?.message).toContain('with AES256 encryption: refused');
    });

    it('compares a key id, key ARN or alias with the key ARN ECR reports', () => {
      const found = repo({ encryptionType: 'KMS', kmsKey: KEY });
      const check = (kmsKey: string) => checkEcrSettings({ encryption: 'KMS', kmsKey }, found, undefined, REF);
      expect(check(KEY)).toEqual({ warnings: [] });
      expect(check('11111111-2222-3333-4444-555555555555')).toEqual({ warnings: [] });
      expect(check('11111111-2222-3333-4444-000000000000').refusal?.message).toContain(`under another key, ${KEY}: refused`);
      expect(check('arn:aws:kms:us-east-1:123456789012:key/mrk-0123456789abcdef0123456789abcdef').refusal).toBeDefined();
      // An alias cannot be resolved without KMS: said, not refused.
      const alias = check('alias/packs');
      expect(alias.refusal).toBeUndefined();
      expect(alias.warnings[0]?.message).toContain('packpub cannot tell whether the alias names that key');
      expect(alias.warnings[0]?.hint).toContain('aws kms describe-key --key-id alias/packs');
      // A repository under the AWS managed key (no key of its own) is not under the key asked.
      expect(checkEcrSettings({ encryption: 'KMS', kmsKey: KEY }, repo({ encryptionType: 'KMS' }), undefined, REF).refusal?.message).toContain('no key of its own (the AWS managed key)');
    });

    it('tags: absent and different values are named; tags it has beyond those asked are fine', () => {
      const r = checkEcrSettings({ tags: { a: '1', b: '2', c: '3' } }, repo({}), { tags: { a: '1', b: 'x', d: '4' } }, REF);
      expect(r.refusal).toBeUndefined();
      expect(r.warnings[0]?.message).toMatch(/: b=2 \(it has b=x\), c=3 \(absent\)$/);
      expect(r.warnings[0]?.hint).toBe('aws ecr tag-resource --resource-arn arn:aws:ecr:us-east-1:123456789012:repository/b/spectro-packs/archive/p --tags Key=b,Value=2 Key=c,Value=3');
      expect(checkEcrSettings({ tags: { a: '1' } }, repo({}), { tags: { a: '1' } }, REF)).toEqual({ warnings: [] });
    });
  });
});

describe('oci-layout-lookups', () => {
  /*
   * The layout store reuses its parse of an unchanged index.json for lookups (list looks up every version);
   * a change another writer makes, even one that keeps the file's size or edits it in place, is seen by the next
   * lookup.
   */

  const TYPE = 'application/vnd.oci.image.manifest.v1+json';
  const manifest = (n: number) => Buffer.from(JSON.stringify({ schemaVersion: 2, n }));

  describe('OCI layout lookups', () => {
    const w = setup(async (stack) => ({ dir: await stack.tempDir('packpub-layout-lookups-') }));

    it('see tags another writer moves, adds and deletes', async () => {
      const reader = new OciLayoutStore(w.dir);
      const writer = new OciLayoutStore(w.dir);
      await writer.pushManifest('r', '1.0.0', manifest(1), TYPE);
      expect((await reader.getManifest('r', '1.0.0'))?.descriptor.digest).toBe(sha256Digest(manifest(1)));

      // Moved to content of the same size: index.json keeps its length, only the digest changes.
      await writer.pushManifest('r', '1.0.0', manifest(2), TYPE);
      expect((await reader.getManifest('r', '1.0.0'))?.descriptor.digest).toBe(sha256Digest(manifest(2)));
      expect((await reader.headManifest('r', '1.0.0'))?.digest).toBe(sha256Digest(manifest(2)));

      await writer.pushManifest('r', '1.0.1', manifest(3), TYPE);
      expect((await reader.headManifest('r', '1.0.1'))?.digest).toBe(sha256Digest(manifest(3)));
      await writer.deleteTag({ repository: 'r', tag: '1.0.1', digest: sha256Digest(manifest(3)), otherTags: [] });
      expect(await reader.headManifest('r', '1.0.1')).toBeUndefined();
      expect(await reader.getManifest('r', '1.0.1')).toBeUndefined();
      expect(await reader.listTags('r')).toEqual(['1.0.0']);
    });

    it('see an index.json edited in place (same file, same size)', async () => {
      const reader = new OciLayoutStore(w.dir);
      const writer = new OciLayoutStore(w.dir);
      await writer.pushManifest('e', '1.0.0', manifest(1), TYPE);
      await writer.pushManifest('e', '2.0.0', manifest(2), TYPE);
      expect((await reader.headManifest('e', '1.0.0'))?.digest).toBe(sha256Digest(manifest(1)));

      // A hand edit that swaps the two tags: the file keeps its inode and its length.
      const path = join(w.dir, 'e', 'index.json');
      const text = await readFile(path, 'utf8');
      const swapped = text.replace('"1.0.0"', '"x.0.0"').replace('"2.0.0"', '"1.0.0"').replace('"x.0.0"', '"2.0.0"');
      expect(swapped).not.toBe(text);
      expect(swapped.length).toBe(text.length);
      await writeFile(path, swapped);
      expect((await reader.headManifest('e', '1.0.0'))?.digest).toBe(sha256Digest(manifest(2)));
      expect((await reader.getManifest('e', '2.0.0'))?.descriptor.digest).toBe(sha256Digest(manifest(1)));
    });
  });
});

describe('open', () => {
  /** A clock that never waits: sleeps are recorded and time moves by them. */
  function fakeClock(): RetryClock & { slept: number[] } {
    let now = 1_000_000;
    const slept: number[] = [];
    return {
      slept,
      now: () => now,
      random: () => 0.5,
      sleep: async (ms) => {
        slept.push(ms);
        now += ms;
      },
    };
  }

  const USER = 'stack-user';
  const PASSWORD = 'stack-test-password';
  const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;

  function openWith(registry: string, transport: HttpTransport, clock: RetryClock) {
    return openTarget({ registry, credentials: staticProvider('test', { username: USER, password: PASSWORD }) }, { transport, clock });
  }

  describe('openTarget builds one HTTP stack per registry target, with injectable transport and clock', () => {
    it('retries through the injected clock (no real backoff) and authenticates through the same stack', async () => {
      let failures = 2;
      const { transport, sent } = scripted((req): Answer => {
        if (req.url.pathname === '/api/v2.0/systeminfo') return { status: 404 };
        if (req.headers?.['authorization'] !== BASIC) return { status: 401, headers: { 'www-authenticate': 'Basic realm="r"' } };
        if (failures-- > 0) return { status: 503 };
        return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'base/spectro-packs/archive/hello', tags: ['1.0.0'] }) };
      });
      const clock = fakeClock();
      const target = await openWith('registry.example.com/base', transport, clock);
      try {
        expect(target.store.kind).toBe('generic');
        expect(await target.store.listTags('base/spectro-packs/archive/hello')).toEqual(['1.0.0']);
      } finally {
        await target.store.close();
      }
      expect(clock.slept).toHaveLength(2); // two 503s, two backoffs, no real wait
      const tagCalls = sent.filter((s) => s.url.includes('/tags/list'));
      expect(tagCalls.map((s) => s.authorization)).toEqual([undefined, BASIC, BASIC, BASIC]);
    });

    it('gives Harbor REST calls the registry stack: same transport, same credentials, same retry clock', async () => {
      let projectFailures = 1;
      const { transport, sent } = scripted((req): Answer => {
        if (req.url.pathname === '/api/v2.0/systeminfo') return { status: 200, body: JSON.stringify({ harbor_version: 'v2.11.0' }) };
        if (req.url.pathname === '/api/v2.0/projects/proj') {
          if (projectFailures-- > 0) return { status: 502 };
          return { status: req.headers?.['authorization'] === BASIC ? 200 : 401 };
        }
        if (req.url.pathname === '/api/v2.0/projects/proj/repositories') {
          return { status: 200, body: JSON.stringify([{ name: 'proj/spectro-packs/archive/hello' }]) };
        }
        return { status: 404 };
      });
      const clock = fakeClock();
      const target = await openWith('harbor.example.com/proj', transport, clock);
      try {
        expect(target.store.kind).toBe('harbor');
        expect(await target.store.listRepositories('proj/spectro-packs/archive')).toEqual(['proj/spectro-packs/archive/hello']);
        await target.store.prepareRepository('proj/spectro-packs/archive/hello');
      } finally {
        await target.store.close();
      }
      expect(clock.slept).toHaveLength(1); // the 502 on the project lookup was retried on the injected clock
      const rest = sent.filter((s) => s.url.includes('/api/v2.0/projects'));
      expect(rest.length).toBeGreaterThanOrEqual(3);
      expect(rest.every((s) => s.authorization === BASIC)).toBe(true);
    });
  });

  describe('the Harbor probe (GET /api/v2.0/systeminfo)', () => {
    it('Harbor 2.13+ answering an anonymous probe without its version (only auth_mode and the like) is Harbor', async () => {
      const { transport } = scripted((req): Answer => {
        if (req.url.pathname === '/api/v2.0/systeminfo') {
          return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ auth_mode: 'oidc_auth', primary_auth_mode: false, self_registration: false, banner_message: '' }) };
        }
        return { status: 404 };
      });
      const target = await openWith('harbor.example.com/base', transport, fakeClock());
      try {
        expect(target.store.kind).toBe('harbor');
      } finally {
        await target.store.close();
      }
    });

    /** The store kind a registry whose systeminfo answers `body` (200) is opened as, and how many times it was asked. */
    async function probed(body: string, contentType: string): Promise<{ kind: string; asks: number }> {
      const { transport, sent } = scripted((req): Answer => {
        if (req.url.pathname === '/api/v2.0/systeminfo') return { status: 200, headers: { 'content-type': contentType }, body };
        return { status: 404 };
      });
      const target = await openWith('registry.example.com/base', transport, fakeClock());
      await target.store.close();
      return { kind: target.store.kind, asks: sent.filter((s) => s.url.includes('/api/v2.0/systeminfo')).length };
    }

    it('a JSON answer that is not an object (null, a string, an array, a number) is "not Harbor" at once, asked once', async () => {
      for (const body of ['null', '"harbor"', '[]', '42']) {
        expect(await probed(body, 'application/json'), body).toEqual({ kind: 'generic', asks: 1 });
      }
    });

    it('a web page answered 200 (a UI in front of the registry serving its index.html for every path) is "not Harbor" at once, asked once; an empty 200 is asked again', async () => {
      for (const [body, asks] of [['<!doctype html><html><head><title>Registry UI</title></head></html>', 1], ['\n  <html></html>', 1], ['', 3]] as const) {
        expect(await probed(body, 'text/html'), body).toEqual({ kind: 'generic', asks });
      }
    });
  });

  describe('EcrClients', () => {
    it('opens one ECR API client per region and AWS settings for the run, shared by every caller', async () => {
      const clients = new EcrClients();
      const host = parseEcrHost('123456789012.dkr.ecr.eu-west-1.amazonaws.com')!;
      const other = parseEcrHost('123456789012.dkr.ecr.us-east-2.amazonaws.com')!;
      try {
        const a = await clients.get(host, { endpoint: 'http://127.0.0.1:9' });
        const b = await clients.get(host, { endpoint: 'http://127.0.0.1:9' });
        const c = await clients.get(other, { endpoint: 'http://127.0.0.1:9' });
        expect(b.client).toBe(a.client);
        expect(c.client).not.toBe(a.client);
        expect(await a.client.config.region()).toBe('eu-west-1');
      } finally {
        clients.destroy();
      }
    });
  });

  describe('a generic registry delete retried after an attempt that may have reached the registry (registry/retry.ts deletedByEarlierAttempt)', () => {
    const REPO = 'base/spectro-packs/archive/hello';
    const DIGEST = `sha256:${'a'.repeat(64)}` as const;
    /** Delete through a registry whose first DELETE fails with `first`, then answers 404 MANIFEST_UNKNOWN. */
    async function deleteAfter(first: () => Answer) {
      let deletes = 0;
      const { transport } = scripted((req): Answer => {
        if (req.url.pathname === '/api/v2.0/systeminfo') return { status: 404 };
        if (req.method !== 'DELETE') return { status: 200 };
        return deletes++ === 0 ? first() : { status: 404, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }) };
      });
      const target = await openWith('registry.example.com/base', transport, fakeClock());
      try {
        return await target.store.deleteTag({ repository: REPO, tag: '1.0.0', digest: DIGEST, otherTags: [] }).then(() => 'done', (err: unknown) => err);
      } finally {
        await target.store.close();
        expect(deletes).toBe(2);
      }
    }
    const reset = () => {
      throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    };

    it('a reset (the answer lost) or a 503 before the 404: the earlier attempt did it, done', async () => {
      expect(await deleteAfter(reset)).toBe('done');
      expect(await deleteAfter(() => ({ status: 503 }))).toBe('done');
    });

    it('a 429 (not taken) or a connection never made before the 404: still "no longer there"', async () => {
      const refused = () => {
        throw Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' });
      };
      for (const first of [() => ({ status: 429 }), refused]) {
        expect(await deleteAfter(first)).toMatchObject({ code: 'NOT_FOUND', message: `registry.example.com/${REPO}:1.0.0 (${DIGEST}) is no longer there: deleted meanwhile?` });
      }
    });
  });
});

describe('oci-layout-atomic', () => {
  /*
   * The layout never shows a half-written blob or index.json (trust). kill-sigkill.test.ts cannot tell: its
   * kills never land inside a short write. Here the source stream is ours, so the test stops it midway and
   * looks: the bytes written so far are only in a temp file beside the blob (`<hex>.tmp-<pid>-<random>`), never
   * at blobs/sha256/<hex>; a failed write leaves no temp file and index.json as it was. index.json is replaced
   * by rename (a hard link to the old file keeps the old bytes), and an update that fails after the lock, the
   * read and the change leaves the previous index.json whole. CONTENT is larger than SMALL_BLOB_BYTES, so it streams
   * into its temp file; a smaller blob is read whole before anything is written (its own tests at the end).
   */

  const TYPE = 'application/vnd.oci.image.manifest.v1+json';
  const LAYER = 'application/vnd.oci.image.layer.v1.tar';
  const CONTENT = Buffer.alloc(SMALL_BLOB_BYTES + 64 * 1024, 'packpub layer bytes ');
  const DESC = { mediaType: LAYER, digest: sha256Digest(CONTENT), size: CONTENT.length };
  const HALF = 16 * 1024;

  async function readAll(stream: Readable): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  /** Wait (event-loop turns, bounded) until a file in `dir` holds `size` bytes; its name. */
  async function fileOfSize(dir: string, size: number): Promise<string> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      for (const name of await readdir(dir)) {
        if ((await stat(join(dir, name)).catch(() => undefined))?.size === size) return name;
      }
      if (Date.now() > deadline) throw new Error(`no file of ${size} bytes appeared in ${dir}: ${(await readdir(dir)).join(', ')}`);
      await new Promise((r) => setImmediate(r));
    }
  }

  describe('OCI layout writes are atomic', () => {
    const w = setup(async (stack) => ({ dir: await stack.tempDir('packpub-layout-atomic-') }));

    /** A layout holding one tag, and the bytes of its index.json. */
    let n = 0;
    async function layout(): Promise<{ repo: string; store: OciLayoutStore; blobs: string; indexPath: string; index: Buffer }> {
      const repo = `r${++n}`;
      const store = new OciLayoutStore(w.dir);
      await store.pushManifest(repo, '1.0.0', Buffer.from('{"schemaVersion":2}'), TYPE);
      const indexPath = join(w.dir, repo, 'index.json');
      return { repo, store, blobs: join(w.dir, repo, 'blobs', 'sha256'), indexPath, index: await readFile(indexPath) };
    }

    async function expectUntouched(l: { blobs: string; indexPath: string; index: Buffer }): Promise<void> {
      // Only the manifest pushed by layout(): no blob at its final name, no temp file left.
      expect(await readdir(l.blobs)).toEqual([sha256Digest(Buffer.from('{"schemaVersion":2}')).slice(7)]);
      expect((await readFile(l.indexPath)).equals(l.index)).toBe(true);
      expect(await readdir(join(l.blobs, '..', '..'))).not.toContain('index.json.lock');
    }

    async function expectWholeWriteWorks(l: { repo: string; store: OciLayoutStore; blobs: string }): Promise<void> {
      await l.store.pushBlob(l.repo, DESC, () => Readable.from([CONTENT]));
      expect(await l.store.hasBlob(l.repo, DESC.digest)).toBe(true);
      expect((await readAll(await l.store.fetchBlob(l.repo, DESC))).equals(CONTENT)).toBe(true);
      expect((await readdir(l.blobs)).filter((n) => n.includes('.tmp-'))).toEqual([]);
    }

    it('a source that fails midway: the bytes so far are only in a temp file, which is removed; the blob can be written again', async () => {
      const l = await layout();
      const final = join(l.blobs, DESC.digest.slice(7));
      const broke = new PackpubError('REGISTRY', 'the source broke after 16 KiB');
      let seen: { name: string; finalExists: boolean } | undefined;
      const source = Readable.from(
        (async function* () {
          yield CONTENT.subarray(0, HALF);
          const name = await fileOfSize(l.blobs, HALF);
          seen = { name, finalExists: await stat(final).then(() => true, () => false) };
          throw broke;
        })(),
      );
      await expect(l.store.pushBlob(l.repo, DESC, () => source)).rejects.toBe(broke);
      // Mid-write, the half-written bytes were in a temp file beside the blob, never at its final name.
      expect(seen?.finalExists).toBe(false);
      expect(seen?.name).toMatch(new RegExp(`^${DESC.digest.slice(7)}\\.tmp-${process.pid}-[0-9a-f]{8}$`));
      await expectUntouched(l);
      expect(await l.store.hasBlob(l.repo, DESC.digest)).toBe(false);
      await expectWholeWriteWorks(l);
    });

    it('a source that fails before its first byte (the temp file may still be opening): no blob, no temp file', async () => {
      const l = await layout();
      for (let i = 0; i < 20; i++) {
        const broke = new PackpubError('REGISTRY', `the source broke at once (${i})`);
        const source = i % 2 === 0 ? new Readable({ read() { this.destroy(broke); } }) : Readable.from((async function* () { yield* []; throw broke; })());
        await expect(l.store.pushBlob(l.repo, DESC, () => source)).rejects.toBe(broke);
        await expectUntouched(l);
      }
      await expectWholeWriteWorks(l);
    });

    /**
     * `title` for each of `sources`, bytes that do not match `desc`'s digest: refused (DIGEST_MISMATCH naming what came),
     * the layout as it was, and the blob's own bytes written afterwards (`thenWorks`).
     */
    function refusesMismatchedSources(title: string, desc: typeof DESC, sources: Array<[string, Buffer]>, thenWorks: (l: Awaited<ReturnType<typeof layout>>) => Promise<void>): void {
      it.each(sources)(title, async (_what, body) => {
        const l = await layout();
        await expect(l.store.pushBlob(l.repo, desc, () => Readable.from([body]))).rejects.toMatchObject({
          code: 'DIGEST_MISMATCH',
          message: expect.stringContaining(`expected ${desc.digest} (${desc.size} bytes), got ${sha256Digest(body)} (${body.length} bytes)`),
        });
        await expectUntouched(l);
        await thenWorks(l);
      });
    }

    refusesMismatchedSources(
      'a source whose bytes do not match the digest (%s): DIGEST_MISMATCH, nothing at the final name, no temp file',
      DESC,
      [
        ['other bytes of the same size', Buffer.alloc(CONTENT.length, 'PACKPUB LAYER BYTES ')],
        ['a shorter body', CONTENT.subarray(0, HALF)],
        ['a longer body', Buffer.concat([CONTENT, Buffer.from('!')])],
      ],
      expectWholeWriteWorks,
    );

    it('index.json is replaced by rename: the old file (held by a hard link) keeps its bytes', async () => {
      const l = await layout();
      const old = join(w.dir, `${l.repo}-index-before.json`);
      await link(l.indexPath, old);
      await l.store.pushManifest(l.repo, '2.0.0', Buffer.from('{"schemaVersion":2,"n":2}'), TYPE);
      expect((await readFile(old)).equals(l.index)).toBe(true);
      expect(JSON.parse(await readFile(l.indexPath, 'utf8')).manifests).toHaveLength(2);
      expect((await readdir(join(w.dir, l.repo))).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
    });

    it('an index.json update that fails after the lock, the read and the change leaves the previous index.json whole', async () => {
      // The rename that puts the new index.json in place fails (EIO, as a full disk or an I/O error would fail it):
      // node:fs's renameSync and node:fs/promises' rename replaced on Node's module objects for this layout's
      // index.json only, and pushed to the product's imports with syncBuiltinESMExports(); put back after. (A
      // symbolic link at index.json no longer makes the write fail: the store replaces such a link rather than
      // writing through it.)
      const l = await layout();
      const realRename = fsPromises.rename;
      const realRenameSync = fs.renameSync;
      const failed: string[] = [];
      const refused = (from: PathLike, to: PathLike): boolean => {
        if (String(to) !== l.indexPath) return false;
        failed.push(String(from));
        throw Object.assign(new Error(`EIO: i/o error, rename '${String(from)}' -> '${String(to)}'`), { code: 'EIO', errno: -5, syscall: 'rename' });
      };
      fsPromises.rename = (async (from: PathLike, to: PathLike) => {
        refused(from, to);
        return realRename(from, to);
      }) as typeof fsPromises.rename;
      fs.renameSync = (from: PathLike, to: PathLike) => {
        refused(from, to);
        realRenameSync(from, to);
      };
      syncBuiltinESMExports();
      try {
        await expect(l.store.pushManifest(l.repo, '2.0.0', Buffer.from('{"schemaVersion":2,"n":2}'), TYPE)).rejects.toMatchObject({ code: 'LOCAL_WRITE', message: expect.stringContaining(`cannot write ${l.indexPath}`) });
      } finally {
        fsPromises.rename = realRename;
        fs.renameSync = realRenameSync;
        syncBuiltinESMExports();
      }
      expect(failed).toHaveLength(1);
      expect((await readFile(l.indexPath)).equals(l.index)).toBe(true);
      expect(JSON.parse(await readFile(l.indexPath, 'utf8')).manifests).toHaveLength(1);
      expect(await l.store.listTags(l.repo)).toEqual(['1.0.0']);
      // Neither the temp file the rename was to move nor the lock is left.
      expect((await readdir(join(w.dir, l.repo))).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
      // A later update works and keeps the first tag.
      await l.store.pushManifest(l.repo, '2.0.0', Buffer.from('{"schemaVersion":2,"n":2}'), TYPE);
      expect(await l.store.listTags(l.repo)).toEqual(['1.0.0', '2.0.0']);
    });
    describe('a small blob (at most SMALL_BLOB_BYTES: a pack\'s config, most archives) is read whole before anything is written', () => {
      const SMALL = CONTENT.subarray(0, 64 * 1024);
      const SMALL_DESC = { mediaType: LAYER, digest: sha256Digest(SMALL), size: SMALL.length };

      async function expectSmallWriteWorks(l: { repo: string; store: OciLayoutStore; blobs: string }): Promise<void> {
        await l.store.pushBlob(l.repo, SMALL_DESC, () => Readable.from([SMALL.subarray(0, HALF), SMALL.subarray(HALF)]));
        expect(await l.store.hasBlob(l.repo, SMALL_DESC.digest, SMALL_DESC.size)).toBe(true);
        expect((await readAll(await l.store.fetchBlob(l.repo, SMALL_DESC))).equals(SMALL)).toBe(true);
        expect((await readdir(l.blobs)).filter((n) => n.includes('.tmp-'))).toEqual([]);
      }

      it('a source that fails midway: nothing in the blobs folder then or after, no temp file; the blob can be written again', async () => {
        const l = await layout();
        const broke = new PackpubError('REGISTRY', 'the source broke after 16 KiB');
        let during: string[] | undefined;
        const source = Readable.from(
          (async function* () {
            yield SMALL.subarray(0, HALF);
            during = await readdir(l.blobs);
            throw broke;
          })(),
        );
        await expect(l.store.pushBlob(l.repo, SMALL_DESC, () => source)).rejects.toBe(broke);
        expect(during).toEqual([sha256Digest(Buffer.from('{"schemaVersion":2}')).slice(7)]);
        await expectUntouched(l);
        await expectSmallWriteWorks(l);
      });

      refusesMismatchedSources(
        'a source whose bytes do not match the digest (%s): DIGEST_MISMATCH naming what came, nothing written',
        SMALL_DESC,
        [
          ['other bytes of the same size', Buffer.alloc(64 * 1024, 'PACKPUB LAYER BYTES ')],
          ['a shorter body', SMALL.subarray(0, HALF)],
          ['a longer body', Buffer.concat([SMALL, Buffer.from('!')])],
          ['a body far longer than said', CONTENT],
        ],
        expectSmallWriteWorks,
      );
    });
  });
});
