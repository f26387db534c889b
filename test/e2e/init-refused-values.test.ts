import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';

/*
 * init promises a pack that validates. A display name with a line break went into values.yaml's first comment
 * and out of it: values.yaml that does not parse (or, with a key on the next line, one more top-level key),
 * exit 0; an empty display name, or a namespace Kubernetes refuses, gave a pack validate or the cluster refuses.
 * Each is refused now (exit 2) before anything is written.
 */

const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-init-refused-') }));
let n = 0;

async function init(extra: string[]): Promise<{ code: number; stderr: string; dir: string }> {
  const dir = join(w.root, `p${n++}`);
  const run = await runCli(['init', dir, '--name', 'my-pack', '--version', '1.0.0', ...extra], { cwd: w.root });
  return { code: run.code, stderr: run.stderr, dir };
}

describe('init refuses values that would give a pack that does not validate', () => {
  it.each([
    [['--display-name', 'My pack\nregistry: evil'], 'error: --display-name holds a line break or control character (U+000A)\nhint: give --display-name as one line of text\n'],
    [['--display-name', 'a\rb'], 'error: --display-name holds a line break or control character (U+000D)\nhint: give --display-name as one line of text\n'],
    [['--display-name', ' '], 'error: --display-name is empty\nhint: give --display-name a name Palette can show, or leave it out for the pack name in title case\n'],
    [['--display-name='], 'error: --display-name is empty\nhint: give --display-name a name Palette can show, or leave it out for the pack name in title case\n'],
    [['--addon-type', 'x\ny'], 'error: --addon-type holds a line break or control character (U+000A)\nhint: give --addon-type as one line of text\n'],
    [['--namespace', 'Bad_NS'], 'error: --namespace "Bad_NS" is not a Kubernetes namespace name\nhint: use at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit, e.g. bad-ns\n'],
    [['--namespace', 'a\nb'], 'error: --namespace "a\\nb" is not a Kubernetes namespace name\nhint: use at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit, e.g. a-b\n'],
    // A chart's URL, as Helm takes one: was "chart <cwd>/https:/charts.example.com/web-1.0.0.tgz does not exist".
    [['--from-chart', 'https://charts.example.com/web-1.0.0.tgz'], 'error: --from-chart takes a chart on disk, not a URL: https://charts.example.com/web-1.0.0.tgz\nhint: download it first (helm pull <url>, or helm pull oci://<registry>/<chart> --version <v>), then --from-chart ./<chart>-<version>.tgz\n'],
    [['--from-chart', 'oci://registry.example.com/charts/web'], 'error: --from-chart takes a chart on disk, not a URL: oci://registry.example.com/charts/web\nhint: download it first (helm pull <url>, or helm pull oci://<registry>/<chart> --version <v>), then --from-chart ./<chart>-<version>.tgz\n'],
  ])('%j: exit 2, nothing written', async (extra, message) => {
    const r = await init(extra);
    expect(r.stderr).toBe(message);
    expect(r.code).toBe(2);
    expect(existsSync(r.dir)).toBe(false);
  });

  it('a display name with quotes, colons and a hash is kept as given, and the pack validates', async () => {
    const shown = 'Foo "bar": #1 \\ it\'s {{ .Values.x }}';
    const r = await init(['--display-name', shown, '--namespace', 'team-a']);
    expect(r.code).toBe(0);
    const json = JSON.parse(await readFile(join(r.dir, 'pack.json'), 'utf8')) as { displayName: string };
    expect(json.displayName).toBe(shown);
    expect(await readFile(join(r.dir, 'values.yaml'), 'utf8')).toContain('  namespace: team-a\n');
    const v = await runCli(['validate', r.dir, '--json']);
    const report = JSON.parse(v.stdout) as Array<{ findings: Array<{ severity: string; rule: string }> }>;
    // The one warning init announces: the example lists no images yet.
    expect(report[0]?.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(v.code).toBe(0);
  });
});

describe('init --force says what it left from before', () => {
  it('an earlier example manifest and chart stay (push packs them): named in a note; .packignore\'d ones are not', async () => {
    const dir = join(w.root, 'forced');
    const chart = join(w.root, 'chart-src');
    await mkdir(join(chart, 'templates'), { recursive: true });
    await writeFile(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: web\nversion: 1.2.0\n');
    await writeFile(join(chart, 'values.yaml'), 'image: nginx:1.25.0\n');
    expect((await runCli(['init', dir, '--name', 'forced', '--version', '1.0.0'])).code).toBe(0);
    await writeFile(join(dir, 'notes.txt'), 'kept\n');
    await writeFile(join(dir, '.packignore'), 'notes.txt\n');
    const again = await runCli(['init', dir, '--force', '--from-chart', chart, '--name', 'forced', '--version', '1.0.0']);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(
      'note: left in the folder from before (pack.json does not list them, but push packs every file): manifests/forced.yaml; remove what the pack does not need, or list it in .packignore\n',
    );
    expect(existsSync(join(dir, 'manifests/forced.yaml'))).toBe(true);
    const json = JSON.parse(await readFile(join(dir, 'pack.json'), 'utf8')) as { charts?: string[]; kubeManifests?: string[] };
    expect(json).toMatchObject({ charts: ['charts/web-1.2.0.tgz'] });
    expect(json.kubeManifests).toBeUndefined();
    // A fresh folder: nothing to say.
    const fresh = await runCli(['init', join(w.root, 'fresh'), '--force', '--name', 'fresh', '--version', '1.0.0']);
    expect(fresh.stderr).not.toContain('left in the folder');
  });
});

describe('init reads ~/ as the home folder', () => {
  it('--from-chart=~/chart and a folder ~/pack (the shell leaves a ~ after = alone): no folder named ~', async () => {
    const home = join(w.root, 'home');
    await mkdir(join(home, 'web/templates'), { recursive: true });
    await writeFile(join(home, 'web/Chart.yaml'), 'apiVersion: v2\nname: web\nversion: 1.2.0\n');
    await writeFile(join(home, 'web/values.yaml'), 'image: nginx:1.25.0\n');
    const run = await runCli(['init', '~/web-pack', '--from-chart=~/web'], { cwd: w.root, env: { HOME: home } });
    expect(run.stderr).not.toContain('error');
    expect(run.code).toBe(0);
    expect(existsSync(join(w.root, '~'))).toBe(false);
    expect(JSON.parse(await readFile(join(home, 'web-pack/pack.json'), 'utf8'))).toMatchObject({ name: 'web', charts: ['charts/web-1.2.0.tgz'] });
  });
});
