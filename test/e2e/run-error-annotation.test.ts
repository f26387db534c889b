import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startHostileRegistry } from '../support/hostile-registry.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * In GitHub Actions the error that ends a run showed only in the log: where the job's annotations are read, a
 * usage error (exit 2: a secret that did not expand, a mistyped target) was "Process completed with exit code 2".
 * Now it is an ::error annotation too, with its hint. And with --debug, the stack (which starts with the
 * message, quoting a registry) is shown as printable() shows the message: no line of it is a workflow command.
 */

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-run-error-annotation-');
  await writePack(join(root, 'hello'), { name: 'hello', version: '1.0.0' });
  const hostile = stack.add(await startHostileRegistry({}));
  return { root, hostile };
});

describe('the error that ends a run, in GitHub Actions', () => {
  it('a usage error (exit 2) is an ::error annotation with its hint; outside Actions, none', async () => {
    const args = ['push', 'hello', '--registry', 'robot:pw@registry.example.com/base'];
    const run = await runCli(args, { cwd: w.root, env: { GITHUB_ACTIONS: 'true' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'error: the registry must not carry credentials (user@host or user:password@host)\n' +
        'hint: give HOST[:PORT]/BASE-PATH, and credentials with --username and --password-stdin, or packpub login\n' +
        '::error title=packpub::the registry must not carry credentials (user@host or user:password@host)%0Ahint: give HOST[:PORT]/BASE-PATH, and credentials with --username and --password-stdin, or packpub login\n',
    );
    const outside = await runCli(args, { cwd: w.root });
    expect(outside.code).toBe(2);
    expect(outside.stderr).not.toContain('::error');
  });

  it('--debug: the stack quoting a registry message starts no command line', async () => {
    const body = JSON.stringify({ errors: [{ code: 'UNSUPPORTED', message: 'no\n::stop-commands::tok\n##[add-mask]packpub' }] });
    w.hostile.behaviour = { answer: (r) => (r.path === '/v2/' ? undefined : { status: 400, headers: { 'content-type': 'application/json' }, body }) };
    const run = await runCli(['inspect', 'hello:1.0.0', '--registry', `${w.hostile.host}/evil`, '--debug'], { env: { GITHUB_ACTIONS: 'true' } });
    w.hostile.behaviour = {};
    expect(run.code).not.toBe(0);
    const commands = run.stderr.split('\n').filter((l) => /^\s*::/.test(l) || (!l.startsWith('::') && l.includes('##[')));
    expect(commands).toHaveLength(1);
    expect(commands[0]).toMatch(/^::error title=packpub::.*no%0A::stop-commands::tok%0A##\[add-mask\]packpub/);
  });
});
