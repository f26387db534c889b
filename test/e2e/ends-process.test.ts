import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { cliBaseEnv } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { RegistryReader } from '../support/registry-reader.js';
import { sharedRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';

/*
 * main()'s `endsProcess` (bin/packpub.js passes it: the process ends once main() settles): a push leaves its
 * idle registry connections for the process's end to close instead of closing them one by one (issue 16).
 * A program that embeds main() without it gets every connection closed, as before. Read from this process's
 * open sockets (Linux: /proc/self/fd and /proc/net/tcp): the connections to the registry's port still open.
 */

/** This process's established TCP connections to 127.0.0.1:`port` (their sockets' inodes). */
function connectionsTo(port: number): Set<string> {
  const sockets = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    let link = '';
    try {
      link = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
    if (inode !== undefined) sockets.add(inode);
  }
  const remote = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const open = readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[2] === remote && f[3] === '01' && sockets.has(f[9] ?? ''));
  return new Set(open.map((f) => f[9] ?? ''));
}

/** The connections in `now` that were not open `before` (earlier runs' idle ones may close meanwhile). */
function opened(before: Set<string>, now: Set<string>): string[] {
  return [...now].filter((inode) => !before.has(inode));
}

/** main() in this process with `options`, its output captured. */
async function push(args: string[], env: NodeJS.ProcessEnv, endsProcess: boolean): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const stdout = new PassThrough().on('data', (c: Buffer) => out.push(c));
  const stderr = new PassThrough().on('data', (c: Buffer) => err.push(c));
  const code = await main(['push', ...args], { stdout, stderr, stdin: Readable.from([]), env: { ...cliBaseEnv(), ...env }, cwd: process.cwd() }, endsProcess ? { endsProcess: true } : {});
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}

describe('a push in a process that ends with it', () => {
  const w = setup(async (stack) => {
    const registry = await sharedRegistry();
    const root = await stack.tempDir();
    const env = { SOURCE_DATE_EPOCH: '1700000000', PACKPUB_CACHE_DIR: join(root, 'cache') };
    return { registry, root, env, reader: new RegistryReader(registry.url) };
  });

  it('leaves its registry connections open with endsProcess, and closes every one without it; both publish', async () => {
    const target = `${w.registry.host}/${w.registry.base}/ends`;
    /** Publish a new pack `name`:`version` with main(), and the connections the run left open. */
    const publish = async (name: string, version: string, endsProcess: boolean): Promise<string[]> => {
      const pack = await writePack(join(w.root, name), { name, version });
      const before = connectionsTo(w.registry.port);
      const run = await push([pack, '--registry', target, '--no-tty'], w.env, endsProcess);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`published ${name}:${version} -> ${target}/spectro-packs/archive/${name}:${version}`);
      return opened(before, connectionsTo(w.registry.port));
    };
    expect(await publish('closed', '2.0.0', false)).toEqual([]);
    expect((await publish('kept', '1.0.0', true)).length).toBeGreaterThan(0);

    // What each run reported is there.
    for (const [name, version] of [['kept', '1.0.0'], ['closed', '2.0.0']] as const) {
      expect(await w.reader.manifest(`${w.registry.base}/ends/spectro-packs/archive/${name}`, version)).toBeDefined();
    }
  });
});
