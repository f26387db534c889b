import { existsSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { tempDir } from '../support/files.js';
import { writePack } from '../support/packs.js';
import { skopeoInspectLayout, startRegistry } from '../support/registry.js';
import { Stage } from '../support/stage.js';

/* packpub.yaml as a user meets it: found in the working directory or given with --config. */

const ENV = { SOURCE_DATE_EPOCH: '1700000000' };
const ARCHIVE = 'spectro-packs/archive';

let root: string;
let cleanup: () => Promise<void>;
let n = 0;

beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('packpub-e2e-config-'));
});
afterAll(async () => cleanup?.());

/** A project folder with packs/ (two packs) and the given packpub.yaml. */
async function project(yaml: string): Promise<string> {
  const dir = join(root, `project-${n++}`);
  await mkdir(dir, { recursive: true });
  await writePack(join(dir, 'packs/hello-1.0.0'), { name: 'hello', version: '1.0.0' });
  await writePack(join(dir, 'packs/nested/world-2.0.0'), { name: 'world', version: '2.0.0' });
  await writeFile(join(dir, 'packpub.yaml'), yaml);
  return dir;
}

/** `packpub copy hello:1.0.0 --from <from> --to oci:out` in a new project with packpub.yaml `yaml`. */
async function copyIn(yaml: string, from: string) {
  const dir = await project(yaml);
  return { dir, result: await runCli(['copy', 'hello:1.0.0', '--from', from, '--to', 'oci:out'], { cwd: dir }) };
}

describe('configuration errors through the CLI', () => {
  it('stops with exit code 2, naming the file, line and key, before doing anything', async () => {
    const { dir, result } = await copyIn('targets:\n  staging:\n    ociLayout: ./staging\n    tls:\n      cafile: ca.pem\n', 'staging');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('error: packpub.yaml:5:7: targets.staging.tls.cafile: unknown key; did you mean "caFile"?');
    expect(result.stderr).toContain('hint: fix the file (docs/configuration.md lists every key)');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('refuses a password in the file without repeating it', async () => {
    const { result } = await copyIn('targets:\n  prod:\n    registry: harbor.example.com/p\n    auth:\n      username: robot$p+ci\n      password: Hunter2-in-git\n', 'prod');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('targets.prod.auth.password: a password or token must not be written in the configuration file');
    expect(result.stderr).toContain('passwordEnv');
    expect(result.stderr).not.toContain('Hunter2-in-git');
  });

  it('says which variable auth.passwordEnv needs', async () => {
    const { result } = await copyIn('targets:\n  prod:\n    registry: harbor.example.com/p\n    auth:\n      username: robot$p+ci\n      passwordEnv: PROD_ROBOT_SECRET\n', 'prod');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('names PROD_ROBOT_SECRET, which is not set');
  });

  it('reads --config and PACKPUB_CONFIG, and fails on a missing file', async () => {
    const dir = await project('# unused\n');
    await writeFile(join(dir, 'release.yaml'), `targets:\n  src:\n    ociLayout: ./src-layout\n`);
    const missing = await runCli(['copy', 'hello:1.0.0', '--from', 'src', '--to', 'oci:out', '--config', 'nope.yaml'], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--config names nope.yaml, which is not a readable file');

    // The target name resolves through the file given by --config (the layout is empty: NOT_FOUND, exit 1).
    const viaFlag = await runCli(['copy', 'hello:1.0.0', '--from', 'src', '--to', 'oci:out', '--config', 'release.yaml'], { cwd: dir });
    expect(viaFlag.code).toBe(1);
    expect(viaFlag.stderr).toContain(`${join(dir, 'src-layout', ARCHIVE, 'hello')}:1.0.0 does not exist`);
    const viaEnv = await runCli(['copy', 'hello:1.0.0', '--from', 'src', '--to', 'oci:out'], { cwd: dir, env: { PACKPUB_CONFIG: 'release.yaml' } });
    expect(viaEnv.stderr).toContain(`${join(dir, 'src-layout', ARCHIVE, 'hello')}:1.0.0 does not exist`);
  });
});

describe('push with packpub.yaml', () => {
  const YAML = [
    'packs: [packs/]',
    'recursive: true',
    'defaults:',
    '  target: a',
    'targets:',
    '  a:',
    '    ociLayout: ./layout-a',
    '  b:',
    '    ociLayout: ./layout-b',
    '',
  ].join('\n');

  it('`push --target NAME` with no pack arguments publishes the configured pack roots', async () => {
    const dir = await project(YAML);
    const result = await runCli(['push', '--target', 'b'], { cwd: dir, env: ENV });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('published hello:1.0.0');
    expect(result.stdout).toContain('published world:2.0.0');
    expect(existsSync(join(dir, 'layout-b', ARCHIVE, 'world', 'index.json'))).toBe(true);
    expect(existsSync(join(dir, 'layout-a'))).toBe(false);
  });

  it('uses defaults.target when nothing names a target', async () => {
    const dir = await project(YAML);
    const result = await runCli(['push'], { cwd: dir, env: ENV });
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(join(dir, 'layout-a', ARCHIVE, 'hello', 'index.json'))).toBe(true);
  });

  it('builds once and gives several targets identical digests', async () => {
    const dir = await project(YAML);
    const result = await runCli(['push', '--target', 'a', '--target', 'b'], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    for (const [name, version] of [['hello', '1.0.0'], ['world', '2.0.0']] as const) {
      expect((await skopeoInspectLayout(join(dir, 'layout-a'), name, version)).equals(await skopeoInspectLayout(join(dir, 'layout-b'), name, version))).toBe(true);
    }
  });

  it('refuses two targets that are one place (the same layout, a registry with and without its trailing slash), exit 2, nothing written (was: each pack written there twice at once, counted twice)', async () => {
    const dir = await project(`${YAML}  again:\n    ociLayout: layout-a/\n`);
    expectRun(await runCli(['push', '--target', 'a,again'], { cwd: dir }), { code: 2, stdout: '', stderr: [`error: target a and target again are the same oci-layout ${join(dir, 'layout-a')}\n`, 'hint: give each registry or layout once'] });
    expect(existsSync(join(dir, 'layout-a'))).toBe(false);
    const twice = await runCli(['push', '--registry', '127.0.0.1:1/base/x', '--registry', '127.0.0.1:1/base/x/'], { cwd: dir });
    expectRun(twice, { code: 2, stdout: '', stderr: ['error: --registry 127.0.0.1:1/base/x and --registry 127.0.0.1:1/base/x/ are the same registry 127.0.0.1:1/base/x\n'] });
  });

  it('pushes to two targets of one registry name that resolve sends to two addresses (a registry in each data centre), exit 0, each holds the packs', async () => {
    const env = new Stage();
    try {
      const [east, west] = [env.add(await startRegistry()), env.add(await startRegistry())];
      // west answers at east's port on 127.0.0.2 too: `reg.test:<port>` is east at 127.0.0.1, west at 127.0.0.2.
      const sockets = new Set<Socket>();
      const front = createServer((client) => {
        const upstream = connect(west.port, '127.0.0.1');
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => undefined).on('close', () => sockets.delete(s));
        }
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((done, fail) => front.once('error', fail).listen(east.port, '127.0.0.2', done));
      env.defer(() => new Promise<void>((done) => {
        for (const s of sockets) s.destroy();
        front.close(() => done());
      }));
      const name = `reg.test:${east.port}/dc`;
      const target = (address: string) => `    registry: ${name}\n    tls: { plainHttp: true }\n    resolve: ["reg.test:${east.port}:${address}"]\n`;
      const dir = await project(`packs: [packs/]\nrecursive: true\ntargets:\n  east:\n${target('127.0.0.1')}  west:\n${target('127.0.0.2')}  again:\n${target('127.0.0.1')}`);
      const both = await runCli(['push', '--target', 'east,west'], { cwd: dir, env: ENV });
      expectRun(both, { code: 0, stdout: ['4 published'] });
      expect(both.stdout.split(`published hello:1.0.0 -> ${name}/${ARCHIVE}/hello:1.0.0 `)).toHaveLength(3);
      for (const registry of [east, west]) {
        const tags = (await (await fetch(`${registry.url}/v2/dc/${ARCHIVE}/world/tags/list`)).json()) as { tags: string[] };
        expect(tags.tags).toEqual(['2.0.0']);
      }
      // The same name at the same address is one place, as before.
      expectRun(await runCli(['push', '--target', 'east,again'], { cwd: dir, env: ENV }), { code: 2, stdout: '', stderr: [`error: target east and target again are the same registry ${name} at 127.0.0.1\n`] });
    } finally {
      await env.close();
    }
  });

  it('refuses --target together with --registry, naming both', async () => {
    const dir = await project(YAML);
    const result = await runCli(['push', '--target', 'a', '--registry', 'harbor.example.com/p'], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--target a and --registry harbor.example.com/p exclude each other');
  });
});
