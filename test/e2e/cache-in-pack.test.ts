import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, cliBaseEnv, expectRun, runCli, type CliRun } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { spawnChild } from '../support/spawner.js';
import { setup } from '../support/stage.js';

/*
 * packpub's cache folder, or the --junit file, inside the pack folder being pushed (HOME the pack folder, as in a container whose HOME is
 * the checkout, and `packpub push .`): the walk archived ~/.cache/packpub, its index (other packs' paths and
 * digests) and its compiled code. The next push of the unchanged pack was a CONFLICT, and the next version was
 * published with it inside, 1 MiB and more, exit 0. Now refused before anything runs, as an OCI layout inside the
 * pack is, unless the pack's .packignore leaves it out; --no-cache does not use the folder. `cd pack && packpub push .
 * --junit junit.xml` published the report's placeholder (written before the packs are built) inside the pack, exit 0,
 * and the next push was a CONFLICT: refused the same way, and neither the placeholder nor the refusal is left there.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir();
  return {
    root,
    pack: await writePack(join(root, 'cached'), { name: 'cached', version: '1.0.0' }),
    reported: await writePack(join(root, 'reported'), { name: 'reported', version: '1.0.0' }),
    redirected: await writePack(join(root, 'redirected'), { name: 'redirected', version: '1.0.0' }),
    validated: await writePack(join(root, 'validated'), { name: 'validated', version: '1.0.0' }),
  };
});

describe("packpub's cache folder inside the pack folder being pushed", () => {
  it('is refused, exit 2, nothing written to the target or the pack (was: archived with the pack)', async () => {
    const layout = join(w.root, 'refused');
    const env = { HOME: w.pack, PACKPUB_CACHE_DIR: undefined };
    expectRun(await runCli(['push', '.', '--oci-layout', layout], { cwd: w.pack, env }), {
      code: 2,
      stdout: '',
      stderr: [`packpub's cache folder ${join(w.pack, '.cache', 'packpub')} is inside the pack folder ${w.pack}: every push would put it into the pack's archive`, 'set PACKPUB_CACHE_DIR to a folder outside the pack, and remove that folder from the pack if it is there', 'a line ".cache/" in its .packignore'],
    });
    expect(existsSync(layout)).toBe(false);
    expect(await readdir(w.pack)).not.toContain('.cache');
    // --no-cache: the folder is neither read nor written.
    expectRun(await runCli(['push', '.', '--oci-layout', layout, '--no-cache'], { cwd: w.pack, env }), { code: 0, stdout: ['published cached:1.0.0'] });
    expect(await readdir(w.pack)).not.toContain('.cache');
  });

  it('a cache folder a refused run left there, with PACKPUB_CACHE_DIR now outside the pack: still refused, exit 2, until removed (was: published with it, exit 0)', async () => {
    const pack = await writePack(join(w.root, 'left-by-refused'), { name: 'left', version: '1.0.0' });
    const layout = join(w.root, 'left-layout');
    // What the built CLI's refused run leaves: bin/packpub.js writes its compiled code to HOME's cache before push decides.
    await mkdir(join(pack, '.cache', 'packpub', 'v8-code'), { recursive: true });
    await writeFile(join(pack, '.cache', 'packpub', 'v8-code', 'code.bin'), 'compiled');
    const env = { HOME: pack, PACKPUB_CACHE_DIR: join(w.root, 'outside-cache') };
    for (const verb of ['push', 'build'] as const) {
      const args = verb === 'push' ? ['push', '.', '--oci-layout', layout] : ['build', '.', '-o', join(w.root, 'left.tar.gz')];
      expectRun(await runCli(args, { cwd: pack, env }), {
        code: 2,
        stdout: '',
        stderr: [`packpub's cache folder ${join(pack, '.cache', 'packpub')} is inside the pack folder ${pack}: every ${verb} would put it into the pack's archive`, 'remove that folder from the pack (an earlier run with other cache settings left it there'],
      });
    }
    expect(existsSync(layout)).toBe(false);
    expect(existsSync(join(w.root, 'left.tar.gz'))).toBe(false);
    await rm(join(pack, '.cache'), { recursive: true });
    expectRun(await runCli(['push', '.', '--oci-layout', layout], { cwd: pack, env }), { code: 0, stdout: ['published left:1.0.0'] });
    const out = join(w.root, 'left-pulled');
    expectRun(await runCli(['pull', 'left:1.0.0', '--oci-layout', layout, '-o', out]), { code: 0 });
    expect(await readdir(out)).not.toContain('.cache');
  });

  it('a cache folder an earlier packpub left under a relative XDG_CACHE_HOME (now ignored): still refused, exit 2, until removed', async () => {
    const pack = await writePack(join(w.root, 'left-by-xdg'), { name: 'leftxdg', version: '1.0.0' });
    const layout = join(w.root, 'left-xdg-layout');
    await mkdir(join(pack, 'xdg', 'packpub', 'v8-code'), { recursive: true });
    await writeFile(join(pack, 'xdg', 'packpub', 'v8-code', 'code.bin'), 'compiled');
    const env = { HOME: join(w.root, 'home-xdg'), PACKPUB_CACHE_DIR: undefined, XDG_CACHE_HOME: 'xdg' };
    expectRun(await runCli(['push', '.', '--oci-layout', layout], { cwd: pack, env }), {
      code: 2,
      stdout: '',
      stderr: [`packpub's cache folder ${join(pack, 'xdg', 'packpub')} is inside the pack folder ${pack}: every push would put it into the pack's archive`, 'remove that folder from the pack (an earlier run with other cache settings left it there'],
    });
    expect(existsSync(layout)).toBe(false);
    await rm(join(pack, 'xdg'), { recursive: true });
    expectRun(await runCli(['push', '.', '--oci-layout', layout], { cwd: pack, env }), { code: 0, stdout: ['published leftxdg:1.0.0'] });
    // The relative XDG_CACHE_HOME is not used: the cache is HOME's.
    expect(existsSync(join(pack, 'xdg'))).toBe(false);
    expect(existsSync(join(w.root, 'home-xdg', '.cache', 'packpub'))).toBe(true);
  });

  it('left out by .packignore: published without it, and the next push finds the pack unchanged', async () => {
    const layout = join(w.root, 'ignored');
    const env = { HOME: w.pack, PACKPUB_CACHE_DIR: undefined };
    await writeFile(join(w.pack, '.packignore'), '.cache/\n');
    expectRun(await runCli(['push', '.', '--oci-layout', layout], { cwd: w.pack, env }), { code: 0, stdout: ['published cached:1.0.0'] });
    expect(existsSync(join(w.pack, '.cache', 'packpub'))).toBe(true);
    expectRun(await runCli(['push', '.', '--oci-layout', layout], { cwd: w.pack, env }), { code: 0, stdout: ['unchanged cached:1.0.0'] });
    expect((await layoutHoldings(layout)).problems).toEqual([]);
    const out = join(w.root, 'pulled');
    expectRun(await runCli(['pull', 'cached:1.0.0', '--oci-layout', layout, '-o', out]), { code: 0 });
    expect(await readdir(out)).not.toContain('.cache');
  });

  it('--junit inside the pack: refused, exit 2, no file left in the pack (was: published inside it); left out by .packignore, written', async () => {
    const layout = join(w.root, 'junit-layout');
    const before = (await readdir(w.reported)).sort();
    expectRun(await runCli(['push', '.', '--oci-layout', layout, '--junit', 'junit.xml'], { cwd: w.reported }), {
      code: 2,
      stdout: '',
      stderr: [`the JUnit report ${join(w.reported, 'junit.xml')} is inside the pack folder ${w.reported}`, 'give --junit a path outside the pack', 'a line "junit.xml" in its .packignore'],
    });
    expect((await readdir(w.reported)).sort()).toEqual(before);
    expect(existsSync(layout)).toBe(false);
    await writeFile(join(w.reported, '.packignore'), 'junit.xml\n');
    for (const word of ['published', 'unchanged']) {
      expectRun(await runCli(['push', '.', '--oci-layout', layout, '--junit', 'junit.xml'], { cwd: w.reported }), { code: 0, stdout: [`${word} reported:1.0.0`] });
    }
    expect(existsSync(join(w.reported, 'junit.xml'))).toBe(true);
    const out = join(w.root, 'reported-pulled');
    expectRun(await runCli(['pull', 'reported:1.0.0', '--oci-layout', layout, '-o', out]), { code: 0 });
    expect(await readdir(out)).not.toContain('junit.xml');
  });

  it('validate --junit inside the pack: refused, exit 2, no file left there (was: left in the pack, published by the push after it, and the next run a CONFLICT)', async () => {
    const before = (await readdir(w.validated)).sort();
    expectRun(await runCli(['validate', '.', '--junit', 'junit.xml'], { cwd: w.validated }), {
      code: 2,
      stdout: '',
      stderr: [`error: the JUnit report ${join(w.validated, 'junit.xml')} is inside the pack folder ${w.validated}: every push would put it into the pack's archive`, 'a line "junit.xml" in its .packignore'],
    });
    expect((await readdir(w.validated)).sort()).toEqual(before);
    // Left out by .packignore: written, and a push after it finds the pack unchanged run after run.
    await writeFile(join(w.validated, '.packignore'), 'junit.xml\n');
    const layout = join(w.root, 'validated-layout');
    for (const word of ['published', 'unchanged']) {
      expectRun(await runCli(['validate', '.', '--junit', 'junit.xml'], { cwd: w.validated }), { code: 0 });
      expect(readFileSync(join(w.validated, 'junit.xml'), 'utf8')).toContain('<testcase name=');
      expectRun(await runCli(['push', '.', '--oci-layout', layout], { cwd: w.validated }), { code: 0, stdout: [`${word} validated:1.0.0`] });
    }
  });

  it('standard output or error sent to a file in the pack (push . --json > report.json, 2> push.log; build > log; validate > json): refused, exit 2, nothing published (was: the file published inside the pack, exit 0)', async () => {
    const layout = join(w.root, 'redirected-layout');
    // The built CLI with its standard streams sent where a shell step sends them: the shell makes the file first.
    const shell = (redirect: string, args: string[]): Promise<CliRun> =>
      new Promise((resolve, reject) => {
        const child = spawnChild('sh', ['-c', `exec "$@" ${redirect}`, 'sh', process.execPath, BIN, ...args], { cwd: w.redirected, env: cliBaseEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout?.on('data', (c: Buffer) => out.push(c));
        child.stderr?.on('data', (c: Buffer) => err.push(c));
        child.on('error', reject);
        child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
      });
    const report = join(w.redirected, 'report.json');
    expectRun(await shell('> report.json', ['push', '.', '--oci-layout', layout, '--json']), {
      code: 2,
      stderr: [`standard output's file ${report} is inside the pack folder ${w.redirected}: every push would put it into the pack's archive`, 'send standard output to a file outside the pack (e.g. > ../report.json) and remove that file from the pack', 'a line "report.json" in its .packignore'],
    });
    await rm(report);
    const log = join(w.redirected, 'push.log');
    expectRun(await shell('2> push.log', ['push', '.', '--oci-layout', layout]), { code: 2, stdout: '' });
    expect(readFileSync(log, 'utf8')).toContain(`standard error's file ${log} is inside the pack folder ${w.redirected}`);
    await rm(log);
    expectRun(await shell('> build.log', ['build', '.', '-o', join(w.root, 'redirected.tar.gz')]), { code: 2, stderr: [`standard output's file ${join(w.redirected, 'build.log')} is inside the pack folder ${w.redirected}: every build would put it into the pack's archive`] });
    await rm(join(w.redirected, 'build.log'));
    // validate too: what it leaves in the pack, the push after it publishes.
    expectRun(await shell('> validate.json', ['validate', '.', '--json']), { code: 2, stdout: '', stderr: [`standard output's file ${join(w.redirected, 'validate.json')} is inside the pack folder ${w.redirected}: every push would put it into the pack's archive`] });
    await rm(join(w.redirected, 'validate.json'));
    expect(existsSync(layout)).toBe(false);
    expect(existsSync(join(w.root, 'redirected.tar.gz'))).toBe(false);
    // Outside the pack, or left out by .packignore: published, without the file.
    expectRun(await shell('> ../redirected.json', ['push', '.', '--oci-layout', layout, '--json']), { code: 0, stderr: '' });
    expect(JSON.parse(readFileSync(join(w.root, 'redirected.json'), 'utf8')).summary.published).toBe(1);
    await writeFile(join(w.redirected, '.packignore'), 'report.json\n');
    expectRun(await shell('> report.json', ['push', '.', '--oci-layout', layout, '--json']), { code: 0, stderr: '' });
    expect(JSON.parse(readFileSync(report, 'utf8')).summary).toMatchObject({ unchanged: 1 }); // the same archive as the first
    const out = join(w.root, 'redirected-pulled');
    expectRun(await runCli(['pull', 'redirected:1.0.0', '--oci-layout', layout, '-o', out]), { code: 0 });
    expect((await readdir(out)).filter((f) => f.endsWith('.json') || f.endsWith('.log'))).toEqual(['pack.json']);
  });

  it('with --no-cache, a cache folder an earlier run left there, and a Docker config there: refused, push and build, exit 2 (was: published with them)', async () => {
    const pack = await writePack(join(w.root, 'leftovers'), { name: 'leftovers', version: '1.0.0' });
    const env = { HOME: pack, PACKPUB_CACHE_DIR: undefined };
    const layout = join(w.root, 'leftovers-layout');
    await mkdir(join(pack, '.cache', 'packpub', 'v8-code'), { recursive: true });
    await writeFile(join(pack, '.cache', 'packpub', 'v8-code', 'code.bin'), 'compiled');
    const cacheRefused = [`packpub's cache folder ${join(pack, '.cache', 'packpub')} is inside the pack folder ${pack}`];
    expectRun(await runCli(['push', '.', '--oci-layout', layout, '--no-cache'], { cwd: pack, env }), { code: 2, stdout: '', stderr: cacheRefused });
    expectRun(await runCli(['build', '.', '-o', join(w.root, 'leftovers.tar.gz')], { cwd: pack, env }), { code: 2, stderr: [`${cacheRefused[0] ?? ''}: every build would put it into the pack's archive`] });
    await rm(join(pack, '.cache'), { recursive: true });
    // A login with HOME there wrote the credentials into the pack.
    await mkdir(join(pack, '.docker'));
    await writeFile(join(pack, '.docker', 'config.json'), JSON.stringify({ auths: { 'registry.example.com': { auth: Buffer.from('ci:secret').toString('base64') } } }));
    for (const extra of [[], ['--no-cache']]) {
      expectRun(await runCli(['push', '.', '--oci-layout', layout, ...extra], { cwd: pack, env }), {
        code: 2,
        stderr: [`the Docker config (credentials) ${join(pack, '.docker', 'config.json')} is inside the pack folder ${pack}: every push would put it into the pack's archive`, 'a line ".docker/" in its .packignore'],
      });
    }
    expect(existsSync(layout)).toBe(false);
    expect(existsSync(join(w.root, 'leftovers.tar.gz'))).toBe(false);
  });
});
