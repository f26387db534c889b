import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/*
 * How many threads packpub's CPU work may use (validation and build workers, deflate jobs, packs in flight).
 *
 * os.availableParallelism() counts the CPUs this process may run on. In a container with a CPU limit (docker
 * --cpus, a Kubernetes pod's limits.cpu: a CI runner on a large host) that is every CPU of the host: Node 22+
 * also reads the cgroup's CPU quota (libuv 1.49+), Node 20 does not. On such a runner packpub started one
 * validation worker per host CPU: 64 workers on a 64-CPU host, ~20 MB and ~0.4 CPU-s of start-up each, for a
 * limit of 2 CPUs: `validate` of pack-central took 1.3 GB and five times the CPU (the pod's memory limit
 * ends it, OOM-killed). usableCpus honours the quota on every Node; cpuThreads also bounds the workers on a
 * truly large machine, where more start-ups cost more than they save on a tree of packs.
 */

/** Worker threads packpub starts at most, whatever the machine (each is a Node environment: ~20 MB). */
export const MAX_CPU_THREADS = 8;

/** Reads a file's text, or undefined when it is not there (or not readable). */
export type ReadText = (path: string) => string | undefined;

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Where the cgroup file system is mounted and how to read it (a test points these at a folder of its own). */
export interface CgroupFiles {
  /** /sys/fs/cgroup */
  root: string;
  /** /proc/self/cgroup */
  self: string;
  read: ReadText;
}

const SYSTEM: CgroupFiles = { root: '/sys/fs/cgroup', self: '/proc/self/cgroup', read: readText };

/** A cgroup's path and its ancestors', the deepest first: a limit anywhere above the process applies to it. */
function withAncestors(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '');
  const paths: string[] = [];
  for (let i = parts.length; i >= 0; i--) paths.push(parts.slice(0, i).map((p) => `/${p}`).join(''));
  return paths;
}

/** CPUs a quota grants (quota over period, rounded down, at least 1), or undefined for no quota or an unreadable one. */
function quotaCpus(quota: number, period: number): number | undefined {
  if (!Number.isFinite(quota) || !Number.isFinite(period) || quota <= 0 || period <= 0) return undefined;
  return Math.max(1, Math.floor(quota / period));
}

/**
 * The CPUs the process's cgroup quota grants (the smallest along its path), or undefined when none applies.
 * cgroup v1: the cpu controller's cpu.cfs_quota_us / cpu.cfs_period_us (-1: none); v2: cpu.max, "max PERIOD"
 * or "QUOTA PERIOD". The process's own path may not be visible (a container without its own cgroup namespace
 * sees its cgroup mounted at the root): the root's files are read then, as every ancestor's are.
 */
export function cgroupCpus(files: CgroupFiles = SYSTEM): number | undefined {
  const lines = (files.read(files.self) ?? '').split('\n');
  let smallest: number | undefined;
  const take = (cpus: number | undefined): void => {
    if (cpus !== undefined && (smallest === undefined || cpus < smallest)) smallest = cpus;
  };
  const v1 = lines.map((line) => line.split(':')).find((f) => f.length >= 3 && f[1]!.split(',').includes('cpu'));
  if (v1 !== undefined) {
    const controllers = v1[1]!;
    const path = v1.slice(2).join(':');
    // The controller's mount, by its list's name or the usual links to it: the first one holding quota files (the
    // others, links to the same folder, would read the same files again).
    for (const mount of new Set([controllers, 'cpu', 'cpu,cpuacct'])) {
      let found = false;
      for (const dir of withAncestors(path)) {
        const base = `${files.root}/${mount}${dir}`;
        const quota = files.read(`${base}/cpu.cfs_quota_us`);
        const period = files.read(`${base}/cpu.cfs_period_us`);
        if (quota === undefined || period === undefined) continue;
        found = true;
        take(quotaCpus(Number(quota.trim()), Number(period.trim())));
      }
      if (found) break;
    }
    return smallest;
  }
  const v2 = lines.find((line) => line.startsWith('0::'));
  if (v2 === undefined) return undefined;
  for (const dir of withAncestors(v2.slice(3))) {
    const max = files.read(`${files.root}${dir}/cpu.max`);
    if (max === undefined) continue;
    const [quota, period] = max.trim().split(/\s+/);
    if (quota !== 'max') take(quotaCpus(Number(quota), Number(period ?? '100000')));
  }
  return smallest;
}

let usable: number | undefined;

/** The CPUs this process may use: those it may run on, within its cgroup's CPU quota; read once per process. */
export function usableCpus(): number {
  if (usable === undefined) {
    const quota = cgroupCpus();
    usable = Math.max(1, quota === undefined ? availableParallelism() : Math.min(availableParallelism(), quota));
  }
  return usable;
}

/** Threads for packpub's CPU work: one per usable CPU, at most MAX_CPU_THREADS. */
export function cpuThreads(): number {
  return Math.min(usableCpus(), MAX_CPU_THREADS);
}
