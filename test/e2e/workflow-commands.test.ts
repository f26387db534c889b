import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startHostileRegistry } from '../support/hostile-registry.js';
import { runCli, type CliRun } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * In GitHub Actions the runner takes a log line starting with "::" (after blanks) as a workflow command, and
 * "##[command]" anywhere in a line (its older syntax): annotations, add-mask, set-output, stop-commands.
 * A registry's error text is printed in packpub's lines: with a line break and "::stop-commands::" in it,
 * the registry turned off packpub's own failure annotation that follows, and could add annotations of its own.
 * Now no text a registry sends starts a line with "::" or carries "##[": packpub's own annotations are the
 * only commands in the log.
 */

const EVIL = 'bad manifest\n::stop-commands::tok\n  ::error file=evil.txt,title=fake::INJECTED\n##[add-mask]packpub';
const body = JSON.stringify({ errors: [{ code: 'MANIFEST_INVALID', message: EVIL }] });

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-wfc-');
  const hostile = stack.add(await startHostileRegistry({}));
  return { root, hostile, R: `${hostile.host}/evil` };
});

/**
 * The lines of stderr, the log of a step, the runner would take as workflow commands (a line starting with "::"
 * is read as one first). stdout is the JSON report with --json, which the Action writes into a file.
 */
function commands(run: CliRun): string[] {
  return run.stderr.split('\n').filter((l) => /^\s*::/.test(l) || l.includes('##['));
}

describe('registry text never becomes a workflow command', () => {
  it.each([[[]], [['--json']]])('push %j: the only commands are packpub\'s own annotation, whole', async (mode) => {
    const dir = await writePack(join(w.root, `p${mode.length}`), { name: `p${mode.length}`, version: '1.0.0' });
    w.hostile.behaviour = { answer: (r) => (r.method === 'PUT' && r.path.includes('/manifests/') ? { status: 400, headers: { 'content-type': 'application/json' }, body } : undefined) };
    const run = await runCli(['push', dir, '--registry', w.R, '--no-cache', ...mode], { env: { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: w.root } });
    w.hostile.behaviour = {};
    expect(run.code).toBe(1);
    const own = commands(run);
    expect(own).toHaveLength(1);
    expect(own[0]).toMatch(new RegExp(`^::error file=p${mode.length}/pack\\.json,title=packpub failed::failed p${mode.length}:1\\.0\\.0 -> .*MANIFEST_INVALID: bad manifest%0A::stop-commands::tok%0A  ::error file=evil\\.txt,title=fake::INJECTED%0A##\\[add-mask\\]packpub `));
    // What the registry said is still shown, its line starts and "##[" spelled out.
    expect(run.stderr).toContain('MANIFEST_INVALID: bad manifest\nU+003A:stop-commands::tok\n  U+003A:error file=evil.txt,title=fake::INJECTED\nU+0023#[add-mask]packpub');
  });

  it('an error line (inspect) carries the registry text the same way', async () => {
    w.hostile.behaviour = { answer: (r) => (r.method === 'GET' || r.method === 'HEAD' ? (r.path === '/v2/' ? undefined : { status: 400, headers: { 'content-type': 'application/json' }, body }) : undefined) };
    const run = await runCli(['inspect', 'p0:1.0.0', '--registry', w.R], { env: { GITHUB_ACTIONS: 'true' } });
    w.hostile.behaviour = {};
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('U+003A:stop-commands::tok');
    // The one command: packpub's own annotation of the error, the registry's text escaped in it.
    const own = commands(run);
    expect(own).toHaveLength(1);
    expect(own[0]).toMatch(/^::error title=packpub::.*bad manifest%0A::stop-commands::tok%0A/);
  });

  // The Azure agent reads "##vso[area.action ...]" anywhere in a line of stdout or stderr: task.complete marked the step
  // succeeded. The TeamCity agent reads service messages from a step's output: setParameter name='env.X' set a variable
  // for the build's later steps, buildStatus status='SUCCESS' its status.
  const AGENTS = [
    {
      ci: 'Azure Pipelines',
      id: 'az',
      env: { TF_BUILD: 'True' },
      marker: '##vso[',
      message: 'bad manifest ##vso[task.complete result=Succeeded;]done\n##vso[task.setvariable variable=DIGEST]sha256:forged',
      shown: 'bad manifest U+0023#vso[task.complete result=Succeeded;]done\nU+0023#vso[task.setvariable variable=DIGEST]sha256:forged',
      reported: '##vso[task.complete result=Succeeded;]done',
      stdout: undefined,
    },
    {
      ci: 'TeamCity',
      id: 'tc',
      env: { TEAMCITY_VERSION: '2025.11' },
      marker: '##teamcity[',
      message: "bad manifest\n##teamcity[setParameter name='env.NODE_OPTIONS' value='--require /tmp/x.js']\n##teamcity[buildStatus status='SUCCESS']",
      shown: "bad manifest\nU+0023#teamcity[setParameter name='env.NODE_OPTIONS' value='--require /tmp/x.js']\nU+0023#teamcity[buildStatus status='SUCCESS']",
      reported: "##teamcity[buildStatus status='SUCCESS']",
      stdout: "##teamcity\\u005bbuildStatus status='SUCCESS']",
    },
  ];
  it.each(AGENTS.flatMap((agent) => [[agent.ci, [] as string[], agent] as const, [agent.ci, ['--json'], agent] as const]))(
    'in %s, push %j: a registry\'s logging command / service message is spelled out',
    async (_ci, mode, agent) => {
      const body = JSON.stringify({ errors: [{ code: 'MANIFEST_INVALID', message: agent.message }] });
      const dir = await writePack(join(w.root, `${agent.id}${mode.length}`), { name: `${agent.id}${mode.length}`, version: '1.0.0' });
      w.hostile.behaviour = { answer: (r) => (r.method === 'PUT' && r.path.includes('/manifests/') ? { status: 400, headers: { 'content-type': 'application/json' }, body } : undefined) };
      const run = await runCli(['push', dir, '--registry', w.R, '--no-cache', ...mode], { env: agent.env });
      w.hostile.behaviour = {};
      expect(run.code).toBe(1);
      expect((run.stdout + run.stderr).split('\n').filter((l) => l.includes(agent.marker))).toEqual([]);
      expect(run.stderr).toContain(agent.shown);
      if (mode.length > 0) {
        const report = JSON.parse(run.stdout) as { results: Array<{ error?: { message: string } }> };
        expect(report.results[0]?.error?.message).toContain(agent.reported);
        if (agent.stdout !== undefined) expect(run.stdout).toContain(agent.stdout);
      }
    },
  );
});
