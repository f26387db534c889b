import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, readFile, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runBin, runCli, type CliRun } from '../support/cli.js';
import { makeFifo, readTree, writeFiles } from '../support/files.js';
import { CHART_FILES, writeValidPack } from '../support/packs.js';
import { stage } from '../support/stage.js';

/*
 * `validate` refuses what push's archive walk refuses anywhere in the pack folder (not only in the files
 * pack.json names), with push's own wording: exit 0 from validate means push can build the pack. And a
 * push of a tree holding such a pack uploads nothing, as for any invalid pack.
 */

const temp = stage();

/** The built CLI as a user who may not read a file of mode 0, as in a CI job that meets a file a container step left behind. */
function runBinUnprivileged(args: string[]): Promise<CliRun> {
  return runBin(args, { modesBind: true });
}

/** The valid pack "web" with an unpacked copy of its chart beside the archive, then `change`d. */
async function packWith(change: (dir: string) => Promise<unknown>): Promise<{ root: string; pack: string }> {
  const root = await temp.tempDir();
  const pack = await writeValidPack(join(root, 'web'));
  await writeFiles(join(pack, 'charts'), CHART_FILES);
  await change(pack);
  return { root, pack };
}

const cases = [
  {
    name: 'a symlink leaving the pack inside an unpacked chart folder (as Helm\'s frobnitz_with_dev_null)',
    change: (dir: string) => symlink('/dev/null', join(dir, 'charts/web/null')),
    file: 'charts/web/null',
    message: 'charts/web/null is a symlink to /dev/null, outside the pack folder',
    hint: 'copy the file into the pack instead of linking to it, or list the symlink in .packignore',
  },
  {
    name: 'a dangling symlink',
    change: (dir: string) => symlink('gone.yaml', join(dir, 'charts/web/templates/service.yaml')),
    file: 'charts/web/templates/service.yaml',
    message: 'charts/web/templates/service.yaml is a dangling symlink (its target does not exist)',
    hint: 'fix or delete the symlink, or list it in .packignore',
  },
  {
    // Sparse: 5 GiB that take no room. Not named in pack.json, so only the walk's stat sees it.
    name: 'a file over 4 GiB',
    change: async (dir: string) => {
      await mkdir(join(dir, 'files'));
      await writeFile(join(dir, 'files/disk.img'), '');
      await truncate(join(dir, 'files/disk.img'), 5 * 1024 ** 3);
    },
    file: 'files/disk.img',
    message: 'files/disk.img is 5368709120 bytes, over the 4294967296-byte limit for one file',
    hint: 'list it in .packignore (the limit is fixed)',
  },
  {
    name: 'a fifo',
    change: (dir: string) => makeFifo(join(dir, 'manifests/pipe')),
    file: 'manifests/pipe',
    message: 'manifests/pipe is a named pipe (fifo), which cannot be stored in a pack',
    hint: 'delete it, or list it in .packignore',
  },
];

describe('validate and push apply the archive walk\'s rules to the whole pack folder', () => {
  for (const c of cases) {
    it(`${c.name}: validate fails naming it, push refuses and writes nothing; .packignore listing it makes both pass`, async () => {
      const { root, pack } = await packWith(c.change);
      const validate = await runCli(['validate', pack]);
      expectRun(validate, { code: 1, stdout: [`${pack}: web:1.0.0 FAILED`, `  error   ${c.file}: ${c.message}, so push refuses the pack; ${c.hint}`, '1 pack checked: 0 passed, 1 failed (1 error,'] });
      const json = await runCli(['validate', pack, '--json']);
      expect(json.code).toBe(1);
      expect(JSON.stringify(JSON.parse(json.stdout))).toContain(`"rule":"file-not-archivable","file":"${c.file}"`);

      const layout = join(root, 'layout');
      const push = await runCli(['push', pack, '--oci-layout', layout]);
      expectRun(push, { code: 1, stderr: [c.message] });
      expect(existsSync(layout) ? [...(await readTree(layout)).keys()] : []).toEqual([]);

      const name = c.file.split('/').pop() as string;
      await writeFile(join(pack, '.packignore'), `${name}\n`);
      expectRun(await runCli(['validate', pack]), { code: 0, stdout: [`${pack}: web:1.0.0 OK`] });
      expectRun(await runCli(['push', pack, '--oci-layout', layout]), { code: 0, stdout: ['published web:1.0.0'] });
      expect(existsSync(join(layout, 'spectro-packs/archive/web/index.json'))).toBe(true);
    });
  }

  it('a .packignore leaving out what the pack needs (pack.json, values.yaml, a listed chart or manifest): validate fails naming each, push writes nothing (was: OK, and an archive without them published, exit 0)', async () => {
    const { root, pack } = await packWith(() => Promise.resolve());
    const layout = join(root, 'layout');
    for (const [lines, files] of [
      ['*.yaml\n*.tgz\n', [['values.yaml', 'every pack holds one'], ['charts/web-1.0.0.tgz', 'pack.json lists it in charts'], ['manifests/extra.yaml', 'pack.json lists it in kubeManifests']]],
      ['pack.json\nmanifests/\n!manifests/extra.yaml\n', [['pack.json', 'every pack holds one'], ['manifests/extra.yaml', 'pack.json lists it in kubeManifests']]],
    ] as Array<[string, Array<[string, string]>]>) {
      await writeFile(join(pack, '.packignore'), lines);
      expectRun(await runCli(['validate', pack]), {
        code: 1,
        stdout: [
          `${pack}: web:1.0.0 FAILED`,
          ...files.map(([file, why]) => `  error   .packignore ${file}: .packignore leaves out ${file}, which the pack needs (${why}): push would publish the pack without it; remove the line of .packignore that matches it or a folder it is in\n`),
          `1 pack checked: 0 passed, 1 failed (${files.length} errors,`,
        ],
      });
      const push = await runCli(['push', pack, '--oci-layout', layout, '--json']);
      expect(push.code).toBe(1);
      expect((JSON.parse(push.stdout) as { results: Array<{ status: string; findings: Array<{ rule: string }> }> }).results[0]).toMatchObject({ status: 'invalid', findings: expect.arrayContaining([expect.objectContaining({ rule: 'packignore-leaves-out' })]) });
      expect(existsSync(layout)).toBe(false);
    }
    // The logo Palette shows, left out: a warning (with --strict, refused).
    await writeFile(join(pack, '.packignore'), '*.png\n');
    expectRun(await runCli(['validate', pack]), { code: 0, stdout: [`  warning .packignore logo.png: .packignore leaves out logo.png, which is in the pack folder (Palette shows it as the pack's logo): push would publish the pack without it`] });
    expectRun(await runCli(['push', pack, '--oci-layout', layout, '--strict']), { code: 1, stderr: ['INVALID web:1.0.0'] });
    expect(existsSync(layout)).toBe(false);
    // Leaving out what the pack does not need is fine.
    await writeFile(join(pack, '.packignore'), 'charts/web/\n!manifests/extra.yaml\n');
    expectRun(await runCli(['push', pack, '--oci-layout', layout]), { code: 0, stdout: ['published web:1.0.0'] });
  });

  it('a file pack.json lists under a name every archive leaves out (manifests/._extra.yaml): validate fails naming it, push writes nothing (was: OK, and an archive without it published, exit 0)', async () => {
    const { root, pack } = await packWith(async (dir) => {
      await cp(join(dir, 'manifests/extra.yaml'), join(dir, 'manifests/._extra.yaml'));
      await rm(join(dir, 'manifests/extra.yaml'));
      const json = (await readFile(join(dir, 'pack.json'), 'utf8')).replace('manifests/extra.yaml', 'manifests/._extra.yaml');
      await writeFile(join(dir, 'pack.json'), json);
    });
    const message = 'manifests/._extra.yaml is left out of every archive (packpub leaves out .git, .DS_Store and names starting with "._", macOS\'s metadata, at any depth: "._extra.yaml"), and pack.json lists it in kubeManifests: push would publish the pack without it; rename it';
    expectRun(await runCli(['validate', pack]), { code: 1, stdout: [`${pack}: web:1.0.0 FAILED`, `  error   pack.json manifests/._extra.yaml: ${message}\n`] });
    const layout = join(root, 'layout');
    expectRun(await runCli(['push', pack, '--oci-layout', layout]), { code: 1, stderr: ['INVALID web:1.0.0', message] });
    expect(existsSync(layout)).toBe(false);
  });

  it('a .packignore that is a fifo: validate, build and push refuse it at once, nothing written (was: each hung for good waiting for a writer)', async () => {
    const { root, pack } = await packWith((dir) => makeFifo(join(dir, '.packignore')));
    const said = ['cannot read .packignore: it is a named pipe (fifo), not a file', 'replace it with a text file of gitignore patterns, or remove it'];
    expectRun(await runCli(['validate', pack]), { code: 1, stderr: said });
    const out = join(root, 'web.tgz');
    expectRun(await runCli(['build', pack, '-o', out]), { code: 1, stderr: said });
    const layout = join(root, 'layout');
    expectRun(await runCli(['push', pack, '--oci-layout', layout]), { code: 1, stderr: said });
    expect(existsSync(out)).toBe(false);
    expect(existsSync(layout)).toBe(false);
  });

  it('a pack folder holding another pack (a tree root with a stray pack.json): a warning naming it; --strict refuses, nothing written (was: silent, push --recursive published the outer pack alone with the inner one inside)', async () => {
    const { root, pack } = await packWith((dir) => writeValidPack(join(dir, 'inner')));
    const message = `inner/ holds a pack of its own: push packs it into this pack's archive, and push --recursive stops at this pack, so it is never published itself; move it out of this pack folder, or list "inner/" in .packignore`;
    expectRun(await runCli(['validate', pack]), { code: 0, stdout: [`  warning inner/pack.json: ${message}\n`] });
    const layout = join(root, 'layout');
    expectRun(await runCli(['push', root, '--recursive', '--oci-layout', layout, '--strict']), { code: 1, stderr: ['INVALID web:1.0.0', message] });
    expect(existsSync(layout)).toBe(false);
    await writeFile(join(pack, '.packignore'), 'inner/\n');
    expectRun(await runCli(['validate', pack, '--strict']), { code: 0, stdout: [`${pack}: web:1.0.0 OK`] });
  });

  it('push of a tree where one pack holds a symlink leaving it uploads nothing, and says which pack and file', async () => {
    const { root, pack: bad } = await packWith((dir) => symlink('/dev/null', join(dir, 'charts/web/null')));
    const tree = join(root, 'tree');
    for (const [name, version] of [['alpha', '1.0.0'], ['beta', '2.0.0']] as const) {
      const dir = join(tree, name);
      await cp(join(bad, '..', 'web'), dir, { recursive: true, verbatimSymlinks: true });
      await rm(join(dir, 'charts/web/null'));
      const packJson = join(dir, 'pack.json');
      const json = JSON.parse(await readFile(packJson, 'utf8')) as Record<string, unknown>;
      await writeFile(packJson, `${JSON.stringify({ ...json, name, displayName: name, version })}\n`);
    }
    await mkdir(join(tree, 'zulu'), { recursive: true });
    await cp(bad, join(tree, 'zulu'), { recursive: true, verbatimSymlinks: true });
    const layout = join(root, 'layout');
    const push = await runCli(['push', tree, '--recursive', '--oci-layout', layout]);
    expectRun(push, {
      code: 1,
      stdout: ['1 invalid, 2 failed; uploaded 0 B'],
      stderr: ['INVALID web:1.0.0: 1 error(s) in validation', `run: packpub validate ${join(tree, 'zulu')}`, 'error charts/web/null: charts/web/null is a symlink to /dev/null, outside the pack folder', '2 valid packs not pushed because 1 is invalid'],
    });
    expect(existsSync(layout) ? [...(await readTree(layout)).keys()] : []).toEqual([]);
  });

  it('a pack over 16 GiB (sparse files of 3.5 GiB): validate fails naming where, push refuses and writes nothing', async () => {
    const { root, pack } = await packWith(async (dir) => {
      await mkdir(join(dir, 'files'));
      for (const n of ['a', 'b', 'c', 'd', 'e']) {
        await writeFile(join(dir, `files/${n}.img`), '');
        await truncate(join(dir, `files/${n}.img`), 3.5 * 1024 ** 3);
      }
    });
    expectRun(await runCli(['validate', pack]), {
      code: 1,
      stdout: [`${pack}: web:1.0.0 FAILED`, '  error   files/e.img: the pack is over 17179869184 bytes (at files/e.img), so push refuses the pack; list large files in .packignore (the limit is fixed)'],
    });
    const layout = join(root, 'layout');
    expectRun(await runCli(['push', pack, '--oci-layout', layout]), { code: 1, stderr: ['the pack is over 17179869184 bytes (at files/e.img)'] });
    expect(existsSync(layout) ? [...(await readTree(layout)).keys()] : []).toEqual([]);
  });

  it('a file this user may not read (mode 0; root without its read override): validate fails naming it, push refuses and writes nothing', async () => {
    const { root, pack } = await packWith(async (dir) => {
      await writeFile(join(dir, 'manifests/secret.yaml'), 'kind: Secret\n');
      await chmod(join(dir, 'manifests/secret.yaml'), 0);
    });
    const layout = join(root, 'layout');
    const validate = await runBinUnprivileged(['validate', pack]);
    expectRun(validate, { code: 1, stdout: [`${pack}: web:1.0.0 FAILED`, '  error   manifests/secret.yaml: cannot read manifests/secret.yaml: EACCES: permission denied', ', so push refuses the pack; make the file readable, or list it in .packignore'] });
    const push = await runBinUnprivileged(['push', pack, '--oci-layout', layout]);
    expectRun(push, { code: 1, stderr: ['INVALID web:1.0.0', 'cannot read manifests/secret.yaml: EACCES: permission denied'] });
    expect(existsSync(layout) ? [...(await readTree(layout)).keys()] : []).toEqual([]);
  });

  it('the built CLI validating 8 packs on worker threads refuses the one with a fifo', async () => {
    const root = await temp.tempDir();
    const dirs: string[] = [];
    for (let i = 0; i < 8; i++) dirs.push(await writeValidPack(join(root, `p${i}`)));
    await makeFifo(join(dirs[5] as string, 'pipe'));
    const run = await runBin(['validate', ...dirs]);
    expectRun(run, { code: 1, stdout: [`${dirs[5]}: web:1.0.0 FAILED`, '  error   pipe: pipe is a named pipe (fifo), which cannot be stored in a pack', '8 packs checked: 7 passed, 1 failed'] });
  });
});
