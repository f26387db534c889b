import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CommandFailed, run, runTimed, type RunResult, type TimedResult } from './proc.js';

/** Running the built CLI (`bin/packpub.js`, as a user does) and reading its `--json` report. */

export interface PackpubCli {
  repoRoot: string;
  bin: string;
  workDir: string;
}

/** The documented `push --json` fields the bench relies on (src/cli/report.ts). */
export interface PushJson {
  ok: boolean;
  summary: Record<string, number>;
  results: Array<{
    dir: string;
    name?: string;
    version?: string;
    reference?: string;
    status: string;
    digest?: string;
    layerDigest?: string;
    size?: number;
    uploadedBytes: number;
    error?: { code: string; message: string };
  }>;
}

/**
 * A clean environment: own HOME (no docker config or credentials of the machine's user) and an archive
 * cache directory chosen by the scenario (fresh = cold, reused = warm).
 */
export async function packpubEnv(cli: PackpubCli, cacheName: string): Promise<NodeJS.ProcessEnv> {
  const home = join(cli.workDir, 'home');
  await mkdir(home, { recursive: true });
  return {
    PATH: process.env['PATH'],
    HOME: home,
    PACKPUB_CACHE_DIR: join(cli.workDir, 'cache', cacheName),
    NO_COLOR: '1',
  };
}

export interface PackpubRunOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Write V8 CPU profiles (one per thread) to this directory. */
  cpuProfDir?: string;
  allowFailure?: boolean;
  /** Called with the pid of the spawned process (GNU time's for timed runs). */
  onSpawn?: (pid: number) => void;
}

function nodeArgs(cli: PackpubCli, args: readonly string[], cpuProfDir: string | undefined): string[] {
  return [...(cpuProfDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`]), cli.bin, ...args];
}

export function packpub(cli: PackpubCli, args: readonly string[], options: PackpubRunOptions): Promise<RunResult> {
  return run(process.execPath, nodeArgs(cli, args, options.cpuProfDir), { env: options.env, cwd: options.cwd ?? cli.workDir, allowFailure: options.allowFailure === true });
}

export function packpubTimed(cli: PackpubCli, args: readonly string[], options: PackpubRunOptions): Promise<TimedResult> {
  return runTimed(process.execPath, nodeArgs(cli, args, options.cpuProfDir), {
    env: options.env,
    cwd: options.cwd ?? cli.workDir,
    allowFailure: options.allowFailure === true,
    ...(options.onSpawn === undefined ? {} : { onSpawn: options.onSpawn }),
  });
}

/** `packpub push ... --json`, timed; throws unless every pack ends with `expect` status. */
export async function pushAll(cli: PackpubCli, args: readonly string[], expect: 'published' | 'unchanged', options: PackpubRunOptions): Promise<{ timed: TimedResult; report: PushJson }> {
  const timed = await packpubTimed(cli, ['push', ...args, '--json'], { ...options, allowFailure: true });
  let report: PushJson;
  try {
    report = JSON.parse(timed.stdout) as PushJson;
  } catch {
    throw new CommandFailed(`packpub push ${args.join(' ')} --json`, timed);
  }
  const wrong = report.results.filter((r) => r.status !== expect);
  if (timed.code !== 0 || wrong.length > 0) {
    const lines = wrong.slice(0, 10).map((r) => `  ${r.name ?? r.dir}: ${r.status}${r.error === undefined ? '' : ` (${r.error.code}: ${r.error.message})`}`);
    throw new Error(`packpub push exited ${timed.code}; ${wrong.length} of ${report.results.length} packs not "${expect}":\n${lines.join('\n')}\n${timed.stderr.trim().slice(-2000)}`);
  }
  return { timed, report };
}
