import { link, mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readChart } from '../../src/pack/chart.js';
import { validatePack } from '../../src/pack/index.js';
import { MIN_WORK_FOR_WORKERS, worthWorkers } from '../../src/operations/validate-pool.js';
import { runBin } from '../support/cli.js';
import { appendedTgz, putFile, writeFiles } from '../support/files.js';
import { CHART_FILES, writeValidPack } from '../support/packs.js';
import { runChild } from '../support/spawner.js';

/*
 * Chart archives as other tools write them, which Helm loads (Go's compress/gzip and archive/tar read
 * them all): gzip headers with the optional fields (FEXTRA, FNAME as `gzip -N` and Python write it,
 * FCOMMENT, FHCRC), an empty gzip member before the data (concatenated output), entry names with
 * backslashes (a tar made on Windows), PAX and GNU long names (GNU tar), hard and symbolic link entries
 * (tar without -h: Helm reads each as an empty file, so the pack passes with the chart-archive-link warning), a top
 * folder not named after the chart. Each pack passes on the main thread (validatePack) and in validate's worker threads (the built CLI, which inflates
 * in the worker itself: chart-archive.ts).
 */

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'packpub-variants-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** One gzip member of `data` with the header fields of `flags` (RFC 1952: 2 FHCRC, 4 FEXTRA, 8 FNAME, 16 FCOMMENT). */
function gzipMember(data: Buffer, flags: number): Buffer {
  const parts = [Buffer.from([0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 3])];
  if (flags & 4) parts.push(Buffer.from([6, 0]), Buffer.from('AB\x02\x00xy', 'latin1'));
  if (flags & 8) parts.push(Buffer.from('web-1.0.0.tar\0', 'latin1'));
  if (flags & 16) parts.push(Buffer.from('written by a test\0', 'latin1'));
  if (flags & 2) {
    const crc = Buffer.alloc(2);
    crc.writeUInt16LE(crc32(Buffer.concat(parts)) & 0xffff);
    parts.push(crc);
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data), 0);
  trailer.writeUInt32LE(data.length >>> 0, 4);
  return Buffer.concat([...parts, deflateRawSync(data), trailer]);
}

/** A tar of `files` written by tar-stream, names as given. */
async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  const out = buffer(pack);
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o644, mtime: new Date(0) }, content);
  pack.finalize();
  return out;
}

/** The chart folder `web` (CHART_FILES, plus `extra`) written under a new folder, then archived by GNU tar with `args`. */
async function gnuTar(args: string[], extra: Record<string, string> = {}, prepare?: (chart: string) => Promise<void>): Promise<Buffer> {
  const dir = await mkdtemp(join(work, 'chart-'));
  await writeFiles(dir, { ...CHART_FILES, ...extra });
  await prepare?.(join(dir, 'web'));
  return (await runChild('tar', [...args, '-C', dir, '-cf', '-', 'web'], { maxBuffer: 1 << 26 })).stdout;
}

const LONG = `web/files/${'d'.repeat(120)}/${'f'.repeat(90)}.txt`;

/** `warns`: parts of the one warning the pack gets (Helm loads the chart, but not as its author meant). */
const CASES: Array<{ name: string; archive: () => Promise<Buffer>; warns?: string[] }> = [
  { name: 'gzip header with FEXTRA, FNAME, FCOMMENT and FHCRC', archive: async () => gzipMember(await tarOf(CHART_FILES), 2 | 4 | 8 | 16) },
  { name: 'an empty gzip member before the data', archive: async () => Buffer.concat([gzipMember(Buffer.alloc(0), 0), gzipMember(await tarOf(CHART_FILES), 8)]) },
  {
    name: 'entry names with backslashes (a tar made on Windows)',
    archive: async () => gzipSync(await tarOf(Object.fromEntries(Object.entries(CHART_FILES).map(([name, content]) => [name.replaceAll('/', '\\'), content])))),
  },
  { name: 'GNU long names', archive: async () => gzipSync(await gnuTar(['--format=gnu'], { [LONG]: 'x\n' })) },
  { name: 'PAX long names and folder entries', archive: async () => gzipSync(await gnuTar(['--format=pax'], { [LONG]: 'x\n' })) },
  {
    name: 'hard and symbolic link entries',
    archive: async () =>
      gzipSync(
        await gnuTar([], {}, async (chart) => {
          await link(join(chart, 'templates/deployment.yaml'), join(chart, 'templates/copy.yaml'));
          await symlink('deployment.yaml', join(chart, 'templates/alias.yaml'));
        }),
      ),
    // Which of the two hard-linked files tar stores as the link depends on the order the folder lists them in.
    warns: [
      'web/templates/alias.yaml (a symbolic link to deployment.yaml), web/templates/',
      ' (a hard link to web/templates/',
      ") are link entries of the chart archive: Go's tar reader gives a link no content, so Helm loads each as an empty file and installs the chart without what they point to",
    ],
  },
  { name: "GNU tar's own format (records padded to 10 KiB)", archive: async () => gzipSync(await gnuTar([])) },
  {
    // Helm's loader reads every Chart.yaml entry into one Metadata, in order: the second keeps the first's version.
    name: 'a tar appended to (`tar -r`) with a second Chart.yaml lacking the version',
    archive: async () => appendedTgz(CHART_FILES, { 'web/Chart.yaml': 'apiVersion: v2\nname: web\ndescription: patched\n' }),
  },
  { name: 'a top folder not named after the chart', archive: async () => gzipSync(await tarOf(Object.fromEntries(Object.entries(CHART_FILES).map(([name, content]) => [name.replace(/^web\//, 'chart-src/'), content])))) },
];

describe('chart archives other tools write, which Helm loads', () => {
  const packs: string[] = [];
  beforeAll(async () => {
    for (const [i, c] of CASES.entries()) {
      const dir = await writeValidPack(join(work, `case-${i}`, 'pack'));
      await putFile(dir, 'charts/web-1.0.0.tgz', await c.archive());
      packs.push(dir);
    }
    // Enough work for validate to start its workers (a sparse file: counted by size, never read).
    await writeFile(join(packs[0]!, 'padding.bin'), '');
    await truncate(join(packs[0]!, 'padding.bin'), MIN_WORK_FOR_WORKERS);
  });

  it.each(CASES.map((c, i) => ({ ...c, i })))('$name: read as chart web 1.0.0, the pack passes', async ({ i, warns }) => {
    const chart = await readChart(join(packs[i]!, 'charts/web-1.0.0.tgz'));
    expect([chart.name, chart.version, chart.valuesText]).toEqual(['web', '1.0.0', 'replicas: 1\n']);
    const report = await validatePack(packs[i]!);
    expect(report.passed).toBe(true);
    if (warns === undefined) expect(report.findings).toEqual([]);
    else {
      expect(report.findings).toEqual([expect.objectContaining({ severity: 'warning', rule: 'chart-archive-link', file: 'charts/web-1.0.0.tgz' })]);
      for (const part of warns) expect(report.findings[0]?.message).toContain(part);
    }
  });

  it('all pass together in validate\'s worker threads (the built CLI, with enough work to start them)', async () => {
    expect(worthWorkers(packs)).toBe(true);
    const run = await runBin(['validate', '--json', ...packs]);
    expect(run.code, run.stdout).toBe(0);
    const reports = JSON.parse(run.stdout) as Array<{ passed: boolean; warnings: number }>;
    expect(reports.map((p) => [p.passed, p.warnings])).toEqual(CASES.map((c) => [true, c.warns === undefined ? 0 : 1]));
  });
});
