import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectRun, type CliRun } from '../support/cli.js';
import { spawnChild } from '../support/spawner.js';

/*
 * bin/packpub.js runs main() through runAsProcess (src/cli/main.ts). A run whose promise never settles (an
 * operation waiting on something that can never happen: the chart-archive reader once did this on damaged
 * compressed data, caa5f66) leaves Node's event loop empty, and Node exits 0 having printed nothing. The
 * process must fail instead. Real processes: what is tested is how the process ends.
 */

const BUNDLE = pathToFileURL(fileURLToPath(new URL('../../dist/bundle/packpub.cjs', import.meta.url))).href;

/** A Node process that loads the built bundle and hands runAsProcess the given promise expression. */
function runWith(promise: string): Promise<CliRun> {
  const code = `const { runAsProcess } = await import(${JSON.stringify(BUNDLE)}); runAsProcess(${promise});`;
  const child = spawnChild(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (c: Buffer) => out.push(c));
  child.stderr?.on('data', (c: Buffer) => err.push(c));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (exit: number | null) => resolve({ code: exit ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

describe('a run that never finishes', () => {
  it('fails with exit 1 and says so, instead of exiting 0 with nothing printed', async () => {
    const run = await runWith('new Promise(() => {})');
    expectRun(run, {
      code: 1,
      stdout: '',
      stderr: ['error: packpub stopped before the run finished: an operation never completed', 'hint: this is a bug in packpub'],
    });
  });

  it("leaves a finished run's exit code and output as they are", async () => {
    expectRun(await runWith('Promise.resolve(3)'), { code: 3, stdout: '', stderr: '' });
    expectRun(await runWith('new Promise((resolve) => setTimeout(() => resolve(0), 50))'), { code: 0, stdout: '', stderr: '' });
  });

  it('ends the process once a finished run is written, whatever it left open, with its output whole', async () => {
    // An interval would keep Node's event loop alive for a minute: the process ends when the run does.
    const run = await runWith('(setInterval(() => {}, 60_000), process.stdout.write("x".repeat(1 << 20)), process.stderr.write("done\\n"), Promise.resolve(4))');
    expectRun(run, { code: 4, stderr: ['done'] });
    expect(run.stdout).toBe('x'.repeat(1 << 20));
  });
});
