import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helperErase, helperGet, helperStore } from '../../../src/credentials/cred-helper.js';
import { isPackpubError } from '../../../src/errors.js';
import { makeCredHelperFixture, type CredHelperFixture } from '../../support/cred-helper-fixture.js';

let helper: CredHelperFixture;
beforeAll(async () => {
  helper = await makeCredHelperFixture();
});
afterAll(async () => {
  await helper?.cleanup();
});

describe('credential helper protocol', () => {
  it('stores, gets and erases through docker-credential-<name>', async () => {
    const opts = { env: helper.env };
    await helperStore('packpubtest', { serverUrl: 'harbor.example.com', username: 'robot$p+ci', secret: 's3cret' }, opts);
    expect(await helper.entries()).toEqual({ 'harbor.example.com': { Username: 'robot$p+ci', Secret: 's3cret' } });
    expect(await helperGet('packpubtest', 'harbor.example.com', opts)).toEqual({
      username: 'robot$p+ci',
      password: 's3cret',
      source: 'credential helper docker-credential-packpubtest',
    });
    expect(await helperErase('packpubtest', 'harbor.example.com', opts)).toBe(true);
    expect(await helper.entries()).toEqual({});
    expect(await helperGet('packpubtest', 'harbor.example.com', opts)).toBeUndefined();
    expect(await helperErase('packpubtest', 'harbor.example.com', opts)).toBe(false);
  });

  it('never puts the helper output in the error when it is not JSON', async () => {
    const runner = async () => ({ code: 0, stdout: 'SECRET-IN-OUTPUT', stderr: '' });
    const err = await helperGet('x', 'h', { runner }).catch((e: unknown) => e);
    expect(isPackpubError(err, 'CREDENTIALS')).toBe(true);
    expect((err as Error).message).not.toContain('SECRET-IN-OUTPUT');
  });

  it('gives up on a helper that does not answer', async () => {
    const runner = () => new Promise<never>((_r, reject) => setTimeout(() => reject(Object.assign(new Error('did not answer'), { code: 'ETIMEDOUT' })), 10));
    const err = await helperGet('slow', 'h', { runner }).catch((e: unknown) => e);
    expect(isPackpubError(err, 'CREDENTIALS')).toBe(true);
    expect((err as Error).message).toContain('docker-credential-slow');
  });
});
