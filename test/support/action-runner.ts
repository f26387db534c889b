import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { load } from 'js-yaml';
import { spawnChild } from './spawner.js';

/*
 * Runs a composite action's steps the way the GitHub runner does, without GitHub: inputs with their
 * defaults (also as INPUT_<NAME> variables), `${{ }}` expressions in `env`, `with`, `if` and outputs,
 * each `run` step as `bash --noprofile --norc -eo pipefail <script>` with its own GITHUB_OUTPUT and
 * GITHUB_STEP_SUMMARY files, GITHUB_PATH additions carried to later steps, GITHUB_ACTION_PATH set, and a
 * failed step skipping later steps unless their `if` says always(). `uses` steps are recorded with their
 * evaluated `with`, not run (they are other repositories' actions).
 * Expressions understood: contexts inputs, github, runner, steps.<id>.outputs; `==`, `!=` against a quoted
 * string, `&&`, always(). Anything else throws, so an action using more fails the test rather than passing.
 */

interface StepSpec {
  id?: string;
  if?: string;
  uses?: string;
  with?: Record<string, string>;
  shell?: string;
  env?: Record<string, string>;
  run?: string;
}

interface ActionSpec {
  inputs?: Record<string, { default?: string; required?: boolean }>;
  outputs?: Record<string, { value: string }>;
  runs: { using: string; steps: StepSpec[] };
}

export interface StepRecord {
  id?: string;
  uses?: string;
  with?: Record<string, string>;
  ran: boolean;
  exitCode?: number;
  stdout: string;
  stderr: string;
}

export interface ActionRun {
  /** 0 when every step that ran succeeded, else the first failing step's exit code. */
  exitCode: number;
  outputs: Record<string, string>;
  /** The job summary: what the steps appended to their GITHUB_STEP_SUMMARY files. */
  summary: string;
  steps: StepRecord[];
  /** Everything the run steps printed, as the log shows it. */
  log: string;
  /** PATH entries added through GITHUB_PATH (for a later run in the same job). */
  path: string[];
}

export interface RunActionOptions {
  actionPath: string;
  workspace: string;
  runnerTemp: string;
  inputs: Record<string, string>;
  /** Extra process environment for every step (what earlier workflow steps or the job set). */
  env?: NodeJS.ProcessEnv;
  /** Step ids not to run (e.g. an install already done by an earlier run of the same job). */
  skip?: string[];
  /** PATH entries an earlier run added through GITHUB_PATH. */
  path?: string[];
  /** Called after each `run` step has run (e.g. to start work that needs only the install step's result). */
  afterStep?: (step: StepRecord) => void;
}

function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc !== null) {
      const value: string[] = [];
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) value.push(lines[i] ?? '');
      out[heredoc[1] ?? ''] = value.join('\n');
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return out;
}

function runBash(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawnChild('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code: number | null) => resolvePromise({ code: code ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
  });
}

export async function runAction(options: RunActionOptions): Promise<ActionRun> {
  const spec = load(await readFile(join(options.actionPath, 'action.yml'), 'utf8')) as ActionSpec;
  if (spec.runs.using !== 'composite') throw new Error(`not a composite action: ${spec.runs.using}`);
  const inputs: Record<string, string> = {};
  for (const [name, input] of Object.entries(spec.inputs ?? {})) {
    const given = options.inputs[name];
    if (given === undefined && input.required === true) throw new Error(`input ${name} is required`);
    inputs[name] = given ?? input.default ?? '';
  }
  for (const name of Object.keys(options.inputs)) if (!(name in inputs)) throw new Error(`the action has no input ${name}`);
  const github: Record<string, string> = { action_path: options.actionPath, workspace: options.workspace, run_id: '4242', run_attempt: '1', job: 'publish' };
  const runner: Record<string, string> = { temp: options.runnerTemp, os: 'Linux' };
  const stepOutputs: Record<string, Record<string, string>> = {};

  const value = (ref: string): string => {
    const parts = ref.trim().split('.');
    const [ctx, a, b, c] = parts;
    if (ctx === 'inputs' && parts.length === 2) return inputs[a ?? ''] ?? '';
    if (ctx === 'github' && parts.length === 2) return github[a ?? ''] ?? '';
    if (ctx === 'runner' && parts.length === 2) return runner[a ?? ''] ?? '';
    if (ctx === 'steps' && b === 'outputs' && parts.length === 4) return stepOutputs[a ?? '']?.[c ?? ''] ?? '';
    throw new Error(`expression not understood by the test runner: ${ref}`);
  };
  const condition = (expr: string | undefined, failed: boolean): boolean => {
    if (expr === undefined) return !failed;
    const terms = expr.replace(/^\$\{\{|\}\}$/g, '').split('&&').map((t) => t.trim());
    let always = false;
    const ok = terms.every((t) => {
      if (t === 'always()') return (always = true);
      const cmp = /^([\w.-]+)\s*(==|!=)\s*'([^']*)'$/.exec(t);
      if (cmp !== null) return (value(cmp[1] ?? '') === cmp[3]) === (cmp[2] === '==');
      return value(t) !== '';
    });
    return ok && (always || !failed);
  };
  const evaluate = (text: string): string => text.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_m, ref: string) => value(ref));

  const job = join(options.runnerTemp, '_runner_file_commands');
  await mkdir(job, { recursive: true });
  const pathAdditions: string[] = [...(options.path ?? [])];
  const steps: StepRecord[] = [];
  let summary = '';
  let log = '';
  let failedCode = 0;
  for (const [index, step] of spec.runs.steps.entries()) {
    const record: StepRecord = { ...(step.id === undefined ? {} : { id: step.id }), ran: false, stdout: '', stderr: '' };
    steps.push(record);
    if (step.id !== undefined && options.skip?.includes(step.id) === true) continue;
    if (!condition(step.if, failedCode !== 0)) continue;
    if (step.uses !== undefined) {
      record.uses = step.uses;
      record.with = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, evaluate(String(v))]));
      record.ran = true;
      continue;
    }
    if (step.run === undefined || step.shell !== 'bash') throw new Error(`step ${index}: only bash run steps are supported`);
    const files = { output: join(job, `output_${index}`), summary: join(job, `summary_${index}`), path: join(job, `path_${index}`) };
    for (const f of Object.values(files)) await writeFile(f, '');
    const script = join(job, `step_${index}.sh`);
    await writeFile(script, step.run);
    const env: NodeJS.ProcessEnv = {
      PATH: [...pathAdditions.slice().reverse(), dirname(process.execPath), process.env['PATH'] ?? ''].join(':'),
      HOME: process.env['HOME'],
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_WORKSPACE: options.workspace,
      GITHUB_ACTION_PATH: options.actionPath,
      GITHUB_OUTPUT: files.output,
      GITHUB_STEP_SUMMARY: files.summary,
      GITHUB_PATH: files.path,
      RUNNER_TEMP: options.runnerTemp,
      RUNNER_OS: 'Linux',
      ...options.env,
      ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.replace(/ /g, '_').toUpperCase()}`, v])),
      ...Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, evaluate(String(v))])),
    };
    const result = await runBash(script, options.workspace, env);
    record.ran = true;
    record.exitCode = result.code;
    record.stdout = result.stdout;
    record.stderr = result.stderr;
    log += result.stdout + result.stderr;
    if (step.id !== undefined) stepOutputs[step.id] = parseOutputs(await readFile(files.output, 'utf8'));
    summary += await readFile(files.summary, 'utf8');
    for (const line of (await readFile(files.path, 'utf8')).split('\n')) if (line !== '') pathAdditions.push(line);
    if (result.code !== 0 && failedCode === 0) failedCode = result.code;
    options.afterStep?.(record);
  }
  const outputs = Object.fromEntries(Object.entries(spec.outputs ?? {}).map(([k, o]) => [k, evaluate(o.value)]));
  return { exitCode: failedCode, outputs, summary, steps, log, path: pathAdditions };
}
