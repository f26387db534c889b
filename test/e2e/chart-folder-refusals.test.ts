import { cp, mkdir, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChartError, readChart } from '../../src/pack/chart.js';
import { runCli } from '../support/cli.js';
import { makeFifo, tempDir, tgzNames, writeFiles } from '../support/files.js';
import { runChild } from '../support/spawner.js';

/*
 * An unpacked chart folder as `init --from-chart`, validate (a chart unpacked beside a missing archive) and
 * library callers of readChart(dir) meet it. Helm's directory loader walks every file not in .helmignore,
 * following links: it never ends on a link back up, and refuses a link to itself or to nothing and a file
 * that is not a regular file. readChart read only Chart.yaml, values, templates/ and charts/: a loop in
 * files/ passed as a chart Helm cannot load, and a named pipe as Chart.yaml or values.yaml made the read
 * wait for a writer for ever (validate and init never ended).
 */

const EXAMPLE = fileURLToPath(new URL('../../examples/hello-helm', import.meta.url));
const CHART = { 'Chart.yaml': 'apiVersion: v2\nname: demo\nversion: 0.1.0\n', 'values.yaml': 'a: 1\n', 'templates/cm.yaml': 'a: {{ .Values.a }}\n' };

let root: string;
let cleanup: () => Promise<void>;
let n = 0;

beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('packpub-chart-folder-'));
});
afterAll(async () => cleanup());

/** A chart folder; `make` adds the odd entries (links, pipes) to it. */
async function chartWith(make: (dir: string) => Promise<void>, files: Record<string, string> = {}): Promise<string> {
  const dir = join(root, `chart-${n++}`);
  await writeFiles(dir, { ...CHART, ...files });
  await make(dir);
  return dir;
}
const link = (target: string, at: string) => async (dir: string) => {
  await mkdir(join(dir, at, '..'), { recursive: true });
  await symlink(target, join(dir, at));
};
const fifo = (at: string) => async (dir: string) => {
  await rm(join(dir, at), { force: true });
  await makeFifo(join(dir, at));
};

describe('readChart(dir) checks the whole folder, as Helm walks it', () => {
  it.each<{ name: string; make: (dir: string) => Promise<void>; files?: Record<string, string>; at: string; says: string }>([
    { name: 'a link back up in files/ (was: read as a good chart)', make: link('..', 'files/up'), at: 'files/up', says: 'is a symlink loop (it points back to a folder that contains it)' },
    { name: 'six links to their own folder in files/', make: async (dir) => { for (const i of [1, 2, 3, 4, 5, 6]) await link('.', `files/l${i}`)(dir); }, at: 'files/l1', says: 'is a symlink loop (it points back to a folder that contains it)' },
    { name: 'Chart.yaml linking to itself (was: a raw ELOOP, "a bug in packpub")', make: async (dir) => { await rm(join(dir, 'Chart.yaml')); await link('Chart.yaml', 'Chart.yaml')(dir); }, at: 'Chart.yaml', says: 'is a symlink loop (it leads back to itself)' },
    { name: 'a broken link in templates/ (was: skipped)', make: link('gone.yaml', 'templates/broken.yaml'), at: 'templates/broken.yaml', says: 'is a symlink to something that does not exist' },
    { name: 'a broken link inside a folder .helmignore lists (not walked, by Helm or here)', make: link('gone.yaml', 'notes/broken.yaml'), files: { '.helmignore': 'notes/\nbroken.yaml\n' }, at: 'notes', says: '' },
    { name: 'a named pipe as values.yaml (was: waited for ever)', make: fifo('values.yaml'), at: 'values.yaml', says: 'is not a regular file (a named pipe, device or socket), so Helm refuses the chart' },
    { name: 'a named pipe in a subchart folder', make: async (dir) => { await writeFiles(dir, { 'charts/sub/Chart.yaml': 'apiVersion: v2\nname: sub\nversion: 1.0.0\n' }); await fifo('charts/sub/files.txt')(dir); }, at: 'charts/sub/files.txt', says: 'is not a regular file' },
  ])('$name', async ({ make, files, at, says }) => {
    const dir = await chartWith(make, files);
    const read = await readChart(dir).then(
      (chart) => chart.name,
      (e: unknown) => e,
    );
    if (says === '') {
      // A folder .helmignore lists is not walked, by Helm or here: the link inside it is never followed.
      expect(read).toBe('demo');
      return;
    }
    expect(read).toBeInstanceOf(ChartError);
    expect(read).toMatchObject({ code: 'PACK_FILE', problem: 'helm-refuses' });
    expect((read as Error).message).toContain(`${join(dir, at)} ${says}`);
  });

  it('walks a folder outside the chart reached through a link, as Helm walks it: a named pipe there is refused (was: not walked)', async () => {
    const outside = join(root, 'outside');
    await writeFiles(outside, { 'x.txt': 'x\n' });
    await fifo('pipe')(outside);
    const dir = await chartWith(link(outside, 'files/out'));
    const read = await readChart(dir).catch((e: unknown) => e);
    expect(read).toMatchObject({ code: 'PACK_FILE', problem: 'helm-refuses' });
    expect((read as Error).message).toContain(`${join(dir, 'files/out/pipe')} is not a regular file (a named pipe, device or socket), so Helm refuses the chart`);
  });
});

describe('the CLI on such folders', () => {
  it('init --from-chart exits 1 naming the loop, and leaves no pack folder behind', async () => {
    const chart = await chartWith(link('..', 'files/up'));
    const out = join(root, 'pack-from-loop');
    const result = await runCli(['init', out, '--from-chart', chart]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `error: ${join(chart, 'files/up')} is a symlink loop (it points back to a folder that contains it), so Helm's walk of the chart folder never ends\nhint: replace the symlink with a copy of what it should hold, or list it in the chart's .helmignore\n`,
    );
    expect(await readdir(root)).not.toContain('pack-from-loop');
  });

  it('init --from-chart into an existing empty folder that the packer refuses leaves the folder empty (was: an empty charts/ left)', async () => {
    const outside = join(root, 'outside-2');
    await writeFiles(outside, { 'x.txt': 'x\n', 'up/keep.txt': 'k\n' });
    const chart = await chartWith(link(outside, 'files/out'));
    await symlink('..', join(outside, 'up/again'));
    const out = join(root, 'existing-pack');
    await mkdir(out);
    const result = await runCli(['init', out, '--from-chart', chart]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: ${join(chart, 'files/out/up/again')} is a symlink loop (it points back to a folder that contains it), so Helm's walk of the chart folder never ends`);
    expect(await readdir(out)).toEqual([]);
  });

  // Helm's directory loader (helm package, helm install <folder>) follows a link wherever it leads and logs it; calico's
  // charts hold crds -> ../../libcalico-go/config/crd (was: refused, "a symlink that points outside the chart").
  it('init --from-chart of a folder with links out of it exits 0, names each link, and packs what they hold under their paths', async () => {
    const repo = join(root, 'calico-like');
    await writeFiles(repo, {
      'libcalico-go/config/crd/crd.projectcalico.org_ippools.yaml': 'apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: ippools.crd.projectcalico.org\n',
      'api/admission/policy.yaml': 'kind: ValidatingAdmissionPolicy\n',
      ...Object.fromEntries(Object.entries(CHART).map(([k, v]) => [`charts/calico/${k}`, v])),
    });
    const chart = join(repo, 'charts/calico');
    await symlink('../../libcalico-go/config/crd', join(chart, 'crds'));
    await symlink('../../api/admission', join(chart, 'admission'));
    const out = join(root, 'pack-calico-like');
    const result = await runCli(['init', out, '--from-chart', chart]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      `note: ${join(chart, 'admission')} -> ${join(repo, 'api/admission')}, ${join(chart, 'crds')} -> ${join(repo, 'libcalico-go/config/crd')}: symbolic links out of the chart folder, followed as Helm follows them ("found symbolic link in path ... Contents of linked file included and used"): what they point to is packed into charts/demo-0.1.0.tgz under the link's path, and published with the pack; check that it holds nothing you do not mean to publish\n`,
    );
    const archive = join(out, 'charts/demo-0.1.0.tgz');
    expect(await tgzNames(archive)).toEqual(['demo/Chart.yaml', 'demo/admission/policy.yaml', 'demo/crds/crd.projectcalico.org_ippools.yaml', 'demo/templates/cm.yaml', 'demo/values.yaml']);
    const unpacked = join(root, 'calico-like-unpacked');
    await mkdir(unpacked);
    await runChild('tar', ['-xzf', archive, '-C', unpacked]);
    expect(await readFile(join(unpacked, 'demo/crds/crd.projectcalico.org_ippools.yaml'), 'utf8')).toContain('name: ippools.crd.projectcalico.org');
    const validated = await runCli(['validate', out]);
    expect(validated.code).toBe(0);
  });

  // The folder is refused as its archive is (was: init wrote the pack, exit 0, and validate then refused it).
  it.each<{ name: string; files: Record<string, string>; says: string }>([
    {
      name: 'a README.md among its templates',
      files: { 'templates/README.md': '# Demo\n\nInstall it with Helm.\n' },
      says: `templates/README.md: Helm cannot install this chart: templates/README.md holds no template action, so every render outputs it as it is, and Helm reads that as Kubernetes objects: the document at line 1 is a string, not a Kubernetes object (Helm: "YAML parse error on templates/README.md")\nhint: fix it if it is meant as a Kubernetes manifest; else move it out of templates/`,
    },
    {
      name: 'a crds/ file without kind',
      files: { 'crds/widgets.yaml': 'metadata:\n  name: widgets.example.com\n' },
      says: `crds/widgets.yaml: Helm cannot install this chart: it applies crds/widgets.yaml as it is, never rendered, and cannot read it ("failed to install CRD crds/widgets.yaml"): the document at line 1 has no kind (Kubernetes: "Object 'Kind' is missing")\nhint: each document of a crds/ file must be`,
    },
  ])('init --from-chart of a folder with $name exits 1 in the folder\'s paths, and leaves no pack folder behind', async ({ files, says }) => {
    const chart = await chartWith(async () => undefined, files);
    const out = join(root, `pack-${n}`);
    const result = await runCli(['init', out, '--from-chart', chart]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: ${chart}/${says}`);
    expect(await readdir(root)).not.toContain(`pack-${n}`);
  });

  // The folder reader does not look at a subchart's crds/ files nor its templates without actions; the notes are now the
  // packed archive's, as validate reads it (was: init exit 0 with no note, then validate refused the pack).
  it('init --from-chart of a folder whose enabled subchart Helm cannot install notes what validate then refuses', async () => {
    const chart = await chartWith(async () => undefined, {
      'Chart.yaml': 'apiVersion: v2\nname: demo\nversion: 0.1.0\ndependencies:\n- name: sub\n  version: 1.0.0\n',
      'charts/sub/Chart.yaml': 'apiVersion: v2\nname: sub\nversion: 1.0.0\n',
      'charts/sub/templates/README.md': '# Sub\n\nhello\n',
      'charts/sub/crds/widgets.yaml': 'metadata:\n  name: widgets.example.com\n',
    });
    const out = join(root, 'pack-sub-notes');
    const result = await runCli(['init', out, '--from-chart', chart]);
    expect(result.code).toBe(0);
    const enabled = 'note: validate refuses this pack as written: Helm cannot install this chart with the values as published: its subchart sub is enabled (no condition or tag in the chart\'s values with the pack\'s charts.demo over them leaves it out), and ';
    expect(result.stderr).toContain(`${enabled}Helm applies the subchart's crds/widgets.yaml as it is, never rendered, and cannot read it ("failed to install CRD crds/widgets.yaml")`);
    expect(result.stderr).toContain(`${enabled}the subchart's templates/README.md holds no template action, so every render outputs it as it is`);
    expect(await tgzNames(join(out, 'charts/demo-0.1.0.tgz'))).toContain('demo/charts/sub/crds/widgets.yaml');
    const validated = await runCli(['validate', out]);
    expect(validated.code).toBe(1);
    expect(validated.stdout).toContain('(2 errors,');
  });

  it('validate ends (exit 1) on a pack whose unpacked chart beside a missing archive has a named pipe as Chart.yaml (was: never ended)', async () => {
    const pack = join(root, 'pack-with-pipe');
    await cp(EXAMPLE, pack, { recursive: true });
    await rm(join(pack, 'charts/hello-web-0.1.0.tgz'));
    await fifo('charts/hello-web/Chart.yaml')(pack);
    const result = await runCli(['validate', pack]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('chart archive "charts/hello-web-0.1.0.tgz" does not exist in the pack');
    expect(result.stdout).toContain('charts/hello-web/Chart.yaml is a named pipe (fifo), which cannot be stored in a pack');
  });
});
