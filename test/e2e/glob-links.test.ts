import { existsSync } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * A glob packpub expands itself (quoted on the command line, a line of the composite action's `packs` input, a
 * `packs:` entry of packpub.yaml): its `*` skipped symbolic links to folders, where the shell's `packs/*` names them.
 * A release tree whose packs/current links to a pack kept elsewhere: `push 'packs/*'` published the others, exit 0,
 * and `push 'links/*'` said `matches no directory`. Now matched as the shell matches; `**` and --recursive follow no
 * link (bash's globstar neither), and a pack found twice is pushed once. A glob whose folders hold no pack (the packs a
 * level deeper) published nothing, exit 0: refused as a --recursive root without packs is.
 */
const w = setup(async (stack) => {
  const root = await stack.tempDir();
  await writePack(join(root, 'packs', 'real'), { name: 'real', version: '1.0.0' });
  await writePack(join(root, 'kept', 'linked'), { name: 'linked', version: '2.0.0' });
  await symlink(join(root, 'kept', 'linked'), join(root, 'packs', 'current'));
  await mkdir(join(root, 'links'));
  await symlink(join(root, 'kept', 'linked'), join(root, 'links', 'one'));
  await symlink(join(root, 'packs', 'real'), join(root, 'links', 'again'));
  await symlink(join(root, 'nowhere'), join(root, 'links', 'dangling'));
  // Packs a level below the folders a glob names (teams/<team>/<pack>).
  await writePack(join(root, 'teams', 'red', 'deep'), { name: 'deep', version: '1.0.0' });
  await mkdir(join(root, 'teams', 'blue'));
  return { root };
});

it("a quoted glob's * matches a symbolic link to a pack folder, as the shell's does (was: left out, exit 0)", async () => {
  const layout = join(w.root, 'layout');
  expectRun(await runCli(['push', 'packs/*', '--oci-layout', layout], { cwd: w.root }), { code: 0, stdout: ['published linked:2.0.0', 'published real:1.0.0', '2 pack(s) to oci-layout'] });
  // Through links only (was: `"links/*" matches no directory`, exit 2); each pack once, both found unchanged.
  expectRun(await runCli(['push', 'links/*', 'packs/real', '--oci-layout', layout], { cwd: w.root }), { code: 0, stdout: ['unchanged linked:2.0.0', 'unchanged real:1.0.0', '2 pack(s) to oci-layout'] });
  const held = await layoutHoldings(layout);
  expect(held.problems).toEqual([]);
  expect([...held.tags.keys()].map((tag) => tag.split('/').at(-1)).sort()).toEqual(['linked:2.0.0', 'real:1.0.0']);
  // `**` follows no link: the linked pack is not below packs/ for it.
  expectRun(await runCli(['push', 'packs/**', '--oci-layout', join(w.root, 'deep'), '--dry-run'], { cwd: w.root }), { code: 0, stdout: ['plan new real:1.0.0', '1 pack(s) to oci-layout'] });
});

it('a glob whose folders hold no pack.json: exit 2 naming them (was: exit 0, "ok": true, nothing published)', async () => {
  const layout = join(w.root, 'none');
  for (const [args, words] of [
    [['teams/*'], ['error: "teams/*" matches no pack folder: teams/blue, teams/red hold no pack.json\n', 'hint: pass --recursive to search below them']],
    [['teams/b*', '--recursive'], ['error: "teams/b*" matches no pack folder: teams/blue holds no pack.json, nor any folder below\n', 'hint: name the folders that hold the packs']],
    [['packs/real', 'teams/*'], ['error: "teams/*" matches no pack folder']],
  ] as Array<[string[], string[]]>) {
    expectRun(await runCli(['push', ...args, '--oci-layout', layout, '--json'], { cwd: w.root }), { code: 2, stdout: '', stderr: words });
  }
  expect(existsSync(layout)).toBe(false);
  // Searched below, the glob's folders give their packs.
  expectRun(await runCli(['push', 'teams/*', '--recursive', '--oci-layout', layout], { cwd: w.root }), { code: 0, stdout: ['published deep:1.0.0', '1 pack(s) to oci-layout'] });
});

it("a bracket expression negated with ! or ^ leaves those folders out, as the shell's does (was: published exactly them, exit 0)", async () => {
  for (const [glob, pack] of [
    ['packs/[!c]*', 'real:1.0.0'],
    ['packs/[^r]*', 'linked:2.0.0'],
    ['packs/[q-s]eal', 'real:1.0.0'],
  ]) {
    const run = await runCli(['push', glob as string, '--oci-layout', join(w.root, 'brackets'), '--dry-run'], { cwd: w.root });
    expectRun(run, { code: 0, stdout: [`plan new ${pack as string}`, '1 pack(s) to oci-layout'] });
  }
  expect(existsSync(join(w.root, 'brackets'))).toBe(false);
  // A range out of order matches nothing, as in the shell (was: "Invalid regular expression", a bug in packpub, exit 1).
  expectRun(await runCli(['push', 'packs/[s-q]eal', '--oci-layout', join(w.root, 'brackets')], { cwd: w.root }), { code: 2, stdout: '', stderr: ['error: "packs/[s-q]eal" matches no directory\n'] });
  expect(existsSync(join(w.root, 'brackets'))).toBe(false);
});

it('validate checks a pack named twice (a folder and a link to it, with and without a slash) once, as push takes it (was: "3 packs checked")', async () => {
  const run = await runCli(['validate', 'packs/real', 'links/again', 'packs/real/', 'packs/current'], { cwd: w.root });
  expectRun(run, { code: 0, stdout: ['packs/real: real:1.0.0 OK\n', 'packs/current: linked:2.0.0 OK\n', '2 packs checked: 2 passed, 0 failed'] });
  expect(run.stdout).not.toContain('links/again');
  const json = await runCli(['validate', 'packs/real', 'links/again', '--json'], { cwd: w.root });
  expect((JSON.parse(json.stdout) as unknown[]).length).toBe(1);
});
