import fs, { mkdtempSync, readdirSync, realpathSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validatePack } from '../../../src/pack/index.js';
import { packJsonWith, writeValidPack } from '../../support/packs.js';
import { putFile } from '../../support/files.js';

/*
 * A stand-in for what cannot run here: a file system that finds names whatever their case (macOS's and
 * Windows' default). While this file runs, every path below ROOT given to node:fs and node:fs/promises is
 * looked up as such a system looks it up, then handed to the real call; readdir still lists the names as
 * they are on disk. The functions are replaced on Node's own module objects and pushed to every module's
 * imports of them with syncBuiltinESMExports(), so the product's modules (already loaded in this shared
 * worker) call the stand-in too; afterAll puts the real functions back the same way.
 */
const ROOT = realpathSync(mkdtempSync(join(tmpdir(), 'packpub-case-blind-')));
const list = readdirSync;

/**
 * How the stand-in compares names: as APFS does on macOS, whatever their Unicode form (composed "é", NFC, or
 * "e" and a combining accent, NFD) and, but below CASE_KEPT (a case-sensitive APFS volume), whatever their case.
 */
const CASE_KEPT = join(ROOT, 'case-sensitive-volume');
let fold = (name: string): string => name.normalize('NFC').toLowerCase();

function caseBlind(path: unknown): unknown {
  if (typeof path !== 'string' || !path.startsWith(`${ROOT}${sep}`)) return path;
  const keepCase = path === CASE_KEPT || path.startsWith(`${CASE_KEPT}${sep}`);
  fold = keepCase ? (name) => name.normalize('NFC') : (name) => name.normalize('NFC').toLowerCase();
  let found = ROOT;
  for (const part of path.slice(ROOT.length + 1).split(sep)) {
    let names: string[] = [];
    try {
      names = list(found);
    } catch {
      // not a folder (or gone): the rest is looked up as it is
    }
    found = join(found, names.includes(part) ? part : (names.find((n) => fold(n) === fold(part)) ?? part));
  }
  return found;
}

/**
 * Such a file system is a volume of its own: stat and lstat of a path below ROOT answer this device number.
 * (packpub finds out once per device whether names are found whatever their case: the suite's temp folder's
 * device was already found case-sensitive by the files that ran before this one in the same worker.)
 */
const STAND_IN_DEVICE = 0x7ca5eb1d;
const STAT_CALLS = new Set(['stat', 'lstat', 'statSync', 'lstatSync']);

function onStandInDevice(path: unknown, result: unknown): unknown {
  if (typeof path !== 'string' || !path.startsWith(`${ROOT}${sep}`)) return result;
  const device = path === CASE_KEPT || path.startsWith(`${CASE_KEPT}${sep}`) ? STAND_IN_DEVICE + 1 : STAND_IN_DEVICE;
  const mark = (stats: fs.Stats | fs.BigIntStats): fs.Stats | fs.BigIntStats => {
    if (typeof stats.dev === 'bigint') (stats as fs.BigIntStats).dev = BigInt(device);
    else (stats as fs.Stats).dev = device;
    return stats;
  };
  return result instanceof Promise ? result.then(mark) : result instanceof fs.Stats || typeof (result as { dev?: unknown } | undefined)?.dev === 'bigint' ? mark(result as fs.Stats) : result;
}

/** Wraps every function of `module` (classes and constants aside); the returned function puts them back. */
function wrapAll(module: Record<string, unknown>): () => void {
  const originals = new Map<string, unknown>();
  for (const [name, fn] of Object.entries(module)) {
    if (typeof fn !== 'function' || /^[A-Z]/.test(name)) continue;
    const real = (path: unknown, ...rest: unknown[]): unknown => (fn as (...a: unknown[]) => unknown)(caseBlind(path), ...rest);
    const call = STAT_CALLS.has(name) ? (path: unknown, ...rest: unknown[]): unknown => onStandInDevice(path, real(path, ...rest)) : real;
    if ('native' in fn) Object.assign(call, { native: (path: unknown, ...rest: unknown[]) => (fn as { native: (...a: unknown[]) => unknown }).native(caseBlind(path), ...rest) });
    originals.set(name, fn);
    module[name] = call;
  }
  return () => {
    for (const [name, fn] of originals) module[name] = fn;
  };
}

const restores = [wrapAll(fs as unknown as Record<string, unknown>), wrapAll(fs.promises as unknown as Record<string, unknown>)];
syncBuiltinESMExports();
afterAll(async () => {
  for (const restore of restores) restore();
  syncBuiltinESMExports();
  await rm(ROOT, { recursive: true, force: true });
});

describe('a pack on a file system that ignores case (macOS, Windows)', () => {
  it('the stand-in finds names whatever their case, as such a file system does', async () => {
    const dir = await writeValidPack(join(ROOT, 'stand-in'));
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(join(dir, 'PACK.JSON'), 'utf8')).toContain('"name": "web"');
    // The product's own imports of node:fs reach it too: the folder named in other case is found.
    expect((await validatePack(join(ROOT, 'STAND-IN'))).findings).toEqual([]);
  });

  it('passes the valid pack: checking names costs it nothing', async () => {
    const report = await validatePack(await writeValidPack(join(ROOT, 'valid')));
    expect(report.findings).toEqual([]);
  });

  it.each([
    { name: 'a chart listed as charts/Web-1.0.0.tgz, on disk as charts/web-1.0.0.tgz', listed: 'charts/Web-1.0.0.tgz', rule: 'chart-missing', file: 'pack.json', found: 'charts/web-1.0.0.tgz' },
    { name: 'a chart listed under Charts/, on disk under charts/', listed: 'Charts/web-1.0.0.tgz', rule: 'chart-missing', file: 'pack.json', found: undefined },
  ])('$name: refused, as Palette finds no such file in the archive on Linux', async ({ listed, rule, file, found }) => {
    const dir = await writeValidPack(join(ROOT, `listed-${listed.replace(/\W/g, '-')}`));
    await putFile(dir, 'pack.json', packJsonWith((json) => (json['charts'] = [listed])));
    const report = await validatePack(dir);
    expect(report.passed).toBe(false);
    const finding = report.findings.find((f) => f.rule === rule);
    expect(finding).toMatchObject({ severity: 'error', file, path: 'charts[0]' });
    if (found !== undefined) expect(finding?.message).toContain(`found "${found}" instead (names must match exactly, case included, where Palette reads the pack)`);
  });

  it.each([
    { disk: 'Logo.png', rule: 'logo-missing', file: 'logo.png', severity: 'warning' },
    { disk: 'Values.yaml', rule: 'values-missing', file: 'values.yaml', severity: 'error' },
    { disk: 'Pack.json', rule: 'pack-json-missing', file: 'pack.json', severity: 'error' },
    { disk: 'readme.md', rule: 'readme-missing', file: 'README.md', severity: 'warning' },
  ])('$disk on disk: $rule, naming it, as on Linux', async ({ disk, rule, file, severity }) => {
    const dir = await writeValidPack(join(ROOT, `disk-${disk}`));
    const { rename } = await import('node:fs/promises');
    // Renamed through a temporary name, as a case-only rename needs on such a system.
    await rename(join(dir, file), join(dir, 'renaming'));
    await rename(join(dir, 'renaming'), join(dir, disk));
    expect(readdirSync(dir)).toContain(disk);
    const report = await validatePack(dir);
    expect(report.findings.find((f) => f.rule === rule)).toMatchObject({ severity, file, message: expect.stringContaining(`found "${disk}"`) as unknown });
  });
});

describe('a name in pack.json written with other Unicode characters than on disk (macOS tools write names decomposed)', () => {
  const composed = 'manifests/caf\u00e9.yaml';
  const decomposed = 'manifests/cafe\u0301.yaml';

  it.each([
    { name: 'on a volume that ignores case (macOS default)', root: ROOT },
    { name: 'on a case-sensitive APFS volume, which still finds either form', root: CASE_KEPT },
  ])('$name: refused, as Palette finds no such file in the archive on Linux, naming both forms', async ({ root }) => {
    const dir = await writeValidPack(join(root, 'unicode'));
    await putFile(dir, decomposed, 'kind: ConfigMap\n');
    await putFile(dir, 'pack.json', packJsonWith((json) => (json['kubeManifests'] = [composed])));
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(join(dir, composed), 'utf8')).toBe('kind: ConfigMap\n');
    const report = await validatePack(dir);
    expect(report.passed).toBe(false);
    expect(report.findings.find((f) => f.rule === 'manifest-missing')).toMatchObject({
      severity: 'error',
      file: 'pack.json',
      message: expect.stringContaining(
        `found "${decomposed}" instead, the same letters written as other Unicode characters (decomposed (NFD) on disk, composed (NFC) in pack.json; macOS tools write names decomposed), which Palette, reading the pack on Linux, takes for another name`,
      ) as unknown,
    });
  });
});
