import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { awsConnectionOf } from '../../../src/targets/options.js';
import { failure } from '../../support/errors.js';
import { stage, setup } from '../../support/stage.js';
import { makeTestCertificates } from '../../support/tls.js';
import { checkEcrSettings } from '../../../src/targets/ecr-settings.js';
import { sha256Digest } from '../../../src/oci/digest.js';
import { OciLayoutStore } from '../../../src/targets/oci-layout.js';

/*
 * The tests of src/targets/'s smaller modules, a describe per module (each was a test file of its own): each test
 * file costs vitest ~15-30 ms of CPU whatever its size (requests between worker and main process, test/per-file-
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
