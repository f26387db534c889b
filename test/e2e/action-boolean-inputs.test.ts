import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { BIN, cliBaseEnv } from '../support/cli.js';
import { packTree } from '../support/push-setup.js';
import { runChildText, type ChildFailure } from '../support/spawner.js';
import { setup } from '../support/stage.js';

/*
 * review5 (s24): the action's boolean inputs (recursive, cache) were true only when exactly "true". GitHub's own
 * reading of a boolean input (actions/toolkit core.getBooleanInput) takes true, True, TRUE, false, False, FALSE and
 * refuses anything else: `recursive: True` ran without --recursive (exit 2, "not a pack folder" of the root), and
 * `recursive: yes` the same, a typo read as false. Now the push step reads them as getBooleanInput does, and refuses
 * any other value (exit 2, an annotation naming the input, the exit-code output 2) before packpub runs.
 * The push step runs as the runner runs it: `bash --noprofile --norc -eo pipefail <script>`, its `env`.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Step {
  id?: string;
  run?: string;
}

describe("the action's boolean inputs", () => {
  const w = setup(async (stack) => {
    const work = await packTree(stack, 2, { seed: 41, prefix: 'actbool' });
    const bin = join(work.root, 'bin');
    await mkdir(bin);
    await symlink(BIN, join(bin, 'packpub'));
    const spec = load(await readFile(join(ROOT, 'action.yml'), 'utf8')) as { runs: { steps: Step[] } };
    const script = join(work.root, 'push-step.sh');
    await writeFile(script, spec.runs.steps.find((s) => s.id === 'push')?.run ?? '');
    return { work, bin, script };
  });

  /** The push step with these inputs (a dry run to the default local layout), as the runner runs it. */
  const step = async (name: string, inputs: { recursive: string; cache: string }) => {
    const out = join(w.work.root, `${name}.output`);
    await writeFile(out, '');
    const report = join(w.work.root, `${name}.json`);
    const env = {
      ...cliBaseEnv(),
      ...w.work.env,
      PATH: [w.bin, dirname(process.execPath), process.env['PATH'] ?? ''].join(':'),
      GITHUB_ACTIONS: 'true',
      GITHUB_OUTPUT: out,
      GITHUB_WORKSPACE: w.work.root,
      IN_PACKS: w.work.tree,
      IN_RECURSIVE: inputs.recursive,
      IN_CACHE: inputs.cache,
      IN_REGISTRY: '',
      IN_TYPE: '',
      IN_USERNAME: '',
      IN_PASSWORD: '',
      IN_SHARD: '',
      IN_ARGS: '--dry-run',
      IN_REPORT: report,
      IN_JUNIT: '',
      NO_COLOR: '1',
    };
    const ran = await runChildText('bash', ['--noprofile', '--norc', '-eo', 'pipefail', w.script], { cwd: w.work.root, env }).then(
      (r) => ({ code: 0, stderr: r.stderr }),
      (err: ChildFailure) => ({ code: err.code as number, stderr: String(err.stderr) }),
    );
    return { ...ran, output: await readFile(out, 'utf8'), report: await readFile(report, 'utf8').catch(() => undefined) };
  };

  it.each([
    ['True', 'FALSE'],
    ['TRUE', ' true '],
  ])('recursive %j, cache %j: read as GitHub reads a boolean input (was: recursive read as false, exit 2)', async (recursive, cache) => {
    const run = await step(`ok-${recursive}`, { recursive, cache });
    expect(run.code, run.stderr).toBe(0);
    expect(run.output).toContain('exit-code=0\n');
    const report = JSON.parse(run.report ?? '{}') as { ok: boolean; results: Array<{ name: string; status: string }> };
    expect(report.ok).toBe(true);
    expect(report.results.map((r) => r.name).sort()).toEqual(w.work.packs.map((p) => p.name).sort());
  });

  it.each([
    ['recursive', 'yes'],
    ['recursive', ''],
    ['cache', 'on'],
  ])('%s given %j: refused (exit 2, an annotation naming the input), packpub not run (was: read as false)', async (input, value) => {
    const run = await step(`bad-${input}-${value}`, { recursive: 'true', cache: 'true', [input]: value });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(`::error title=packpub action::the ${input} input is "${value}": give true or false (True, TRUE, False, FALSE too)`);
    expect(run.output).toBe('exit-code=2\n');
    expect(run.report).toBeUndefined();
  });
});
