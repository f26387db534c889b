import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { holdVersions } from '../support/registry-admin.js';
import { RegistryReader } from '../support/registry-reader.js';
import { sharedRegistry } from '../support/registry.js';
import { madeForRun } from '../support/tls.js';
import { startTokenServer } from '../support/token-server.js';

/*
 * The registries a worker's test files share (support/registry.ts sharedRegistry): one process per kind of
 * auth, a base path of each caller's own, htpasswd users added as files ask, and a user name given another
 * password kept apart. What one caller pushes is not under another's base path.
 */

/** The status /v2/ answers with Basic `user:password`. */
async function statusAs(url: string, user: string, password: string): Promise<number> {
  const res = await request(`${url}/v2/`, { headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } });
  await res.body.dump();
  return res.statusCode;
}

describe('sharedRegistry', () => {
  it('hands every caller the same running registry and a base path of its own; stop() leaves it running', async () => {
    const [a, b] = await Promise.all([sharedRegistry(), sharedRegistry()]);
    expect(b.port).toBe(a.port);
    expect(b.base).not.toBe(a.base);
    await holdVersions(a, [{ repository: `${a.base}/spectro-packs/archive/mine`, tag: '1.0.0' }]);
    const reader = new RegistryReader(a.url);
    expect([...(await reader.tagDigests(a.base)).keys()]).toEqual([`${a.base}/spectro-packs/archive/mine:1.0.0`]);
    expect((await reader.tagDigests(b.base)).size).toBe(0);
    await a.stop();
    const again = await sharedRegistry();
    expect(again.port).toBe(a.port);
    expect((await reader.holdings(a.base)).problems).toEqual([]);
  });

  it('htpasswd: lets in the users of every caller, and keeps a user name given another password apart', async () => {
    const id = randomBytes(4).toString('hex');
    const [first, second] = [`shared-a-${id}`, `shared-b-${id}`];
    const one = await sharedRegistry({ auth: 'htpasswd', users: { [first]: 'pw-one' } });
    expect(await statusAs(one.url, first, 'pw-one')).toBe(200);
    expect(await statusAs(one.url, second, 'pw-two')).toBe(401);
    const two = await sharedRegistry({ auth: 'htpasswd', users: { [second]: 'pw-two' } });
    expect(two.port).toBe(one.port);
    expect(await statusAs(one.url, first, 'pw-one')).toBe(200);
    expect(await statusAs(one.url, second, 'pw-two')).toBe(200);
    const other = await sharedRegistry({ auth: 'htpasswd', users: { [first]: 'pw-other' } });
    expect(other.port).not.toBe(one.port);
    expect(await statusAs(other.url, first, 'pw-other')).toBe(200);
    expect(await statusAs(other.url, first, 'pw-one')).toBe(401);
    expect(await statusAs(one.url, first, 'pw-other')).toBe(401);
  });

  it('token: a token server of each file on the worker\'s shared realm; the latest started one answers, until it closes', async () => {
    const id = randomBytes(4).toString('hex');
    const first = await startTokenServer({ users: { [`first-${id}`]: 'pw-first' }, sharedRealm: true });
    const second = await startTokenServer({ users: { [`second-${id}`]: 'pw-second' }, sharedRealm: true });
    try {
      expect(second.realm).toBe(first.realm);
      const [a, b] = await Promise.all([sharedRegistry({ auth: 'token', token: first }), sharedRegistry({ auth: 'token', token: second })]);
      expect(b.port).toBe(a.port);
      const ask = async (user: string, password: string) => {
        const res = await request(`${first.realm}?service=${first.service}&scope=repository:${a.base}/x:pull`, { headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } });
        const { token } = (await res.body.json()) as { token: string };
        const v2 = await request(`${a.url}/v2/`, { headers: { authorization: `Bearer ${token}` } });
        await v2.body.dump();
        return v2.statusCode;
      };
      expect(await ask(`second-${id}`, 'pw-second')).toBe(200);
      expect(second.requests.map((r) => [r.user, r.authenticated])).toEqual([[`second-${id}`, true]]);
      expect(first.requests).toEqual([]);
      await second.close();
      expect(await ask(`first-${id}`, 'pw-first')).toBe(200);
      expect(first.requests.map((r) => [r.user, r.authenticated])).toEqual([[`first-${id}`, true]]);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});

describe('madeForRun', () => {
  it('makes a folder once, also when asked twice at the same time, and hands both the complete one', async () => {
    const name = `made-once-${randomBytes(4).toString('hex')}`;
    let makes = 0;
    const make = async (dir: string) => {
      makes += 1;
      await writeFile(join(dir, 'content'), `make ${makes}`);
    };
    const [a, b] = await Promise.all([madeForRun(name, make), madeForRun(name, make)]);
    expect(b).toBe(a);
    expect(await readdir(a)).toEqual(['content']);
    const kept = await readFile(join(a, 'content'), 'utf8');
    expect(await madeForRun(name, make)).toBe(a);
    expect(await readFile(join(a, 'content'), 'utf8')).toBe(kept);
    // Both began before either had finished: the one renamed second was thrown away.
    expect(makes).toBe(2);
  });
});
