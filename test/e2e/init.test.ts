import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBin, runCli } from '../support/cli.js';
import { writeTgz } from '../support/files.js';

let work: string;
let chartTgz: string;


beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'packpub-e2e-init-'));
  chartTgz = join(work, 'charts-in', 'shop-2.1.0.tgz');
  await writeTgz(chartTgz, {
    'shop/Chart.yaml': 'apiVersion: v2\nname: shop\nversion: 2.1.0\nappVersion: "5.0"\n',
    'shop/values.yaml': '# shop settings\nimage:\n  repository: example/shop\n  tag: ""\nworker:\n  image: example/worker:1.0.0\n',
  });
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('packpub init', () => {
  it('creates a pack, says what it wrote and what to do next, and the pack validates strictly', async () => {
    const r = await runCli(['init', 'demo', '--name', 'demo', '--version', '1.0.0'], { cwd: work });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'created pack demo:1.0.0 in demo',
        '  README.md',
        '  logo.png',
        '  manifests/demo.yaml',
        '  pack.json',
        '  values.yaml',
        'next: list the images in values.yaml (pack.content.images), then packpub validate demo --strict, then packpub push demo',
        '',
      ].join('\n'),
    );
    expect(r.stderr).toBe(
      'note: addonType set to "system app"; pick the category Palette lists the pack under with --addon-type (e.g. monitoring, security, ingress)\n' +
        'note: pack.content.images in values.yaml is empty: list every container image the pack deploys (`- image: REGISTRY/REPO:TAG`); validate --strict and pack-central fail an add-on pack without them\n',
    );
    // The example manifest deploys no image; pack-central fails a pack without any ("Image sources size is 0").
    const v = await runCli(['validate', 'demo', '--strict'], { cwd: work });
    expect(v.code, v.stdout + v.stderr).toBe(1);
    expect(v.stdout).toContain('warning values.yaml:7:5 pack.content.images: empty: list every container image the pack deploys');
    const values = await readFile(join(work, 'demo', 'values.yaml'), 'utf8');
    await writeFile(join(work, 'demo', 'values.yaml'), values.replace('images: []', 'images:\n      - image: docker.io/library/busybox:1.36'));
    const listed = await runCli(['validate', 'demo', '--strict'], { cwd: work });
    expect(listed.code, listed.stdout + listed.stderr).toBe(0);
  });

  it('refuses to write into a non-empty folder with exit 2 and a hint', async () => {
    const r = await runCli(['init', 'demo', '--name', 'demo', '--version', '1.0.0'], { cwd: work });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `error: ${join(work, 'demo')} is not empty (5 entries)\nhint: give a new or empty folder, or add --force to write into it (files with the same names are replaced)\n`,
    );
    const forced = await runCli(['init', 'demo', '--name', 'demo', '--version', '1.0.1', '--force'], { cwd: work });
    expect(forced.code).toBe(0);
    expect(JSON.parse(await readFile(join(work, 'demo', 'pack.json'), 'utf8'))).toMatchObject({ version: '1.0.1' });
  });

  it('refuses a name that is no OCI repository name with exit 2', async () => {
    const r = await runCli(['init', 'bad', '--name', 'My_Pack', '--version', '1.0.0'], { cwd: work });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: pack name "My_Pack" has an invalid path component "My_Pack"\nhint: use lowercase: "my_pack"\n');
    expect(existsSync(join(work, 'bad'))).toBe(false);
  });

  it('refuses a chart version with build metadata (Rancher\'s 104.3.0+up1.3.0) naming the version to pass, which then validates', async () => {
    const tgz = join(work, 'charts-in', 'sriov-104.3.0+up1.3.0.tgz');
    await writeTgz(tgz, {
      'sriov/Chart.yaml': 'apiVersion: v2\nname: sriov\nversion: 104.3.0+up1.3.0\n',
      'sriov/values.yaml': 'image: example/sriov:1.3.0\n',
    });
    const r = await runCli(['init', 'sriov-pack', '--from-chart', tgz], { cwd: work });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'error: pack version "104.3.0+up1.3.0" is not a valid OCI tag: "+" is not allowed\nhint: pass --version 104.3.0-up1.3.0 (a tag cannot hold "+"; Helm\'s own OCI push writes it as "_", which Palette cannot order as a version)\n',
    );
    expect(existsSync(join(work, 'sriov-pack'))).toBe(false);
    const given = await runCli(['init', 'sriov-pack', '--from-chart', tgz, '--version', '104.3.0-up1.3.0'], { cwd: work });
    expect(given.code, given.stderr).toBe(0);
    expect(JSON.parse(await readFile(join(work, 'sriov-pack', 'pack.json'), 'utf8'))).toMatchObject({ name: 'sriov', version: '104.3.0-up1.3.0', charts: ['charts/sriov-104.3.0+up1.3.0.tgz'] });
    const v = await runCli(['validate', 'sriov-pack', '--strict'], { cwd: work });
    expect(v.code, v.stdout + v.stderr).toBe(0);
  });

  it('builds a pack from a chart and lists the images to review on stderr', async () => {
    const r = await runCli(['init', 'shop-pack', '--from-chart', chartTgz, '--addon-type', 'app services'], { cwd: work });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('created pack shop:2.1.0 in shop-pack\n');
    expect(r.stdout).toContain('chart shop 2.1.0 copied to charts/shop-2.1.0.tgz; its default values are under charts.shop in values.yaml\n');
    expect(r.stdout).toContain('images listed in pack.content.images: 2\n');
    expect(r.stderr).toBe(
      "review these images in values.yaml (pack.content.images):\n  example/shop:5.0 (from image): the chart leaves the tag empty; packpub assumed the chart's appVersion (5.0), which most charts default to\n",
    );
    const v = await runCli(['validate', 'shop-pack', '--strict'], { cwd: work });
    expect(v.code, v.stdout + v.stderr).toBe(0);
  });

  it('keeps the blanks ending lines of a chart value block, and the blank lines a |+ block ends with, which are part of the value (aws-for-fluent-bit)', async () => {
    const tgz = join(work, 'charts-in', 'bits-0.1.0.tgz');
    const block = 'HTTP_Server  On\nHealth_Check On \nHC_Period 5 \n';
    await writeTgz(tgz, {
      'bits/Chart.yaml': 'apiVersion: v2\nname: bits\nversion: 0.1.0\n',
      'bits/values.yaml': `service:\n  extraService: |\n${block.replace(/^(?=.)/gm, '    ')}\n  port: 2020\nimage: example/bits:1.0.0\ntail: |+\n  end\n\n\n`,
    });
    const r = await runCli(['init', 'bits-pack', '--from-chart', tgz], { cwd: work });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('created pack bits:0.1.0 in bits-pack\n');
    const values = await readFile(join(work, 'bits-pack', 'values.yaml'), 'utf8');
    expect(values).toContain('        Health_Check On \n        HC_Period 5 \n');
    expect((load(values) as { charts: { bits: unknown } }).charts.bits).toEqual({ service: { extraService: block, port: 2020 }, image: 'example/bits:1.0.0', tail: 'end\n\n\n' });
    const v = await runCli(['validate', 'bits-pack', '--strict'], { cwd: work });
    expect(v.code, v.stdout + v.stderr).toBe(0);
  });

  it('prints the result as JSON with --json', async () => {
    const r = await runCli(['init', 'json-pack', '--from-chart', chartTgz, '--name', 'shop-json', '--json'], { cwd: work });
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { name: string; version: string; files: string[]; chart: { archive: string }; review: Array<{ image: string }> };
    expect(result).toMatchObject({ name: 'shop-json', version: '2.1.0', chart: { archive: 'charts/shop-2.1.0.tgz' } });
    expect(result.review.map((i) => i.image)).toEqual(['example/shop:5.0']);
  });
});

describe('packpub init (built CLI)', () => {
  // Its refusal of a folder that is not empty (exit 2, the message and hint): above, in-process ("refuses to write
  // into a non-empty folder"); a process's exit code is main()'s, as for every command.
  it('runs as a process of the bundle: the pack created, exit 0', async () => {
    const ok = await runBin(['init', 'bin-pack', '--name', 'bin-pack', '--version', '0.1.0', '--layer', 'k8s'], { cwd: work });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('created pack bin-pack:0.1.0 in bin-pack\n');
    expect(JSON.parse(await readFile(join(work, 'bin-pack', 'pack.json'), 'utf8'))).toMatchObject({ name: 'bin-pack', version: '0.1.0' });
  });
});
