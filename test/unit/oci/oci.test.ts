import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isImageReference, validateRepositoryPath } from '../../../src/oci/reference.js';
import { sha256Digest, verified } from '../../../src/oci/digest.js';
import { OciLayoutStore } from '../../../src/targets/oci-layout.js';
import { jsonTextFacts, shownPath } from '../../../src/oci/json-text.js';
import { createdTime, emptyArtifactManifest, goJsonString, packManifest, parseManifest, serializeManifest, EMPTY_CONFIG } from '../../../src/oci/manifest.js';

/*
 * The tests of src/oci/'s smaller modules, a describe per module (each was a test file of its own): each test file
 * costs vitest ~15-30 ms of CPU whatever its size (requests between worker and main process, test/per-file-
 * setup.ts).
 */

describe('repository-path', () => {
  // validateRepositoryPath remembers the paths it found valid: an invalid path must still be refused, with
  // its own message, every time, and a remembered one answered as before.
  describe('validateRepositoryPath, asked again', () => {
    it('answers a valid path the same way each time', () => {
      expect(validateRepositoryPath('spectro-packs/archive/cni-calico', 'pack repository')).toBe('spectro-packs/archive/cni-calico');
      expect(validateRepositoryPath('spectro-packs/archive/cni-calico', 'pack repository')).toBe('spectro-packs/archive/cni-calico');
    });

    it('refuses an invalid path each time, naming what was asked about', () => {
      for (const what of ['pack repository', 'base path', 'pack repository']) {
        expect(() => validateRepositoryPath('spectro-packs/Archive/x', what)).toThrow(`${what} "spectro-packs/Archive/x" has an invalid path component "Archive"`);
      }
    });

    it('refuses a path that only differs from a remembered one', () => {
      validateRepositoryPath('a/b');
      expect(() => validateRepositoryPath('a/b/')).toThrow(/invalid path component ""/);
      expect(() => validateRepositoryPath('a//b')).toThrow(/invalid path component ""/);
      expect(() => validateRepositoryPath(`${'a'.repeat(256)}`)).toThrow(/at most 255/);
    });
  });

  // values.yaml's pack.content.images entries (validate's values-image-reference) as Docker and containerd read a name
  // (distribution/reference normalize.go splitDockerDomain): a first component holding ".", ":" or a capital, or
  // "localhost", is a registry host.
  describe('isImageReference', () => {
    it('takes a first component in capitals as a registry host, as Docker does; a repository in capitals is none', () => {
      const cases = ['MyRegistry/app:1.0', 'REG/team/app@sha256:' + 'a'.repeat(64), 'registry/app:1', 'localhost/app', 'reg:5000/app', 'myregistry/App:1', 'Reg/App:1', 'Reg:1/app'];
      expect(cases.map((c) => [c, isImageReference(c)])).toEqual([
        ['MyRegistry/app:1.0', true],
        ['REG/team/app@sha256:' + 'a'.repeat(64), true],
        ['registry/app:1', true],
        ['localhost/app', true],
        ['reg:5000/app', true],
        ['myregistry/App:1', false],
        ['Reg/App:1', false],
        ['Reg:1/app', true],
      ]);
    });
  });
});

describe('verifying', () => {
  async function readAll(stream: Readable): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  const CONTENT = Buffer.from('the one digest-verifying stream');
  const DESC = { digest: sha256Digest(CONTENT), size: CONTENT.length };

  describe('verified (oci/digest.ts)', () => {
    it('passes content that matches its descriptor through unchanged', async () => {
      expect((await readAll(verified(Readable.from([CONTENT]), DESC))).equals(CONTENT)).toBe(true);
    });

    it.each([
      ['other bytes of the same size', Buffer.from('THE one digest-verifying stream'), /does not match its digest \(got sha256:/],
      ['a shorter body', CONTENT.subarray(0, 5), /is 5 bytes, its descriptor says 31/],
      ['a longer body', Buffer.concat([CONTENT, Buffer.from('!')]), /is larger than its descriptor's 31 bytes/],
    ])('fails with DIGEST_MISMATCH on %s', async (_what, body, message) => {
      await expect(readAll(verified(Readable.from([body]), DESC))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH', message: expect.stringMatching(message) });
    });
  });

  describe('fetchBlob verifies inside the store', () => {
    it('an OCI layout whose blob file was altered fails the read with DIGEST_MISMATCH, callers need not check', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'packpub-verify-'));
      try {
        const store = new OciLayoutStore(dir);
        await store.pushBlob('r', { mediaType: 'application/octet-stream', ...DESC }, () => Readable.from([CONTENT]));
        expect((await readAll(await store.fetchBlob('r', { mediaType: 'application/octet-stream', ...DESC }))).equals(CONTENT)).toBe(true);
        const blobs = join(dir, 'r', 'blobs', 'sha256');
        const [file] = await readdir(blobs);
        await writeFile(join(blobs, file!), Buffer.from('THE one digest-verifying stream'));
        await expect(readAll(await store.fetchBlob('r', { mediaType: 'application/octet-stream', ...DESC }))).rejects.toMatchObject({ code: 'DIGEST_MISMATCH' });
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
});

describe('jsonTextFacts (what Go reads otherwise than JSON.parse)', () => {
  it('finds keys given twice, also spelled with escapes, and integer fields written otherwise, not inside strings', () => {
    const text = '{"a":"{\\"b\\":1.5}","l":[{"s":1},{"s":1.0,"s":2}],"\\u006c":[],"n":[[-0,1e3]],"o":{"k":true,"k":null}}';
    const facts = jsonTextFacts(text);
    expect(JSON.parse(text)).toBeDefined();
    expect(facts.duplicates).toEqual([{ path: ['l', 1], key: 's' }, { path: [], key: 'l' }, { path: ['o'], key: 'k' }]);
    expect(facts.nonIntegers).toEqual([{ path: ['l', 1, 's'], literal: '1.0' }, { path: ['n', 0, 1], literal: '1e3' }]);
    expect(shownPath(['layers', 0, 'size'])).toBe('layers[0].size');
  });
});

describe('manifest', () => {
  // The example from oras-1.0-push.md, pushed by ORAS 1.0.0 with a fixed created time.
  const ORAS_EXAMPLE =
    '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.unknown.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447","size":12,"annotations":{"org.opencontainers.image.title":"file.tar.gz"}}],"annotations":{"org.opencontainers.image.created":"2023-06-01T12:00:00Z"}}';

  describe('pack manifest', () => {
    it('is byte-identical to the ORAS 1.0.0 reference example', () => {
      const bytes = serializeManifest(
        packManifest({
          layer: { digest: 'sha256:a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447', size: 12 },
          title: 'file.tar.gz',
          created: new Date('2023-06-01T12:00:00.789Z'),
        }),
      );
      expect(bytes.toString('utf8')).toBe(ORAS_EXAMPLE);
    });

    it('uses the {} config and its well-known digest', () => {
      expect(EMPTY_CONFIG.digest).toBe('sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
      expect(sha256Digest('{}')).toBe(EMPTY_CONFIG.digest);
    });

    it('writes the base-repository empty artifact with "layers":[]', () => {
      const text = serializeManifest(emptyArtifactManifest(new Date('2024-01-02T03:04:05Z'))).toString();
      expect(text).toContain('"layers":[]');
      expect(text.endsWith('"annotations":{"org.opencontainers.image.created":"2024-01-02T03:04:05Z"}}')).toBe(true);
    });

    it('escapes like Go encoding/json', () => {
      expect(goJsonString('a<b>&c')).toBe('"a\\u003cb\\u003e\\u0026c"');
      expect(goJsonString('x\u2028y\u2029')).toBe('"x\\u2028y\\u2029"');
      expect(goJsonString('t\tn\n\b\f"\\')).toBe('"t\\tn\\n\\u0008\\u000c\\"\\\\"');
      expect(goJsonString('é✓')).toBe('"é✓"');
    });

    it('sorts annotation keys bytewise', () => {
      const m = packManifest({ layer: { digest: EMPTY_CONFIG.digest, size: 2 }, title: 'a.tar.gz', created: new Date(0) });
      m.annotations = { b: '1', B: '2', a: '3' };
      expect(serializeManifest(m).toString()).toContain('"annotations":{"B":"2","a":"3","b":"1"}}');
    });

    it('round-trips through parseManifest', () => {
      const parsed = parseManifest(Buffer.from(ORAS_EXAMPLE));
      expect(serializeManifest(parsed).toString()).toBe(ORAS_EXAMPLE);
      expect(() => parseManifest(Buffer.from('{"schemaVersion":2}'))).toThrow(/not an OCI image manifest/);
      expect(() => parseManifest(Buffer.from('nope'))).toThrow(/not valid JSON/);
    });

    it('names a config or layer digest of another algorithm (was: "not an OCI image manifest")', () => {
      const sha512 = `sha512:${'ab'.repeat(64)}`;
      const layer = JSON.parse(ORAS_EXAMPLE) as { config: { digest: string }; layers: { digest: string }[] };
      layer.layers[0]!.digest = sha512;
      expect(() => parseManifest(Buffer.from(JSON.stringify(layer)))).toThrow('manifest names its layer by a sha512 digest: packpub reads sha256 digests only');
      const config = JSON.parse(ORAS_EXAMPLE) as { config: { digest: string } };
      config.config.digest = sha512;
      expect(() => parseManifest(Buffer.from(JSON.stringify(config)))).toThrow('manifest names its config by a sha512 digest');
      const broken = JSON.parse(ORAS_EXAMPLE) as { layers: { digest: string }[] };
      broken.layers[0]!.digest = 'sha256:short';
      expect(() => parseManifest(Buffer.from(JSON.stringify(broken)))).toThrow('manifest is not an OCI image manifest (schemaVersion 2 with config and layers)');
    });

    it('takes the created time from SOURCE_DATE_EPOCH', () => {
      expect(createdTime({ SOURCE_DATE_EPOCH: '1700000000' }).toISOString()).toBe('2023-11-14T22:13:20.000Z');
      expect(() => createdTime({ SOURCE_DATE_EPOCH: 'yesterday' })).toThrow(/SOURCE_DATE_EPOCH/);
      const fixed = new Date('2020-01-01T00:00:00Z');
      expect(createdTime({}, () => fixed)).toBe(fixed);
    });
  });
});
