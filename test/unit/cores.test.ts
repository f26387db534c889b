import { describe, expect, it } from 'vitest';
import { cgroupCpus, cpuThreads, MAX_CPU_THREADS, usableCpus } from '../../src/util/cores.js';

/** cgroupCpus over a file system of `files` (path -> text) mounted at /cg, the process's cgroup list in /self. */
function cpusOf(self: string, files: Record<string, string>): number | undefined {
  return cgroupCpus({ root: '/cg', self: '/self', read: (path) => (path === '/self' ? self : files[path]) });
}

const V1_SELF = '12:memory:/kubepods/pod1/c1\n4:cpu,cpuacct:/kubepods/pod1/c1\n1:name=systemd:/\n0::/\n';

describe('the CPUs a cgroup quota grants', () => {
  it('cgroup v1: cfs_quota_us over cfs_period_us, rounded down, at least 1; -1 is no quota', () => {
    const at = (quota: string, period = '100000') => ({
      '/cg/cpu,cpuacct/kubepods/pod1/c1/cpu.cfs_quota_us': quota,
      '/cg/cpu,cpuacct/kubepods/pod1/c1/cpu.cfs_period_us': period,
    });
    expect(cpusOf(V1_SELF, at('200000\n'))).toBe(2);
    expect(cpusOf(V1_SELF, at('250000'))).toBe(2);
    expect(cpusOf(V1_SELF, at('50000'))).toBe(1);
    expect(cpusOf(V1_SELF, at('-1'))).toBeUndefined();
    expect(cpusOf(V1_SELF, at('garbage'))).toBeUndefined();
  });

  it('cgroup v1: the smallest quota along the path; the mount root when the path is not visible (a container without its own namespace)', () => {
    expect(
      cpusOf(V1_SELF, {
        '/cg/cpu,cpuacct/kubepods/pod1/c1/cpu.cfs_quota_us': '-1',
        '/cg/cpu,cpuacct/kubepods/pod1/c1/cpu.cfs_period_us': '100000',
        '/cg/cpu,cpuacct/kubepods/pod1/cpu.cfs_quota_us': '300000',
        '/cg/cpu,cpuacct/kubepods/pod1/cpu.cfs_period_us': '100000',
      }),
    ).toBe(3);
    // Mounted as "cpu" (the controller listed alone, or a link), the process's path absent: the root's files.
    expect(cpusOf('3:cpu:/docker/abc\n', { '/cg/cpu/cpu.cfs_quota_us': '400000', '/cg/cpu/cpu.cfs_period_us': '100000' })).toBe(4);
  });

  it('cgroup v2: cpu.max, "max" being no quota; the smallest along the path', () => {
    expect(cpusOf('0::/ci/job\n', { '/cg/ci/job/cpu.max': '200000 100000\n' })).toBe(2);
    expect(cpusOf('0::/ci/job\n', { '/cg/ci/job/cpu.max': 'max 100000\n' })).toBeUndefined();
    expect(cpusOf('0::/ci/job\n', { '/cg/ci/job/cpu.max': 'max 100000', '/cg/ci/cpu.max': '150000 100000', '/cg/cpu.max': '800000 100000' })).toBe(1);
    expect(cpusOf('0::/\n', { '/cg/cpu.max': '600000 100000' })).toBe(6);
  });

  it('no cgroup list, or no quota file: no quota', () => {
    expect(cpusOf('', {})).toBeUndefined();
    expect(cpusOf('0::/x\n', {})).toBeUndefined();
    expect(cpusOf(V1_SELF, {})).toBeUndefined();
  });

  it('this process: at least one CPU, at most MAX_CPU_THREADS threads', () => {
    expect(usableCpus()).toBeGreaterThanOrEqual(1);
    expect(cpuThreads()).toBe(Math.min(usableCpus(), MAX_CPU_THREADS));
  });
});
