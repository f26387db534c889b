import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { summariseProfiles } from '../../../bench/profile.js';
import { evaluate, type Measurements } from '../../../bench/report.js';
import { median } from '../../../bench/stats.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('summariseProfiles', () => {
  it('adds self time per function over every thread profile, from the sample time deltas', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'packpub-bench-prof-'));
    dirs.push(dir);
    const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber, scriptId: '0', columnNumber: 0 });
    const profile = (extra: number) => ({
      nodes: [
        { id: 1, callFrame: frame('(root)', '') },
        { id: 2, callFrame: frame('buildArchive', 'file:///repo/dist/archive/build.js', 9) },
        { id: 3, callFrame: frame('(idle)', '') },
        { id: 4, callFrame: frame('parse', 'file:///repo/node_modules/js-yaml/dist/index.js', 99) },
      ],
      startTime: 0,
      endTime: 10_000,
      samples: [2, 2, 3, 4, 2],
      timeDeltas: [1000, 1000, 4000, 2000 + extra, 1000],
    });
    await writeFile(join(dir, 'CPU.1.main.cpuprofile'), JSON.stringify(profile(0)));
    await writeFile(join(dir, 'CPU.2.worker.cpuprofile'), JSON.stringify(profile(1000)));
    await writeFile(join(dir, 'notes.txt'), 'not a profile');

    const s = await summariseProfiles(dir, '/repo');
    expect(s.files).toHaveLength(2);
    expect(s.totalMs).toBeCloseTo(19, 5);
    expect(s.functions[0]).toMatchObject({ label: '(idle)', selfMs: 8 });
    expect(s.functions.find((f) => f.label === 'buildArchive (dist/archive/build.js:10)')?.selfMs).toBeCloseTo(6, 5);
    expect(s.areas.find((a) => a.label === 'packpub archive/')?.selfMs).toBeCloseTo(6, 5);
    expect(s.areas.find((a) => a.label === 'dependency js-yaml')?.selfMs).toBeCloseTo(5, 5);
  });
});

describe('summariseProfiles on the bundled CLI', () => {
  it('files a bundle chunk\'s frames under the src/ module or package its source map names', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'packpub-bench-prof-'));
    dirs.push(dir);
    const chunk = join(dir, 'dist/bundle/validate-Ab12.js');
    await mkdir(join(dir, 'dist/bundle'), { recursive: true });
    await writeFile(chunk, 'function next() {}\nfunction check() {}\n');
    // Generated line 0 -> yaml's parser.js line 0; generated line 1 -> src/pack/validate.ts line 5 ("C" = +1
    // source, "K" = +5 lines: base64 VLQ).
    const map = { version: 3, sources: ['../../node_modules/yaml/dist/parse/parser.js', '../../src/pack/validate.ts'], names: [], mappings: 'AAAA;ACKA' };
    await writeFile(`${chunk}.map`, JSON.stringify(map));
    // A CommonJS chunk, as the CLI's are: a profile names it by its path.
    const cjs = join(dir, 'dist/bundle/push-Cd34.cjs');
    await writeFile(cjs, 'function next() {}\nfunction check() {}\n');
    await writeFile(`${cjs}.map`, JSON.stringify(map));
    const url = pathToFileURL(chunk).href;
    const frame = (functionName: string, lineNumber: number, u = url) => ({ functionName, url: u, lineNumber, scriptId: '0', columnNumber: 0 });
    await writeFile(
      join(dir, 'CPU.1.main.cpuprofile'),
      JSON.stringify({
        nodes: [
          { id: 1, callFrame: frame('(root)', 0, '') },
          { id: 2, callFrame: frame('next', 0) },
          { id: 3, callFrame: frame('check', 1) },
          { id: 4, callFrame: frame('buildArchive', 9, 'file:///repo/dist/archive/build.js') },
          { id: 5, callFrame: frame('check', 1, cjs) },
        ],
        startTime: 0,
        endTime: 10_000,
        samples: [2, 3, 3, 4, 5],
        timeDeltas: [1000, 2000, 2000, 1000, 3000],
      }),
    );
    const s = await summariseProfiles(dir, dir);
    expect(s.functions.find((f) => f.label === 'next (node_modules/yaml/dist/parse/parser.js:1)')?.selfMs).toBeCloseTo(1, 5);
    expect(s.functions.find((f) => f.label === 'check (src/pack/validate.ts:6)')?.selfMs).toBeCloseTo(7, 5);
    expect(s.areas.find((a) => a.label === 'dependency yaml')?.selfMs).toBeCloseTo(1, 5);
    expect(s.areas.find((a) => a.label === 'packpub pack/')?.selfMs).toBeCloseTo(7, 5);
    // A file without a map stays as it is.
    expect(s.areas.find((a) => a.label === 'packpub archive/')?.selfMs).toBeCloseTo(1, 5);
  });
});

describe('evaluate', () => {
  const base = {
    machine: { cores: 2 },
    corpus: { packs: new Array(200).fill({ kind: 'manifest' }), quick: false },
    options: { runs: 3 },
    baselineMs: [100_000, 90_000, 120_000],
    baselineCpuS: [20, 20, 20],
    boundCpuS: [12, 12, 12],
    boundMs: [6000, 6000, 6000],
    registry: [],
    layoutMs: [],
    large: undefined,
    startup: undefined,
    newVersion: undefined,
    checks: [],
    totalMs: 0,
  } as unknown as Measurements;
  const run = (emptyMs: number) => ({ emptyMs, emptyCpuS: 10, emptyRssKb: 1, uploadedBytes: 1, unchangedMs: 400, unchangedUploads: 0, unchangedRequests: 200 });

  it('passes the empty-registry targets at 10x the baseline and within 2x the bound', () => {
    const rows = evaluate({ ...base, registry: [run(9000), run(9500), run(8000)] });
    expect(rows.find((r) => r.scenario.endsWith('vs manual'))?.result).toBe('pass');
    expect(rows.find((r) => r.scenario.endsWith('vs compression bound'))?.result).toBe('pass');
    expect(rows.find((r) => r.scenario.includes('nothing changed: wall'))?.result).toBe('pass');
    expect(rows.find((r) => r.scenario.includes('whole tree: peak RSS'))?.result).toBe('pass');
  });

  it('judges validate of the tree by its wall time and by the cores it keeps busy', () => {
    const validate = (ms: number, cpuS: number) => ({ ms, cpuS, rssKb: 1, packs: 200, warnings: 0 });
    const fast = evaluate({ ...base, validate: [validate(1200, 2.0)] });
    expect(fast.find((r) => r.scenario.startsWith('packpub validate of the tree ('))?.result).toBe('pass');
    expect(fast.find((r) => r.scenario.includes('cores used'))?.result).toBe('pass');
    const serial = evaluate({ ...base, validate: [validate(1400, 1.3)] });
    expect(serial.find((r) => r.scenario.startsWith('packpub validate of the tree ('))?.result).toBe('pass');
    const cores = serial.find((r) => r.scenario.includes('cores used'));
    expect(cores?.result).toBe('miss');
    expect(cores?.missBy).toContain('0.93 cores busy');
  });

  it('says by how much a target is missed', () => {
    const rows = evaluate({ ...base, registry: [run(15_000), run(15_000), run(15_000)] });
    const manual = rows.find((r) => r.scenario.endsWith('vs manual'));
    expect(manual?.result).toBe('miss');
    expect(manual?.missBy).toContain('needs 10.0 s or less');
    expect(manual?.missBy).toContain('50% longer');
    const bound = rows.find((r) => r.scenario.endsWith('vs compression bound'));
    expect(bound?.result).toBe('miss');
    expect(bound?.missBy).toContain('25% over');
  });

  it('takes the median', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });
});
