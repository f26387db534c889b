import { readdirSync, readlinkSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boundedRun, expectRun, runCli, spawnCli, waitFor } from '../support/cli.js';
import { makeFifo } from '../support/files.js';
import { writePack } from '../support/packs.js';
import { sharedRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';

/*
 * A file the user names (--registry-config, --config, --annotation-file, --ca-file, a client certificate) that is a
 * named pipe. packpub opened it in a thread of Node's pool, and open() of a pipe waits for a writer: with none, the
 * run waited, and as Node joins its pool's threads when the process ends, SIGTERM printed "interrupted" and the
 * process stayed (only SIGKILL ended it); a CA file, read on the main thread, hung it outright. Now a pipe is read
 * on the event loop as its writer writes (`--registry-config <(vault read ...)`), a signal ends a run still waiting
 * for one, and a CA file with no writer reads as empty.
 */

const USER = 'ci';
const PASSWORD = 'pipe-secret-1';

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-named-pipe-');
  const registry = stack.add(await sharedRegistry({ auth: 'htpasswd', users: { [USER]: PASSWORD } }));
  const pack = await writePack(join(root, 'hello'), { name: 'hello', version: '1.0.0' });
  return { root, registry, pack, reg: `${registry.host}/${registry.base}/pipes` };
});

const env = () => ({ HOME: join(w.root, 'home') });

/** Whether process `pid` holds `path` open (Linux: /proc). */
function holdsOpen(pid: number, path: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === path;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

describe('a file the user names that is a named pipe', () => {
  it('--registry-config a pipe its writer fills: the credentials it holds publish the pack, exit 0', async () => {
    const fifo = join(w.root, 'config-written.json');
    await makeFifo(fifo);
    const auth = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
    // Opens the pipe for writing (waiting for the run to open it for reading), then writes and closes it.
    const writer = writeFile(fifo, JSON.stringify({ auths: { [w.registry.host]: { auth } } }));
    const run = await runCli(['push', w.pack, '--registry', w.reg, '--registry-config', fifo], { env: env() });
    await writer;
    expectRun(run, { code: 0, stdout: ['hello:1.0.0'] });
    const listed = await runCli(['list', '--registry', w.reg, '--json'], { env: { ...env(), PACKPUB_USERNAME: USER, PACKPUB_PASSWORD: PASSWORD } });
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain('"1.0.0"');
  });

  it('--registry-config a pipe no program writes to: the run waits for one, and SIGTERM ends it (was: only SIGKILL)', async () => {
    const fifo = join(w.root, 'config-unwritten.json');
    await makeFifo(fifo);
    const run = spawnCli(['list', '--registry', w.reg, '--registry-config', fifo], { env: env() });
    // The child's pid is known once the worker's spawner has started it.
    await waitFor(() => holdsOpen(run.child.pid ?? -1, fifo) || run.child.exitCode !== null, 'the run to open the pipe');
    expect(run.child.exitCode, run.stderr()).toBe(null);
    run.child.kill('SIGTERM');
    const ended = await boundedRun(run.done, 30_000);
    expect(ended.code, ended.stderr).toBe(130);
    expect(ended.stderr).toContain('SIGTERM: interrupted');
    expect(ended.stdout).toBe('');
  });

  it('--ca-file a pipe no program writes to: refused as holding no certificate, exit 2 (was: hung, no signal ended it)', async () => {
    const fifo = join(w.root, 'ca-unwritten.pem');
    await makeFifo(fifo);
    const run = await boundedRun(spawnCli(['list', '--registry', w.reg, '--ca-file', fifo], { env: env() }).done, 30_000);
    expectRun(run, { code: 2, stderr: [`--ca-file ${fifo} holds no PEM certificate`], stdout: '' });
  });
});
