import { ChildProcess } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { basename, relative } from 'node:path';

/*
 * Where the suite's CPU goes, per test file: set PACKPUB_TEST_CPU=<file> and run vitest; test/per-file-setup.ts
 * then appends one tab-separated line per test file: CPU seconds in the worker (the file's own code, the
 * product's code it calls in-process, vitest's transform of what it imports), CPU seconds of the child
 * processes it started (reaped children, from /proc/self/stat), wall seconds, and per kind of child process
 * (docker-registry, skopeo, the built CLI, openssl, ...) how many ran and the CPU seconds they used; then the
 * same split into user and system (kernel) CPU: worker user/sys, children user/sys, and per kind
 * count/user+sys; last, when the file started (Unix seconds) and the worker's pid, so a whole run's lanes
 * can be laid out in time. The registries a worker's files share (support/registry.ts sharedRegistry) are
 * never reaped while files run: each file's line gets what they used during the file, as kind
 * `docker-registry-shared` (the one that started it counts it once, with its start). A file
 * runs alone in its worker while it runs (files share workers one after another), so the deltas are its own.
 * The children support/spawner.ts starts (its spawner reaps them) count as the worker's reaped children, with
 * the CPU the spawner reports at each one's exit; the spawner's own CPU is kind `spawner`.
 * Linux only; measuring changes nothing in what the tests do.
 */

const TICKS = 100; // USER_HZ: /proc times are in 1/100 s on Linux

interface Ticks {
  user: number;
  sys: number;
}

/** CPU of this process's reaped children, user and system, in ticks. */
function reapedTicks(): Ticks {
  // fields after the ")" of the command name: state is field 3; cutime and cstime are fields 16 and 17
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[13]), sys: Number(fields[14]) };
}

/** CPU of the reaped children, also those support/spawner.ts started for this process, in ticks. */
function childTicks(): Ticks {
  const own = reapedTicks();
  const spawned = state.__packpubSpawnedTicks ?? { user: 0, sys: 0 };
  return { user: own.user + spawned.user, sys: own.sys + spawned.sys };
}

interface KindTotal {
  count: number;
  user: number;
  sys: number;
}

const state = globalThis as typeof globalThis & {
  __packpubCpuKinds?: Map<string, KindTotal>;
  __packpubLongLived?: Map<number, LongLived>;
  /** The CPU of the children support/spawner.ts started for this process and its spawner reaped. */
  __packpubSpawnedTicks?: Ticks;
};

/** A child that outlives the test files (a registry the worker's files share): never reaped while they run. */
interface LongLived {
  kind: string;
  /** Its CPU when last read (what it had when it exited, once /proc no longer has it). */
  last: Ticks;
}

/**
 * Count `pid`'s CPU, as it goes, to the test files that run while it lives (support/registry.ts
 * sharedRegistry): each file's line gets what the process used during the file, under `kind`.
 */
export function meterLongLived(pid: number, kind: string): void {
  (state.__packpubLongLived ??= new Map()).set(pid, { kind, last: { user: 0, sys: 0 } });
}

/** The CPU of each long-lived child so far, by pid. */
function longLivedTicks(): Map<number, { kind: string; ticks: Ticks }> {
  const now = new Map<number, { kind: string; ticks: Ticks }>();
  for (const [pid, child] of state.__packpubLongLived ?? []) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      child.last = { user: Number(fields[11]), sys: Number(fields[12]) };
    } catch {
      // exited: what it had last
    }
    now.set(pid, { kind: child.kind, ticks: child.last });
  }
  return now;
}

function kindOf(file: string, args: readonly string[]): string {
  const name = basename(file);
  if (name !== 'node' && !file.endsWith(process.execPath)) return name;
  const at = args.findIndex((a, i) => i > 0 && !a.startsWith('-'));
  // `node -e <code>`: the code is no name (its newlines and tabs broke the table's line).
  if (at === -1 || ['-e', '--eval', '-p', '--print'].includes(args[at - 1] ?? '')) return at === -1 ? 'node' : `node ${args[at - 1]}`;
  return `node ${basename(args[at] ?? '').replace(/\s+/g, ' ')}`;
}

/** Counts child processes by kind, and their CPU (the ticks reaped between a child's exit and the one before). */
function installSpawnCounter(): Map<string, KindTotal> {
  const kinds = new Map<string, KindTotal>();
  let lastTicks = reapedTicks();
  // Every asynchronous spawn (spawn, execFile, exec, fork) goes through this method, which the types omit.
  type SpawnOptions = { file?: string; args?: string[] };
  const proto = ChildProcess.prototype as unknown as { spawn: (this: ChildProcess, options: SpawnOptions) => unknown };
  const spawnOriginal = proto.spawn;
  proto.spawn = function spawnCounted(this: ChildProcess, options: SpawnOptions) {
    const total = kindTotal(kinds, kindOf(options.file ?? '', options.args ?? []));
    total.count++;
    const result = spawnOriginal.call(this, options);
    const handle = (this as unknown as { _handle?: { onexit?: (...a: unknown[]) => void } })._handle;
    const onexit = handle?.onexit;
    if (handle !== undefined && onexit !== undefined) {
      handle.onexit = (...a: unknown[]) => {
        const now = reapedTicks();
        total.user += now.user - lastTicks.user;
        total.sys += now.sys - lastTicks.sys;
        lastTicks = now;
        onexit.apply(handle, a);
      };
    }
    return result;
  };
  return kinds;
}

/**
 * A child support/spawner.ts starts for this process (its spawner reaps it): counted under its kind; the
 * returned function takes the CPU ticks it used, reported at its exit, and counts them as a reaped child's.
 */
export function meterSpawned(file: string, args: readonly string[]): (user: number, sys: number) => void {
  const total = state.__packpubCpuKinds === undefined ? undefined : kindTotal(state.__packpubCpuKinds, kindOf(file, [file, ...args]));
  if (total !== undefined) total.count++;
  return (user, sys) => {
    const spawned = (state.__packpubSpawnedTicks ??= { user: 0, sys: 0 });
    spawned.user += user;
    spawned.sys += sys;
    if (total !== undefined) {
      total.user += user;
      total.sys += sys;
    }
  };
}

function kindTotal(kinds: Map<string, KindTotal>, kind: string): KindTotal {
  const total = kinds.get(kind) ?? { count: 0, user: 0, sys: 0 };
  kinds.set(kind, total);
  return total;
}

/** Starts measuring the test file about to run; the returned function appends its line to `table`. */
export function meterFile(table: string): (file: string) => void {
  state.__packpubCpuKinds ??= installSpawnCounter();
  const kinds = state.__packpubCpuKinds;
  const before = new Map([...kinds].map(([k, v]) => [k, { ...v }]));
  const cpu = process.cpuUsage();
  const children = childTicks();
  const longLived = longLivedTicks();
  const start = process.hrtime.bigint();
  const startedAt = Date.now();
  return (file) => {
    const own = process.cpuUsage(cpu);
    const now = childTicks();
    // The long-lived children's CPU during this file (all of it for one started during the file).
    const shared = new Map<string, KindTotal>();
    for (const [pid, { kind, ticks }] of longLivedTicks()) {
      const was = longLived.get(pid)?.ticks ?? { user: 0, sys: 0 };
      const total = shared.get(kind) ?? { count: 0, user: 0, sys: 0 };
      shared.set(kind, total);
      if (!longLived.has(pid)) total.count++;
      total.user += ticks.user - was.user;
      total.sys += ticks.sys - was.sys;
    }
    const sharedUser = [...shared.values()].reduce((n, t) => n + t.user, 0);
    const sharedSys = [...shared.values()].reduce((n, t) => n + t.sys, 0);
    const kidsUser = (now.user - children.user + sharedUser) / TICKS;
    const kidsSys = (now.sys - children.sys + sharedSys) / TICKS;
    const kids = kidsUser + kidsSys;
    const wall = Number(process.hrtime.bigint() - start) / 1e9;
    const workerUser = own.user / 1e6;
    const workerSys = own.system / 1e6;
    const worker = workerUser + workerSys;
    const perKind = [...kinds]
      .map(([k, v]) => {
        const was = before.get(k);
        return { k, count: v.count - (was?.count ?? 0), user: (v.user - (was?.user ?? 0)) / TICKS, sys: (v.sys - (was?.sys ?? 0)) / TICKS };
      })
      .filter((e) => e.count > 0)
      .concat([...shared].filter(([, v]) => v.count > 0 || v.user + v.sys > 0).map(([k, v]) => ({ k, count: v.count, user: v.user / TICKS, sys: v.sys / TICKS })))
      .map((e) => `${e.k}=${e.count}/${e.user.toFixed(2)}+${e.sys.toFixed(2)}`)
      .join(' ');
    // CPU to the hundredth (the ticks' own resolution): to the tenth, most files' worker CPU read 0.0 or 0.1, and a
    // sum over the ~440 files carried up to ±20 s of rounding.
    const split = [workerUser, workerSys, kidsUser, kidsSys].map((n) => n.toFixed(2));
    const row = [(worker + kids).toFixed(2), worker.toFixed(2), kids.toFixed(2), wall.toFixed(1), relative(process.cwd(), file), perKind, ...split, (startedAt / 1000).toFixed(1), String(process.pid)];
    appendFileSync(table, `${row.join('\t')}\n`);
  };
}
