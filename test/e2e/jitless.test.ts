import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBin, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { sharedRegistry } from '../support/registry.js';
import { stage } from '../support/stage.js';

/*
 * Node run with --jitless (NODE_OPTIONS, as where the system forbids memory both written and run) has no
 * WebAssembly, and undici's HTTP parser is WebAssembly. Every command that reaches a registry ended with
 * "error: Cannot read properties of undefined (reading 'compile')" and "this is a bug in packpub" (exit 1).
 * Now it says why, exit 2, before any request; what needs no network still runs.
 */

const stack = stage();

/** What Node itself prints at start under --jitless (Node 20 and 22): not packpub's. */
const NODE_WARNING = /^Warning: disabling flag --expose_wasm due to conflicting flags\n/;

describe('NODE_OPTIONS=--jitless', () => {
  it('a registry command says it needs WebAssembly (exit 2, nothing pushed); validate and a push into an OCI layout still run', async () => {
    const root = await stack.tempDir('packpub-jitless-');
    const pack = await writePack(join(root, 'pack'), { name: 'jitless', version: '1.0.0' });
    const registry = await sharedRegistry();
    const at = `${registry.host}/${registry.base}/jitless`;
    const env = { NODE_OPTIONS: '--jitless' };

    const push = await runBin(['push', pack, '--registry', at], { env, cwd: root });
    expect(push.code, push.stderr).toBe(2);
    expect(push.stdout).toBe('');
    expect(push.stderr.replace(NODE_WARNING, '')).toBe(
      "error: this Node.js runs without WebAssembly (--jitless), which packpub's HTTP client needs: its HTTP parser (llhttp, in undici) is WebAssembly\n" +
        'hint: run packpub without --jitless (check NODE_OPTIONS); validate, build and push --oci-layout need no network and run with it\n',
    );
    // Nothing reached the registry: without --jitless, the same list finds no pack there (in-process: what it
    // checks is the registry, not a process).
    const list = await runCli(['list', '--registry', at, '--json'], { cwd: root });
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { packs: unknown[] }).packs).toEqual([]);

    const validate = await runBin(['validate', pack], { env, cwd: root });
    expect(validate.code, validate.stderr).toBe(0);
    expect(validate.stdout).toContain('jitless:1.0.0 OK');
    const layout = await runBin(['push', pack, '--oci-layout', join(root, 'layout')], { env, cwd: root });
    expect(layout.code, layout.stderr).toBe(0);
    expect(layout.stdout).toContain(`published jitless:1.0.0 -> oci:${join(root, 'layout')}/spectro-packs/archive/jitless:1.0.0`);
  });
});
