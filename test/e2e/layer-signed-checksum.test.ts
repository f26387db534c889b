import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { staticProvider } from '../../src/credentials/chain.js';
import { openGenericRegistryStore } from '../../src/targets/registry-store.js';
import { pushTestPack } from '../support/artifacts.js';
import { runCli, type CliRun } from '../support/cli.js';
import { craftTar } from '../support/files.js';
import { sharedRegistry } from '../support/registry.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * A pack layer whose tar headers hold the SIGNED checksum: the sum of the header's bytes each read as a signed char
 * (old tar implementations, some Java libraries wrote it so). It differs from the unsigned sum only in a header with a
 * byte of 0x80 or more (a UTF-8 owner or file name). Go's archive/tar (Palette's reader) takes either sum
 * (format.go, block.getFormat: `value != chksum1 && value != chksum2`, computeChecksum returning both; checked with
 * Go 1.19 on this very layer: it reads hello/, hello/pack.json, hello/values.yaml), and so does GNU tar. pull and
 * inspect refused it ("the archive is not a valid tar archive: Invalid tar header", exit 1): a false refusal of an
 * archive Palette reads. Likewise a checksum field Go reads and tar-stream did not (a leading NUL: Go trims spaces and
 * NULs at both ends; checked with Go 1.19 and GNU tar). Now read as Go reads it. A checksum that is neither sum is
 * still refused.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-signed-checksum-');
  const registry = await sharedRegistry();
  const store = await openGenericRegistryStore({ host: registry.host, credentials: staticProvider('none', undefined) });
  stack.add({ close: () => store.close() });
  return { root, store, R: `${registry.host}/${registry.base}/sgn`, REPO: `${registry.base}/sgn/spectro-packs/archive/hello` };
});

const VALUES = 'replicas: 2\n';
const packJson = (version: string) => JSON.stringify({ name: 'hello', version });

/** The checksum field as Go's writer and GNU tar write it: six octal digits, NUL, space. */
const field = (sum: number) => `${sum.toString(8).padStart(6, '0')}\0 `;

/** hello:<version>'s tar, every header owned by "josé" (a byte of 0x80 or more), its checksum field rewritten by `write`. */
async function packTar(version: string, write: (header: Buffer) => string): Promise<Buffer> {
  const tar = await craftTar([
    { name: 'hello/', type: 'directory', uname: 'josé' },
    { name: 'hello/pack.json', content: packJson(version), uname: 'josé' },
    { name: 'hello/values.yaml', content: VALUES, uname: 'josé' },
  ]);
  let headers = 0;
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    header.write(write(header), 148, 'latin1');
    headers++;
    const size = parseInt(header.toString('latin1', 124, 136).replace(/[\0 ].*$/, ''), 8) || 0;
    at += 512 + Math.ceil(size / 512) * 512;
  }
  expect(headers).toBe(3);
  return tar;
}

/** The header's sum with its checksum field read as eight spaces, each byte signed or not. */
function headerSum(header: Buffer, signed: boolean): number {
  let sum = 8 * 0x20;
  for (let i = 0; i < 512; i++) {
    if (i >= 148 && i < 156) continue;
    const c = header[i] as number;
    sum += signed && c >= 0x80 ? c - 256 : c;
  }
  return sum;
}

function expectRun(run: CliRun, code: number): void {
  expect(run.code, run.stdout + run.stderr).toBe(code);
  expect(stackLines(run.stderr)).toEqual([]);
  expect(run.stderr).not.toContain('this is a bug in packpub');
}

describe('a layer whose tar headers hold the signed checksum', () => {
  it.each<[string, string, (header: Buffer) => string]>([
    ['the signed sum', '1.0.0', (h) => field(headerSum(h, true))],
    // Go trims spaces and NULs at both ends of the field (GNU tar reads it too); tar-stream read a leading NUL as 0.
    ['the unsigned sum after a NUL and a space', '1.0.2', (h) => `\0 ${headerSum(h, false).toString(8).padStart(6, '0')}`],
  ])('%s: pull writes the pack and inspect shows it, exit 0 (was: "not a valid tar archive", exit 1)', async (_what, version, write) => {
    const tar = await packTar(version, write);
    expect(headerSum(tar.subarray(0, 512), true)).toBeLessThan(headerSum(tar.subarray(0, 512), false));
    await pushTestPack(w.store, w.REPO, version, gzipSync(tar));
    const inspect = await runCli(['inspect', `hello:${version}`, '--registry', w.R, '--json']);
    expectRun(inspect, 0);
    expect(JSON.parse(inspect.stdout)).toMatchObject({ folder: 'hello', packJson: { name: 'hello', version } });
    const out = join(w.root, `pulled-${version}`);
    const pull = await runCli(['pull', `hello:${version}`, '--registry', w.R, '-o', out]);
    expectRun(pull, 0);
    expect((await readdir(out)).sort()).toEqual(['pack.json', 'values.yaml']);
    expect(await readFile(join(out, 'values.yaml'), 'utf8')).toBe(VALUES);
  });

  it('a checksum that is neither sum is still refused by pull and inspect, exit 1, nothing written', async () => {
    await pushTestPack(w.store, w.REPO, '1.0.1', gzipSync(await packTar('1.0.1', (h) => field(headerSum(h, true) - 1))));
    const says = 'Invalid tar header';
    const inspect = await runCli(['inspect', 'hello:1.0.1', '--registry', w.R]);
    expectRun(inspect, 1);
    expect(inspect.stderr).toContain(says);
    expect(inspect.stdout).toBe('');
    const out = join(w.root, 'pulled-1.0.1');
    const pull = await runCli(['pull', 'hello:1.0.1', '--registry', w.R, '-o', out]);
    expectRun(pull, 1);
    expect(pull.stderr).toContain(`error: the archive is not a valid tar archive: ${says}`);
    await expect(readdir(out)).rejects.toThrow();
  });
});
