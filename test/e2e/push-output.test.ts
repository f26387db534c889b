import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/files.js';
import { writePack } from '../support/packs.js';

const ESC = '\u001b[';

describe('push output for people and for machines', () => {
  let root: string;
  let cleanup: () => Promise<void>;
  let packs: string[];

  beforeAll(async () => {
    ({ dir: root, cleanup } = await tempDir());
    packs = [
      await writePack(join(root, 'a'), { name: 'out-a', version: '1.0.0' }),
      await writePack(join(root, 'b'), { name: 'out-b', version: '2.0.0', files: { 'manifests/big.yaml': 'x: y\n'.repeat(50_000) } }),
    ];
  });
  afterAll(async () => cleanup());

  it('--strict names the warning that failed a pack, on stderr and in the JSON result (issue 13 item 10)', async () => {
    const warned = await writePack(join(root, 'warned'), { name: 'warned', version: '1.0.0' });
    await rm(join(warned, 'README.md'));
    const layout = join(root, 'strict-layout');
    const run = await runCli(['push', warned, '--oci-layout', layout, '--strict'], { env: { NO_COLOR: '1' } });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('warned:1.0.0: 0 error(s) and 1 warning(s) in validation');
    expect(run.stderr).toContain('  warning README.md: missing; add one');
    const json = await runCli(['push', warned, '--oci-layout', layout, '--strict', '--json'], { env: { NO_COLOR: '1' } });
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as { results: { status: string; findings?: { severity: string; file?: string; message: string }[] }[] };
    expect(report.results[0]?.status).toBe('invalid');
    expect(report.results[0]?.findings?.filter((f) => f.severity === 'warning').map((f) => `${f.file}: ${f.message}`)).toEqual([expect.stringMatching(/^README\.md: missing; add one/)]);
    // nothing was published
    expect(await readdir(layout).catch(() => [])).not.toContain('index.json');
  });

  it('a pack that passes with warnings is published and shows them, on a fresh run and a cached one (issue 13 item 10)', async () => {
    const warned = await writePack(join(root, 'warned-ok'), { name: 'warned-ok', version: '1.0.0' });
    await rm(join(warned, 'README.md'));
    const layout = join(root, 'warned-layout');
    const cache = join(root, 'warned-cache');
    for (const round of ['first run', 'cached verdict']) {
      const run = await runCli(['push', warned, '--oci-layout', layout], { env: { NO_COLOR: '1', PACKPUB_CACHE_DIR: cache } });
      expect(run.code, round).toBe(0);
      expect(run.stdout, round).toMatch(/(published|unchanged) warned-ok:1\.0\.0/);
      expect(run.stderr, round).toContain('  warning README.md: missing; add one');
    }
    const json = await runCli(['push', warned, '--oci-layout', layout, '--json'], { env: { NO_COLOR: '1', PACKPUB_CACHE_DIR: cache } });
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as { results: { status: string; findings?: { severity: string; rule: string }[] }[] };
    expect(report.results[0]?.status).toBe('unchanged');
    expect(report.results[0]?.findings?.map((f) => `${f.severity} ${f.rule}`)).toEqual(['warning readme-missing']);
    expect(await readdir(join(layout, 'spectro-packs/archive'))).toContain('warned-ok');
  });

  it('on a terminal: a live status line and a summary table', async () => {
    const run = await runCli(['push', ...packs, '--oci-layout', join(root, 'tty')], { tty: true, env: { TERM: 'xterm' } });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^PACK\s+VERSION\s+RESULT\s+DIGEST\s+SIZE\s+TIME$/m);
    expect(run.stdout).toMatch(/^out-b\s+2\.0\.0\s+published\s+sha256:/m);
    expect(run.stderr).toContain(`\r${ESC}K`);
  });

  it('not on a terminal, or with NO_COLOR: plain lines without escape codes', async () => {
    for (const [name, options] of [
      ['pipe', {}],
      ['no-color', { tty: true, env: { NO_COLOR: '1', TERM: 'xterm' } }],
    ] as const) {
      const run = await runCli(['push', ...packs, '--oci-layout', join(root, name)], options);
      expect(run.code).toBe(0);
      expect(run.stdout + run.stderr).not.toContain(ESC);
      expect(run.stdout).toContain('published out-a:1.0.0');
      expect(run.stdout).toMatch(/2 pack\(s\) to oci-layout .*: 2 published; uploaded/);
    }
  });

  it('--json-lines: one line per pack, then a summary line', async () => {
    const run = await runCli(['push', ...packs, '--oci-layout', join(root, 'jl'), '--json-lines']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; status?: string; summary?: { published: number } });
    expect(lines.map((l) => l.type)).toEqual(['result', 'result', 'summary']);
    expect(lines.slice(0, 2).every((l) => l.status === 'published')).toBe(true);
    expect(lines[2]?.summary?.published).toBe(2);
  });
});
