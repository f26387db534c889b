import { describe, expect, it } from 'vitest';
import { checkEcrSettings } from '../../../src/targets/ecr-settings.js';

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
