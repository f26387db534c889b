import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { toolVersion } from './proc.js';

/** What the numbers were measured on: printed at the top of the table and of RESULTS.md. */
export interface Machine {
  cores: number;
  cpuModel: string;
  memoryBytes: number;
  kernel: string;
  node: string;
  packpub: string;
  dockerRegistry: string;
  skopeo: string;
  tar: string;
  gzip: string;
  date: string;
  /** 1-minute load average when the bench started: other work on the machine skews every number. */
  load: number;
  /** calibrate() when the bench started. */
  calibrationMs: number;
}

/**
 * CPU milliseconds of a fixed piece of work (SHA-256 over 256 MiB, the least of three): on a virtual machine
 * the host can slow every process without the guest seeing it (no steal time reported), so CPU times are
 * inflated too, not only wall times. Taken at the start and the end of a run: runs whose figures differ
 * were measured on a machine of another speed, and their CPU times do not compare.
 */
export function calibrate(): number {
  const block = Buffer.alloc(16 * 1024 * 1024, 0x5a);
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const before = process.cpuUsage();
    const hash = createHash('sha256');
    for (let j = 0; j < 16; j++) hash.update(block);
    hash.digest();
    const used = process.cpuUsage(before);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}

export async function describeMachine(packpubBin: string): Promise<Machine> {
  const [packpub, dockerRegistry, skopeo, tar, gzip] = await Promise.all([
    toolVersion(process.execPath, [packpubBin, '--version']),
    toolVersion('docker-registry', ['--version']),
    toolVersion('skopeo', ['--version']),
    toolVersion('tar', ['--version']),
    toolVersion('gzip', ['--version']),
  ]);
  // cgroup limits can be below what the kernel reports; prefer them where set.
  let memoryBytes = totalmem();
  try {
    const limit = (await readFile('/sys/fs/cgroup/memory.max', 'utf8')).trim();
    if (/^\d+$/.test(limit)) memoryBytes = Math.min(memoryBytes, Number(limit));
  } catch {
    // no cgroup v2 limit
  }
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryBytes,
    kernel: `Linux ${release()}`,
    node: process.version,
    packpub,
    dockerRegistry,
    skopeo,
    tar,
    gzip,
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    load: loadavg()[0] ?? 0,
    calibrationMs: calibrate(),
  };
}

export function machineLines(m: Machine): string[] {
  return [
    `cores: ${m.cores} (${m.cpuModel})`,
    `memory: ${(m.memoryBytes / 1024 ** 3).toFixed(1)} GiB`,
    `kernel: ${m.kernel}`,
    `node: ${m.node}`,
    `packpub: ${m.packpub}`,
    `docker-registry: ${m.dockerRegistry}`,
    `skopeo: ${m.skopeo}`,
    `tar: ${m.tar}`,
    `gzip: ${m.gzip}`,
    `date: ${m.date}`,
    `load average at start (1 min): ${m.load.toFixed(2)}`,
    `calibration at start (CPU of SHA-256 over 256 MiB): ${m.calibrationMs.toFixed(0)} ms`,
  ];
}
