import { mkdtempSync, readdirSync, realpathSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { putFile } from '../../support/files.js';
import { writeValidPack } from '../../support/packs.js';

/*
 * A stand-in for what cannot run here: a file system that finds names whatever their case (macOS's and
 * Windows' default). Below ROOT every path is looked up as such a system looks it up, then handed to the
 * real call; readdir still lists the names as they are on disk.
 */
const stand = vi.hoisted(() => ({ root: '' }));

function caseBlind(path: unknown, list: (dir: string) => string[]): unknown {
  const root = stand.root;
  if (root === '' || typeof path !== 'string' || !path.startsWith(`${root}${sep}`)) return path;
  let found = root;
  for (const part of path.slice(root.length + 1).split(sep)) {
    let names: string[] = [];
    try {
      names = list(found);
    } catch {
      // not a folder (or gone): the rest is looked up as it is
    }
    found = join(found, names.includes(part) ? part : (names.find((n) => n.toLowerCase() === part.toLowerCase()) ?? part));
  }
  return found;
}

function wrapAll<T extends Record<string, unknown>>(module: T, list: (dir: string) => string[]): T {
  const wrapped: Record<string, unknown> = { ...module };
  for (const [name, fn] of Object.entries(module)) {
    if (typeof fn !== 'function' || /^[A-Z]/.test(name)) continue;
    const call = (path: unknown, ...rest: unknown[]): unknown => (fn as (...a: unknown[]) => unknown)(caseBlind(path, list), ...rest);
    if ('native' in fn) Object.assign(call, { native: (path: unknown, ...rest: unknown[]) => (fn as { native: (...a: unknown[]) => unknown }).native(caseBlind(path, list), ...rest) });
    wrapped[name] = call;
  }
  return wrapped as T;
}

vi.mock('node:fs', async (original) => {
  const real = await original<typeof import('node:fs')>();
  const fs = wrapAll(real, (dir) => real.readdirSync(dir));
  return { ...fs, default: fs };
});
vi.mock('node:fs/promises', async (original) => {
  const { readdirSync: list } = await vi.importActual<typeof import('node:fs')>('node:fs');
  const fs = wrapAll(await original<typeof import('node:fs/promises')>(), (dir) => list(dir));
  return { ...fs, default: fs };
});

const ROOT = realpathSync(mkdtempSync(join(tmpdir(), 'packpub-case-blind-')));
stand.root = ROOT;

const { validatePack } = await import('../../../src/pack/index.js');

afterAll(() => rm(ROOT, { recursive: true, force: true }));

describe('a pack on a file system that ignores case (macOS, Windows)', () => {
  it('the stand-in finds names whatever their case, as such a file system does', async () => {
    const dir = await writeValidPack(join(ROOT, 'stand-in'));
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(join(dir, 'PACK.JSON'), 'utf8')).toContain('"name": "web"');
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
    const { packJsonWith } = await import('../../support/packs.js');
    await putFile(dir, 'pack.json', packJsonWith((json) => (json['charts'] = [listed])));
    const report = await validatePack(dir);
    expect(report.passed).toBe(false);
    const finding = report.findings.find((f) => f.rule === rule);
    expect(finding).toMatchObject({ severity: 'error', file, path: 'charts[0]' });
    if (found !== undefined) expect(finding?.message).toContain(`found "${found}" instead (names must match exactly, case included, where Palette reads the pack)`);
  });

  it.each([
    { disk: 'Logo.png', rule: 'logo-missing', file: 'logo.png', severity: 'error' },
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
