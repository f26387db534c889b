import { readdir, readFile } from 'node:fs/promises';

/*
 * Where a run's CPU goes, from /proc (Linux): the packpub process's main thread, its other threads
 * (libuv's thread pool doing zlib, hashing and file I/O, worker threads, V8's helpers), and the registry
 * process. Node names every thread "node", so threads are told apart only as main (tid = pid) or not.
 * Sampled every 50 ms while the run lasts; the last sample before a thread ends is what it is billed.
 */

/** Clock ticks per second of /proc's utime and stime (USER_HZ, 100 on Linux). */
const TICKS = 100;

export interface CpuSplit {
  /** Seconds of CPU of the packpub process's main thread. */
  mainS: number;
  /** Seconds of CPU of all its other threads. */
  otherThreadsS: number;
  /**
   * The same, each thread on its own, largest first (Node names them all "node"): where a push runs its validation
   * workers (one per core) they are the busiest. Absent in the raw numbers of runs before 2026-12-07.
   */
  otherEachS?: number[];
  /** Seconds of CPU the registry process used during the run. */
  registryS: number;
  /**
   * The samples over time: [seconds since the first sample of packpub, CPU seconds so far of all three (packpub's
   * threads and the registry)], for the cores left idle (report.ts). Absent in runs before 2026-12-08.
   */
  timeline?: Array<[number, number]>;
  /**
   * When the registry first used CPU (packpub's first request: the uploads wait for every verdict), seconds since
   * the first sample, and packpub's CPU until then. Absent when the registry was never seen busy.
   */
  firstRequest?: { atS: number; mainS: number; otherThreadsS: number };
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** utime + stime in ticks, and the parent pid, of /proc/<...>/stat (fields after the parenthesised name). */
function parseStat(text: string): { ppid: number; comm: string; ticks: number } | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const comm = text.slice(text.indexOf('(') + 1, close);
  const f = text.slice(close + 2).split(' ');
  // f[0] state, f[1] ppid, ... f[11] utime, f[12] stime (proc(5) fields 3, 4, 14, 15)
  return { ppid: Number(f[1]), comm, ticks: Number(f[11]) + Number(f[12]) };
}

async function childrenOf(pid: number): Promise<Array<{ pid: number; comm: string }>> {
  const out: Array<{ pid: number; comm: string }> = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const text = await readText(`/proc/${entry}/stat`);
    const stat = text === undefined ? undefined : parseStat(text);
    if (stat !== undefined && stat.ppid === pid) out.push({ pid: Number(entry), comm: stat.comm });
  }
  return out;
}

/** The processes below `pid`, at any depth (the test support starts docker-registry through a spawner process). */
async function descendantsOf(pid: number): Promise<Array<{ pid: number; comm: string }>> {
  const all: Array<{ pid: number; ppid: number; comm: string }> = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const text = await readText(`/proc/${entry}/stat`);
    const stat = text === undefined ? undefined : parseStat(text);
    if (stat !== undefined) all.push({ pid: Number(entry), ppid: stat.ppid, comm: stat.comm });
  }
  const below = new Set([pid]);
  const out: Array<{ pid: number; comm: string }> = [];
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) {
      if (below.has(p.pid) || !below.has(p.ppid)) continue;
      below.add(p.pid);
      out.push({ pid: p.pid, comm: p.comm });
      grew = true;
    }
  }
  return out;
}

async function processTicks(pid: number): Promise<number | undefined> {
  const text = await readText(`/proc/${pid}/stat`);
  return text === undefined ? undefined : parseStat(text)?.ticks;
}

export interface CpuWatch {
  /** Give the pid of the process that runs packpub (GNU time's; packpub is its child) once spawned. */
  spawned(pid: number): void;
  stop(): Promise<CpuSplit>;
}

/** Sample the packpub process under `GNU time` (its child) and the bench's docker-registry processes. */
export async function watchCpu(): Promise<CpuWatch> {
  const registries = (await descendantsOf(process.pid)).filter((c) => c.comm === 'docker-registry').map((c) => c.pid);
  const registryStart = new Map<number, number>();
  for (const pid of registries) registryStart.set(pid, (await processTicks(pid)) ?? 0);
  const registryLast = new Map(registryStart);
  const threads = new Map<number, number>();
  let timePid: number | undefined;
  let nodePid: number | undefined;
  let stopped = false;
  const timeline: Array<[number, number]> = [];
  let firstAt: number | undefined;
  let firstRequest: CpuSplit['firstRequest'];
  const registryTicks = (): number => {
    let sum = 0;
    for (const [pid, ticks] of registryLast) sum += ticks - (registryStart.get(pid) ?? 0);
    return sum;
  };

  const sample = async (): Promise<void> => {
    if (nodePid === undefined && timePid !== undefined) nodePid = (await childrenOf(timePid))[0]?.pid;
    if (nodePid !== undefined) {
      let tasks: string[] = [];
      try {
        tasks = await readdir(`/proc/${nodePid}/task`);
      } catch {
        // ended
      }
      for (const tid of tasks) {
        const ticks = parseStat((await readText(`/proc/${nodePid}/task/${tid}/stat`)) ?? '')?.ticks;
        if (ticks !== undefined && !Number.isNaN(ticks)) threads.set(Number(tid), ticks);
      }
    }
    for (const pid of registries) {
      const ticks = await processTicks(pid);
      if (ticks !== undefined) registryLast.set(pid, ticks);
    }
    if (nodePid === undefined || threads.size === 0) return;
    const now = performance.now() / 1000;
    firstAt ??= now;
    let main = 0;
    let other = 0;
    for (const [tid, ticks] of threads) {
      if (tid === nodePid) main += ticks;
      else other += ticks;
    }
    const registry = registryTicks();
    timeline.push([now - firstAt, (main + other + registry) / TICKS]);
    if (firstRequest === undefined && registry > 0) firstRequest = { atS: now - firstAt, mainS: main / TICKS, otherThreadsS: other / TICKS };
  };
  const loop = (async () => {
    while (!stopped) {
      await sample();
      await new Promise((r) => setTimeout(r, 50));
    }
  })();

  return {
    spawned(pid) {
      timePid = pid;
    },
    async stop() {
      stopped = true;
      await loop;
      let main = 0;
      let other = 0;
      const each: number[] = [];
      for (const [tid, ticks] of threads) {
        if (tid === nodePid) main += ticks;
        else {
          other += ticks;
          if (ticks > 0) each.push(ticks / TICKS);
        }
      }
      const registry = registryTicks();
      return {
        mainS: main / TICKS,
        otherThreadsS: other / TICKS,
        otherEachS: each.sort((a, b) => b - a),
        registryS: registry / TICKS,
        timeline,
        ...(firstRequest === undefined ? {} : { firstRequest }),
      };
    },
  };
}
