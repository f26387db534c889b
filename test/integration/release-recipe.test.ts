import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yargs from 'yargs';
import { copyCommand } from '../../src/cli/commands/copy.js';
import { pushCommand } from '../../src/cli/commands/push.js';
import { validateCommand } from '../../src/cli/commands/validate.js';
import type { CommandSpec } from '../../src/cli/context.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/files.js';
import { writePack } from '../support/packs.js';

/*
 * The CI recipe must stay true to the CLI: every flag it passes exists, and the commands it runs behave
 * as its comments say.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ACTION = join(ROOT, 'action.yml');
const CI_README = join(ROOT, 'examples/ci/README.md');

/** Long flag names a command accepts, aliases and `--no-` forms of booleans included. */
function flagsOf(spec: CommandSpec): Set<string> {
  const parser = spec.builder(yargs([])) as unknown as {
    getOptions(): { key: Record<string, unknown>; alias: Record<string, string[]>; boolean: string[] };
  };
  const o = parser.getOptions();
  const names = new Set<string>(['help', 'debug']);
  for (const key of Object.keys(o.key)) names.add(key);
  for (const aliases of Object.values(o.alias)) for (const a of aliases) names.add(a);
  for (const b of o.boolean) names.add(`no-${b}`);
  return names;
}

/** `packpub <command> ...` invocations in shell text, continuation lines joined. */
function invocations(script: string): Array<{ command: string; flags: string[] }> {
  const joined = script.replace(/\\\n\s*/g, ' ');
  const found: Array<{ command: string; flags: string[] }> = [];
  for (const match of joined.matchAll(/packpub (push|copy|validate|list)\b([^\n]*)/g)) {
    const rest = match[2] ?? '';
    found.push({ command: match[1] ?? '', flags: [...rest.matchAll(/(?:^|\s)--([a-z][a-z0-9-]*)/g)].map((m) => m[1] ?? '') });
  }
  return found;
}

function runScripts(doc: unknown): string[] {
  const out: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (typeof node === 'object' && node !== null) {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'run' && typeof v === 'string') out.push(v);
        else walk(v);
      }
    }
  };
  walk(doc);
  return out;
}

interface WorkflowStep {
  uses?: string;
  run?: string;
  with?: Record<string, string>;
}

/** Every step of every job of a workflow. */
function stepsOf(doc: unknown): WorkflowStep[] {
  const jobs = (doc as { jobs?: Record<string, { steps?: WorkflowStep[] }> }).jobs ?? {};
  return Object.values(jobs).flatMap((job) => job.steps ?? []);
}

const WORKFLOWS = ['github-actions-publish.yml', 'harbor.yml', 'ecr-oidc.yml'].map((f) => join(ROOT, 'examples/ci', f));
const isPackpubAction = (uses: string | undefined) => uses !== undefined && /^[\w-]+\/packpub@/.test(uses);

describe('the GitHub Actions recipes', () => {
  const known = { push: flagsOf(pushCommand), copy: flagsOf(copyCommand), validate: flagsOf(validateCommand) } as Record<string, Set<string>>;

  it('pass only flags and inputs that packpub push, copy, validate and the action define', async () => {
    const action = load(await readFile(ACTION, 'utf8')) as { inputs: Record<string, unknown> };
    const readme = await readFile(CI_README, 'utf8');
    const calls = [...runScripts(action).flatMap(invocations), ...invocations(readme)];
    const badInputs: string[] = [];
    for (const file of WORKFLOWS) {
      const workflow = load(await readFile(file, 'utf8'));
      calls.push(...runScripts(workflow).flatMap(invocations));
      for (const step of stepsOf(workflow).filter((s) => isPackpubAction(s.uses))) {
        for (const input of Object.keys(step.with ?? {})) if (!(input in action.inputs)) badInputs.push(`${file}: ${input}`);
        // `args` holds one argument per line; the flags among them are push flags.
        const args = String(step.with?.['args'] ?? '').split('\n').map((l) => l.trim());
        calls.push({ command: 'push', flags: args.filter((a) => a.startsWith('--')).map((a) => a.slice(2)) });
      }
    }
    expect(badInputs).toEqual([]);
    // The action's push, each workflow's uses of the action, the README's copy and validate.
    expect(calls.length).toBeGreaterThanOrEqual(7);
    const unknown = calls.flatMap((c) => c.flags.filter((f) => !(known[c.command]?.has(f) ?? false)).map((f) => `${c.command} --${f}`));
    expect(unknown).toEqual([]);
  });

  it('use the action by ref, pin third-party actions by commit, use OIDC for ECR, keep secrets off command lines', async () => {
    const texts = await Promise.all(WORKFLOWS.map((f) => readFile(f, 'utf8')));
    for (const text of texts) {
      const steps = stepsOf(load(text));
      expect(steps.filter((s) => isPackpubAction(s.uses)).length).toBeGreaterThanOrEqual(1);
      for (const s of steps) if (s.uses !== undefined && !isPackpubAction(s.uses)) expect(s.uses).toMatch(/^[\w-]+\/[\w-]+@[0-9a-f]{40}$/);
      // A secret is only ever an input of the action (which passes it on stdin), never in a run script.
      for (const script of runScripts(load(text))) {
        expect(script).not.toMatch(/\$\{\{\s*secrets\./);
        expect(script).not.toMatch(/get-login-password|docker login|npm (install|i) .*packpub/);
      }
    }
    const [sharded, harbor, ecr] = texts;
    for (const text of [sharded, ecr]) {
      expect(text).toContain('id-token: write');
      expect(text).toContain('aws-actions/configure-aws-credentials@');
    }
    expect(harbor).toContain('password: ${{ secrets.HARBOR_ROBOT_SECRET }}');
    expect(sharded).toContain('shard: ${{ matrix.shard }}/3');
  });
});

describe("the recipe's validation step", () => {
  let root: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ dir: root, cleanup } = await tempDir('packpub-recipe-'));
  });
  afterAll(async () => cleanup?.());

  // The validate job: the action with no registry and args --dry-run --oci-layout "$RUNNER_TEMP/plan".
  const validateStep = (cwd: string) => runCli(['push', 'packs/', '--recursive', '--dry-run', '--oci-layout', join(cwd, 'plan')], { cwd });

  it('passes a valid tree and writes nothing', async () => {
    const cwd = join(root, 'ok');
    await writePack(join(cwd, 'packs/a/hello-1.0.0'), { name: 'hello', version: '1.0.0' });
    await writePack(join(cwd, 'packs/b/world-2.0.0'), { name: 'world', version: '2.0.0' });
    const result = await validateStep(cwd);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('plan new hello:1.0.0');
    expect(existsSync(join(cwd, 'plan'))).toBe(false);
  });

  it('fails on an invalid pack (exit 1) and on two folders with one name and version (exit 2)', async () => {
    const bad = join(root, 'bad');
    await writePack(join(bad, 'packs/hello-1.0.0'), { name: 'hello', version: '1.0.0' });
    await writePack(join(bad, 'packs/broken-1.0.0'), { name: 'broken', version: '1.0.0', packJson: { layer: 'nope' } });
    const invalid = await validateStep(bad);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('INVALID broken:1.0.0');

    const dup = join(root, 'dup');
    await writePack(join(dup, 'packs/one/hello-1.0.0'), { name: 'hello', version: '1.0.0' });
    await writePack(join(dup, 'packs/two/hello-1.0.0'), { name: 'hello', version: '1.0.0' });
    const duplicate = await validateStep(dup);
    expect(duplicate.code).toBe(2);
    expect(duplicate.stderr).toContain('are both hello:1.0.0');
  });
});
