import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * build says when its manifest digest holds the current time. SOURCE_DATE_EPOCH set but empty (a CI variable that
 * was not set, passed on as "") stamps the current time as unset does, and build said nothing: two builds of the
 * same pack then printed different manifest digests with no word why.
 */

const NOTE = '  note: the manifest digest includes the current time; set SOURCE_DATE_EPOCH for a reproducible one\n';

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-build-epoch-');
  return { root, pack: await writePack(join(root, 'pack'), { name: 'epoch', version: '1.0.0' }) };
});

describe('build and SOURCE_DATE_EPOCH', () => {
  it.each([
    ['unset: the note on the current time', undefined, true],
    ['set but empty: the note on the current time (was: none)', '', true],
    ['a timestamp: no note', '946684800', false],
  ] as const)('%s', async (_what, epoch, noted) => {
    const out = join(w.root, `out-${String(epoch)}.tar.gz`);
    const run = await runCli(['build', w.pack, '-o', out], { env: epoch === undefined ? {} : { SOURCE_DATE_EPOCH: epoch } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.startsWith(`built ${out}\n`)).toBe(true);
    expect(run.stdout.endsWith(NOTE)).toBe(noted);
  });
});

/*
 * One reading of SOURCE_DATE_EPOCH (src/util/source-date-epoch.ts). Before, three: the archive's entry time trimmed
 * spaces and took only values up to 2038, the manifest's created time took 12 digits and no spaces, and init
 * --from-chart ignored what it could not read, packing the chart with its default time. A value one took and another
 * refused (" 946684800", "99999999999") or that init ignored ("946684800.5") is now refused by every command, exit 2,
 * before anything is written.
 */
describe('a malformed SOURCE_DATE_EPOCH', () => {
  it.each([' 946684800', '946684800.5', '99999999999', '-1', '1e9'])('%j: push, build and init --from-chart exit 2 naming it, nothing written', async (epoch) => {
    const env = { SOURCE_DATE_EPOCH: epoch };
    const message = `SOURCE_DATE_EPOCH=${JSON.stringify(epoch)} is not a whole number of seconds since 1970 from 0 to 2147483647 (digits only, as date +%s prints)`;
    const slug = epoch.trim().replace(/[^0-9a-z]/gi, '_');
    const layout = join(w.root, `layout-${slug}`);
    const out = join(w.root, `bad-${slug}.tar.gz`);
    const made = join(w.root, `init-${slug}`);
    const chart = join(w.root, 'chart');
    await mkdir(join(chart, 'templates'), { recursive: true });
    await writeFile(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: web\nversion: 1.0.0\n');
    await writeFile(join(chart, 'values.yaml'), 'replicas: 1\n');
    await writeFile(join(chart, 'templates', 'deployment.yaml'), 'kind: Deployment\n');
    for (const argv of [['push', w.pack, '--oci-layout', layout], ['build', w.pack, '-o', out], ['init', made, '--from-chart', chart]]) {
      const run = await runCli(argv, { env });
      expect(run.code, `${argv[0]}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toContain(message);
      expect(run.stderr).toContain('a fixed Unix timestamp kept the same on every run');
      expect(run.stdout).toBe('');
    }
    expect(existsSync(layout)).toBe(false);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(made)).toBe(false);
  });

  it('the largest value the tar header holds is taken by push: the manifest says it, exit 0', async () => {
    const layout = join(w.root, 'layout-max');
    const run = await runCli(['push', w.pack, '--oci-layout', layout, '--json'], { env: { SOURCE_DATE_EPOCH: '2147483647' } });
    expect(run.code, run.stderr).toBe(0);
    const index = JSON.parse(await readFile(join(layout, 'spectro-packs/archive/epoch/index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    const digest = index.manifests[0]?.digest.replace('sha256:', '') ?? '';
    const manifest = JSON.parse(await readFile(join(layout, 'spectro-packs/archive/epoch/blobs/sha256', digest), 'utf8')) as { annotations: Record<string, string> };
    expect(manifest.annotations['org.opencontainers.image.created']).toBe('2038-01-19T03:14:07Z');
  });
});
