import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hurryRetries } from '../support/clock.js';
import { runCli, type CliRun } from '../support/cli.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';
import { publishedRegistry } from '../support/published.js';

/*
 * A tag the tag list just named whose manifest read answers 404: a replica or cache behind the listing says so for
 * a moment. `list` reads such a tag once more after a pause (the retry delay), so one passing 404 does not show a
 * published version as "not a pack"; a 404 that stays is listed with a note saying what happened, not what the tag
 * holds. copy --all, which takes its versions from the same tag list, reads such a tag again too. A real
 * distribution registry holds the packs; the proxy in front of it answers the 404s.
 */

const REPO = () => `${w.src}/spectro-packs/archive/rr`;
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const NOT_FOUND = { status: 404, headers: { 'content-type': 'application/json' }, body: '{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}' };

const w = setup(async (stack) => {
  const published = await publishedRegistry(stack, 'packpub-list-reread-', ['1.0.0', '1.1.0'].map((version) => ({ name: 'rr', version })));
  const digest = sha256((await published.reader.manifest(`${published.src}/spectro-packs/archive/rr`, '1.1.0')) ?? Buffer.alloc(0));
  return { ...published, digest };
});
const clock = hurryRetries();

afterEach(() => {
  w.proxy.onRequest = undefined;
});

const reads = (tag: string) => w.proxy.count((r) => r.kind === 'manifest-get' && r.path === `/v2/${REPO()}/manifests/${tag}`);
function expectClean(run: CliRun, code: number): void {
  expect(run.code, `${run.stdout}${run.stderr}`).toBe(code);
  expect(stackLines(run.stderr)).toEqual([]);
}
/** The registry still holds both versions as pushed: list only reads. */
async function expectHeld(): Promise<void> {
  expect(sha256((await w.reader.manifest(REPO(), '1.1.0')) ?? Buffer.alloc(0))).toBe(w.digest);
  expect(await w.reader.manifest(REPO(), '1.0.0')).toBeDefined();
}
/** The proxy answers the first `times` GETs of rr:1.1.0's manifest 404, then passes them on. */
function notFoundFor(times: number): void {
  let left = times;
  w.proxy.onRequest = (r) => (r.kind === 'manifest-get' && r.path === `/v2/${REPO()}/manifests/1.1.0` && left-- > 0 ? NOT_FOUND : 'pass');
}

describe('list: a listed tag whose manifest read answers 404', () => {
  it('once: read again after a pause, listed with its digest and no note (was: "is not a pack", no digest, exit 0)', async () => {
    notFoundFor(1);
    w.proxy.clear();
    const slept = clock.slept.length;
    const list = await runCli(['list', 'rr', '--registry', w.P]);
    expectClean(list, 0);
    expect(list.stdout).toMatch(new RegExp(`rr +1\\.1\\.0 +${w.digest.slice(0, 19)} `));
    expect(list.stderr).toBe('');
    expect(reads('1.1.0')).toBe(2);
    expect(reads('1.0.0')).toBe(1);
    // One pause, the retry policy's first delay (0.25 s, +-10 %).
    expect(clock.slept.slice(slept)).toEqual([expect.closeTo(250, -2)]);

    notFoundFor(1);
    const json = await runCli(['list', 'rr', '--registry', w.P, '--json']);
    expectClean(json, 0);
    const versions = (JSON.parse(json.stdout) as { packs: Array<{ versions: Array<Record<string, unknown>> }> }).packs[0]?.versions;
    expect(versions?.[1]).toMatchObject({ version: '1.1.0', digest: w.digest, size: expect.any(Number) });
    expect(versions?.[1]).not.toHaveProperty('notPack');
    await expectHeld();
  });

  it('every time: read twice, listed with a note saying it is not served, not that it is no pack; --retry-delay sets the pause', async () => {
    notFoundFor(Infinity);
    w.proxy.clear();
    const slept = clock.slept.length;
    const list = await runCli(['list', 'rr', '--registry', w.P, '--retry-delay', '2']);
    expectClean(list, 0);
    expect(list.stdout).toMatch(/rr +1\.1\.0 +- +- +-/);
    expect(list.stderr).toBe(`note: rr:1.1.0 is listed, but ${w.proxy.host} serves no manifest for it; pull, inspect, tag and copy fail on it\n`);
    expect(reads('1.1.0')).toBe(2);
    expect(clock.slept.slice(slept)).toEqual([expect.closeTo(2000, -3)]);
    const json = await runCli(['list', 'rr', '--registry', w.P, '--json']);
    expectClean(json, 0);
    const versions = (JSON.parse(json.stdout) as { packs: Array<{ versions: Array<Record<string, unknown>> }> }).packs[0]?.versions;
    expect(versions?.[1]).toEqual({ version: '1.1.0', reference: `${w.P}/spectro-packs/archive/rr:1.1.0`, notPack: 'the tag is listed, but no manifest is served for it' });
    // What the note says pull does.
    const pull = await runCli(['pull', 'rr:1.1.0', '--registry', w.P, '--output', join(w.root, 'pulled')]);
    expectClean(pull, 1);
    expect(pull.stderr).toContain(`${w.P}/spectro-packs/archive/rr:1.1.0 does not exist`);
    // And copy --all (was: the note said copy says "does not exist"; copy --all says what list saw).
    const copied = await runCli(['copy', 'rr', '--all', '--from', w.P, '--to', `oci:${join(w.root, 'copied')}`]);
    expect(copied.code, copied.stdout + copied.stderr).toBe(1);
    expect(copied.stderr).toContain('rr:1.1.0');
    expect(copied.stderr).toContain('is listed, but');
    await expectHeld();
  });
});

describe('copy --all: a listed tag whose manifest read answers 404', () => {
  const DST = () => w.under('dst/spectro-packs/archive/rr');
  const dest = (n: string) => `${w.registry.host}/${w.under(n)}`;
  const held = async (repo: string, tag: string) => {
    const bytes = await w.reader.manifest(repo, tag);
    return bytes === undefined ? undefined : sha256(bytes);
  };

  it('once: read again after a pause and copied (was: FAILED "does not exist", exit 1)', async () => {
    notFoundFor(1);
    w.proxy.clear();
    const copy = await runCli(['copy', 'rr', '--all', '--from', w.P, '--to', dest('dst')]);
    expectClean(copy, 0);
    expect(copy.stdout).toContain('2 copied');
    expect(reads('1.1.0')).toBe(2);
    expect(await held(DST(), '1.1.0')).toBe(w.digest);
    expect(await held(DST(), '1.0.0')).toBe(await held(REPO(), '1.0.0'));
  });

  it('every time: read twice, FAILED saying it is listed but not served, the other version copied, exit 1', async () => {
    notFoundFor(Infinity);
    w.proxy.clear();
    const copy = await runCli(['copy', 'rr', '--all', '--from', w.P, '--to', dest('dst2')]);
    expectClean(copy, 1);
    expect(copy.stderr).toContain(`FAILED rr:1.1.0: ${w.P}/spectro-packs/archive/rr:1.1.0 is listed, but ${w.proxy.host} serves no manifest for it`);
    expect(reads('1.1.0')).toBe(2);
    expect(await held(w.under('dst2/spectro-packs/archive/rr'), '1.1.0')).toBeUndefined();
    expect(await held(w.under('dst2/spectro-packs/archive/rr'), '1.0.0')).toBe(await held(REPO(), '1.0.0'));
    await expectHeld();
  });
});
