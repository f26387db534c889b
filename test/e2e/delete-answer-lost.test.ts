import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { stackLines } from '../support/secrets.js';
import { proxiedSharedRegistry } from '../support/proxied-writes.js';
import { setup } from '../support/stage.js';
import { answerBytes } from '../support/wire-proxy.js';

/*
 * A delete the registry carries out while every answer to it is lost on the way: a gateway in front answering 500
 * (or 502/504) after the registry acted. The retries then meet the same gateway, so none says "not found". Before,
 * delete said "nothing was deleted; not deleted: <version>", exit 1, with the version gone from the registry. A
 * manifest no longer there after such failures is a delete carried out. A real registry sits behind the proxy.
 */

const w = setup((stack) => proxiedSharedRegistry(stack, 'packpub-delete-lost-'));

const GATEWAY = Buffer.from('{"errors":[{"code":"UNKNOWN","message":"upstream timed out"}]}');
const REPO = () => `${w.registry.base}/spectro-packs/archive`;
const LIMITS = ['--retry-attempts', '3', '--retry-delay', '0'];

/** `packpub delete REF --force` through the proxy, which answers as `onRequest` says meanwhile. */
async function deleteThroughProxy(ref: string, onRequest: NonNullable<typeof w.proxy.onRequest>): Promise<CliRun> {
  w.proxy.onRequest = onRequest;
  try {
    return await runCli(['delete', ref, '--registry', `${w.proxy.host}/${w.registry.base}`, '--force', ...LIMITS]);
  } finally {
    w.proxy.onRequest = undefined;
  }
}

describe('a delete whose every answer is lost after the registry acted', () => {
  it('is deleted, exit 0, and the registry no longer holds the version (was: "nothing was deleted", exit 1)', async () => {
    const keep = await writePack(join(w.root, 'kept'), { name: 'lost-delete', version: '1.0.0' });
    const drop = await writePack(join(w.root, 'dropped'), { name: 'lost-delete', version: '1.1.0' });
    for (const dir of [keep, drop]) expect((await runCli(['push', dir, '--registry', `${w.registry.host}/${w.registry.base}`, '--no-cache'])).code).toBe(0);
    const run = await deleteThroughProxy('lost-delete:1.1.0', (r) => (r.method === 'DELETE' ? { after: (a) => ({ raw: answerBytes(a, { status: 500, body: GATEWAY }) }) } : 'pass'));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('deleted');
    expect(run.stderr).not.toContain('nothing was deleted');
    expect(stackLines(run.stderr)).toEqual([]);
    expect((await w.reader.tags(`${REPO()}/lost-delete`)).sort()).toEqual(['1.0.0']);
  });

  it('a delete the gateway refused before the registry saw it is still a failure, the version kept', async () => {
    const dir = await writePack(join(w.root, 'refused'), { name: 'refused-delete', version: '1.0.0' });
    expect((await runCli(['push', dir, '--registry', `${w.registry.host}/${w.registry.base}`, '--no-cache'])).code).toBe(0);
    const run = await deleteThroughProxy('refused-delete:1.0.0', (r) => (r.method === 'DELETE' ? { raw: answerBytes({ status: 500, headers: { 'content-type': 'application/json' }, body: GATEWAY }) } : 'pass'));
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('answered 500 UNKNOWN: upstream timed out after 3 attempts');
    expect(stackLines(run.stderr)).toEqual([]);
    expect(await w.reader.tags(`${REPO()}/refused-delete`)).toEqual(['1.0.0']);
  });
});
