import { Writable } from 'node:stream';
import { isAbsolute, relative, sep, join } from 'node:path';
import { mkdir, readFile, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import { closeSync, fstatSync, openSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { mapConcurrent } from '../../../src/util/concurrency.js';
import { drainedOrClosed } from '../../../src/util/stream.js';
import { pathWithin, readWhole, tempPathFor, writeFileAtomic } from '../../../src/util/fs.js';
import { Prng } from '../../support/prng.js';
import { withLockFile } from '../../../src/util/lock-file.js';
import { pidNamespace } from '../../../src/util/pid.js';
import { setup } from '../../support/stage.js';
import { deadPid, runChildText, startChild } from '../../support/spawner.js';
import { forgetSecrets, redactText, redactUrl, registerSecret } from '../../../src/util/redact.js';
import { cgroupCpus, cpuThreads, MAX_CPU_THREADS, usableCpus } from '../../../src/util/cores.js';

/*
 * The tests of src/util/'s smaller modules, a describe per module (each was a test file of its own): each test file
 * costs vitest ~15-30 ms of CPU whatever its size (requests between worker and main process, test/per-file-
 * setup.ts).
 */

describe('concurrency', () => {
  describe('mapConcurrent', () => {
    it('starts no item after one threw (was: every worker went on through the list, its answers thrown away)', async () => {
      const started: number[] = [];
      const run = mapConcurrent(Array.from({ length: 200 }, (_, i) => i), 8, async (i) => {
        started.push(i);
        await new Promise((resolve) => setImmediate(resolve));
        if (i === 0) throw new Error('first fails');
        return i;
      });
      await expect(run).rejects.toThrow('first fails');
      // Let any worker still looping start what it would.
      for (let n = 0; n < 50; n++) await new Promise((resolve) => setImmediate(resolve));
      expect(started.length).toBeLessThanOrEqual(16);
    });

    it('keeps the input order of results', async () => {
      expect(await mapConcurrent([30, 10, 20], 2, async (ms) => ms * 2)).toEqual([60, 20, 40]);
    });
  });
});

describe('stream', () => {
  /** A writable that holds every write until `release()`; refuses more after 1 byte. */
  function slowSink(): { sink: Writable; release: () => void } {
    const pending: Array<() => void> = [];
    const sink = new Writable({ highWaterMark: 1, write: (_chunk, _enc, cb) => void pending.push(() => cb()) });
    return { sink, release: () => pending.splice(0).forEach((cb) => cb()) };
  }

  describe('drainedOrClosed', () => {
    it('resolves when a full stream drains, and leaves no listener behind', async () => {
      const { sink, release } = slowSink();
      expect(sink.write('ab')).toBe(false);
      const waiting = drainedOrClosed(sink);
      release();
      await waiting;
      expect(sink.listenerCount('drain')).toBe(0);
      expect(sink.listenerCount('close')).toBe(0);
    });

    it('resolves when the stream is destroyed instead (it would never drain)', async () => {
      const { sink } = slowSink();
      sink.on('error', () => undefined);
      expect(sink.write('ab')).toBe(false);
      const waiting = drainedOrClosed(sink);
      sink.destroy(new Error('gone'));
      await waiting;
      expect(sink.destroyed).toBe(true);
      expect(sink.listenerCount('drain')).toBe(0);
    });
  });
});

describe('path-within', () => {
  /** pathWithin as path.relative defines it (what it was before its canonical-path shortcut). */
  function byRelative(folder: string, path: string): string | undefined {
    const rel = relative(folder, path);
    return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel) ? undefined : rel;
  }

  describe('pathWithin', () => {
    it.each([
      ['/a/b', '/a/b', ''],
      ['/a/b', '/a/b/c/d', 'c/d'],
      ['/a/b', '/a/bc', undefined],
      ['/a/b', '/a', undefined],
      ['/', '/a/b', 'a/b'],
      ['/', '/', ''],
      ['/a/b/', '/a/b/c', 'c'],
      ['/a/./b', '/a/b/c', 'c'],
      ['/a/b', '/a/b/../c', undefined],
      ['/a//b', '/a/b/c', 'c'],
    ])('%s holds %s: %s', (folder, path, within) => {
      expect(pathWithin(folder, path)).toBe(within);
    });

    it('answers as path.relative does, canonical paths or not', () => {
      const random = new Prng(16);
      const segments = ['a', 'b', 'ab', '.', '..', '', 'a.b', '..a', '.a'];
      const pathOf = () => {
        const n = random.u32() % 5;
        const parts = Array.from({ length: n }, () => segments[random.u32() % segments.length] ?? 'a');
        return `/${parts.join('/')}${random.u32() % 6 === 0 ? '/' : ''}`;
      };
      const differ: string[] = [];
      for (let i = 0; i < 5_000; i++) {
        const folder = pathOf();
        const path = random.u32() % 3 === 0 ? `${folder}/${pathOf().slice(1)}` : pathOf();
        if (pathWithin(folder, path) !== byRelative(folder, path)) differ.push(`${folder} ${path}`);
      }
      expect(differ).toEqual([]);
    });
  });
});

describe('fs', () => {
  const w = setup(async (stack) => ({ dir: await stack.tempDir() }));

  it('tempPathFor: every name beside the file is new, `<name>.tmp-<pid>-<8 hex>` (its random part taken from a pool of bytes)', () => {
    const path = join(w.dir, 'index.json');
    const names = Array.from({ length: 1000 }, () => tempPathFor(path));
    expect(new Set(names).size).toBe(1000);
    for (const name of names) expect(name).toMatch(new RegExp(`^${path.replace(/[.]/g, '\\.')}\\.tmp-${process.pid}-[0-9a-f]{8}$`));
    // Not one fixed sequence: the hex parts differ in every position.
    for (let i = 0; i < 8; i++) expect(new Set(names.map((n) => n.slice(-8)[i])).size).toBeGreaterThan(8);
  });

  it('writeFileAtomic: the new content under the name, with exactly the mode asked, flushed or not; a beforeRename that fails leaves the old file and no temp file', async () => {
    const path = join(w.dir, 'config.json');
    await writeFileAtomic(path, 'one', { mode: 0o600, durable: true });
    expect(await readFile(path, 'utf8')).toBe('one');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    await writeFileAtomic(path, Buffer.from('two'), { mode: 0o640 });
    expect(await readFile(path, 'utf8')).toBe('two');
    expect((await stat(path)).mode & 0o777).toBe(0o640);
    for (const durable of [true, false]) {
      await expect(writeFileAtomic(path, 'three', { durable, beforeRename: () => Promise.reject(new Error('taken over')) })).rejects.toThrow('taken over');
      expect(await readFile(path, 'utf8')).toBe('two');
      expect(await readdir(w.dir)).not.toContainEqual(expect.stringContaining('config.json.tmp-'));
    }
  });

  it('readWhole: the whole file from its descriptor, for a file of a known size and one whose fstat says 0 (/proc: read to its end)', () => {
    const path = join(w.dir, 'blob');
    const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
    writeFileSync(path, bytes);
    const read = (file: string) => {
      const fd = openSync(file, 'r');
      try {
        const size = fstatSync(fd).size;
        return { size, bytes: readWhole(fd, size) };
      } finally {
        closeSync(fd);
      }
    };
    expect(read(path)).toEqual({ size: 70_000, bytes });
    const proc = read('/proc/self/status');
    expect(proc.size).toBe(0);
    expect(proc.bytes.toString('utf8')).toMatch(new RegExp(`^Name:[^]*\\nPid:\\t${process.pid}\\n[^]*VmRSS`));
  });
});

describe('lock-file', () => {
  /*
   * chaos s22 F3: the lock beside an OCI layout's index.json and the Docker config. A lock of a LIVE process on this
   * host that is older than staleMs was taken over: a writer stopped or stalled inside it (SIGSTOP, a paused VM, a
   * hung disk) then renamed its stale index over the taker's, and both runs reported success (a published tag lost,
   * exit 0). And a release removed the lock whoever held it by then. Now a live local owner is waited for (the
   * caller's `busy` error when the wait is over), only the lock's own writer removes it, and a lock naming this very
   * pid that this process does not hold (a restart that got the same pid and hostname) is taken at once.
   * chaos s22 F1: a full disk let the lock's O_EXCL create succeed and its owner's write fail: the empty lock stayed,
   * named no process, and every later run waited staleMs (30 s layout, 10 s Docker config) for it; the error named
   * no file. Now the lock this call created is removed and the caller's `cannotLock` names it. A real tmpfs, filled
   * (the tests run as root, as CI does).
   */

  const busy = () => new Error('busy');

  /** withLockFile on `lock` (stale after `staleMs`) waits its 150 ms and ends with the caller's busy error, its `fn` never run. */
  async function expectBusy(lock: string, staleMs: number): Promise<void> {
    let ran = false;
    await expect(
      withLockFile(lock, { staleMs, waitMs: 150, busy }, async () => {
        ran = true;
      }),
    ).rejects.toThrow('busy');
    expect(ran).toBe(false);
  }

  describe('the lock file of the OCI layout index and the Docker config', () => {
    const w = setup(async (stack) => {
      const dir = await stack.tempDir();
      // A live process on this host that holds no lock of its own: the "stalled writer" a lock names.
      const live = await startChild('sleep', ['1000'], { stdio: ['ignore', 'ignore', 'ignore'] });
      stack.defer(() => live.kill('SIGKILL'));
      return { dir, live };
    });

    it('never takes over the lock of a live process on this host, however old it is: the waiter gets its busy error', async () => {
      const lock = join(w.dir, 'live.lock');
      await writeFile(lock, `${w.live.pid} ${hostname()}`);
      const old = new Date(Date.now() - 10 * 60_000);
      await utimes(lock, old, old);
      // Was: taken over at once (older than staleMs), `fn` ran beside the live writer.
      await expectBusy(lock, 10);
      expect(await readFile(lock, 'utf8')).toBe(`${w.live.pid} ${hostname()}`);
    });

    it('a lock of another PID namespace on this host (a container sharing the folder and the hostname) is not judged by its pid', async () => {
      // Its pid is free here, which says nothing about the container's own process (chaos s22 F8: was taken at once,
      // and the container's run and this one both wrote index.json: a tag lost, both exit 0).
      const dead = await deadPid();
      const other = `ns${Number(pidNamespace() ?? '0') + 1}`;
      const lock = join(w.dir, 'other-ns.lock');
      await writeFile(lock, `${dead} ${hostname()} 0123456789abcdef ${other}`);
      await expectBusy(lock, 30_000);
      let ran = false;
      // One of this namespace whose pid is gone (a killed run here), or of an older packpub (no namespace): taken at once.
      for (const text of [`${dead} ${hostname()} 0123456789abcdef ns${pidNamespace() ?? '-'}`, `${dead} ${hostname()}`]) {
        await writeFile(lock, text);
        await withLockFile(lock, { staleMs: 30_000, waitMs: 150, busy }, async () => {
          ran = true;
        });
        expect(ran, text).toBe(true);
        ran = false;
      }
    });

    it('a stale lock whose takeover another taker holds (one killed while at it) is waited for, within waitMs', async () => {
      const lock = join(w.dir, 'guarded.lock');
      const dead = await deadPid();
      await writeFile(lock, `${dead} ${hostname()}`);
      await writeFile(`${lock}.takeover`, '');
      const started = Date.now();
      // Was: retried at once without waiting and without looking at waitMs, until the takeover lock was staleMs old.
      await expectBusy(lock, 5_000);
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it('a release leaves alone a lock another owner holds by then', async () => {
      const lock = join(w.dir, 'taken.lock');
      const other = `${w.live.pid} another-host 0123456789abcdef`;
      await withLockFile(lock, { staleMs: 30_000, waitMs: 1_000, busy }, async () => {
        // Taken over meanwhile (another host's run after staleMs): its lock, not this call's.
        await writeFile(lock, other);
      });
      // Was: removed, so a third run wrote beside the taker.
      expect(await readFile(lock, 'utf8')).toBe(other);
    });

    it('takes at once a lock naming this pid and host that this process does not hold (a restart that got the same pid)', async () => {
      const lock = join(w.dir, 'own-pid.lock');
      await writeFile(lock, `${process.pid} ${hostname()} 0123456789abcdef`);
      let ran = false;
      // Was: this pid is alive, so the fresh lock was waited for until `busy`.
      await withLockFile(lock, { staleMs: 30_000, waitMs: 150, busy }, async () => {
        ran = true;
      });
      expect(ran).toBe(true);
      expect(await readdir(w.dir)).not.toContain('own-pid.lock');
    });

    it('a lock whose owner cannot be written (disk full) is removed, and the error is the one of the caller, naming it', async () => {
      const disk = join(w.dir, 'full');
      await mkdir(disk);
      await runChildText('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', disk]);
      try {
        // Every page taken: a file can still be made (inodes are counted apart), not written.
        await writeFile(join(disk, 'filler'), Buffer.alloc(64 * 1024)).catch(() => undefined);
        const lock = join(disk, 'index.json.lock');
        let ran = false;
        const started = Date.now();
        await expect(
          withLockFile(lock, { staleMs: 30_000, waitMs: 60_000, busy, cannotLock: (err) => new Error(`cannot write ${lock}: ${(err as NodeJS.ErrnoException).code}`) }, async () => {
            ran = true;
          }),
        ).rejects.toThrow(`cannot write ${lock}: ENOSPC`);
        expect(ran).toBe(false);
        // Was: an empty index.json.lock stayed, and the next run waited 30 s for it.
        expect(await readdir(disk)).toEqual(['filler']);
        expect(Date.now() - started).toBeLessThan(30_000);
      } finally {
        await runChildText('umount', [disk]);
      }
    });
  });
});

describe('redact', () => {
  describe('redactUrl', () => {
    it.each([
      [
        'S3 presigned URL (ECR blob redirect)',
        'https://prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com/abcd/sha256:1?X-Amz-Security-Token=IQoJb3JpZ2lu&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240601T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Credential=ASIAXXXX%2F20240601%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=deadbeef',
        'https://prod-us-east-1-starport-layer-bucket.s3.us-east-1.amazonaws.com/abcd/sha256:1?X-Amz-Security-Token=***&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240601T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=3600&X-Amz-Credential=***&X-Amz-Signature=***',
      ],
      ['userinfo', 'https://user:pa55@registry.example.com/v2/', 'https://***@registry.example.com/v2/'],
      ['token and sig params', 'https://a.example/p?token=abc&sig=def&n=10&access_token=x', 'https://a.example/p?token=***&sig=***&n=10&access_token=***'],
      [
        'distribution upload state, digest kept',
        'http://127.0.0.1:5000/v2/a/blobs/uploads/0b1c?_state=eyJOYW1lIjoiYSJ9&digest=sha256%3Aabc',
        'http://127.0.0.1:5000/v2/a/blobs/uploads/0b1c?_state=***&digest=sha256%3Aabc',
      ],
      ['token scope query kept readable', 'https://h/service/token?service=harbor-registry&scope=repository:p/r:pull,push', 'https://h/service/token?service=harbor-registry&scope=repository:p/r:pull,push'],
      ['fragment dropped', 'https://h/x#frag', 'https://h/x'],
      ['relative Location', '/v2/a/blobs/uploads/1?_state=secret&x=1', '/v2/a/blobs/uploads/1?_state=***&x=1'],
    ])('%s', (_name, input, expected) => {
      expect(redactUrl(input)).toBe(expected);
      expect(redactUrl(input)).not.toMatch(/deadbeef|pa55|IQoJb3JpZ2lu|eyJOYW1lIjoiYSJ9|secret/);
    });

    it('accepts URL objects', () => {
      expect(redactUrl(new URL('https://u:p@h:8443/a?Signature=zz'))).toBe('https://***@h:8443/a?Signature=***');
    });
  });

  describe('redactText', () => {
    it('removes Authorization values, URL secrets and registered secrets', () => {
      registerSecret('hunter2-long-password');
      const text =
        'failed: Authorization: Basic dXNlcjpodW50ZXIyLWxvbmc=, Bearer eyJhbGciOiJSUzI1NiJ9.x.y at https://h/p?X-Amz-Signature=abc; password hunter2-long-password';
      const out = redactText(text);
      expect(out).toBe('failed: Authorization: Basic ***, Bearer *** at https://h/p?X-Amz-Signature=***; password ***');
    });

    it('leaves prose about auth schemes alone', () => {
      expect(redactText('Basic authentication required; Bearer challenge ignored')).toBe('Basic authentication required; Bearer challenge ignored');
    });

    it('scrubs a short secret where it stands as a token, never inside a longer word', () => {
      registerSecret('abc');
      expect(redactText('bad password abc for u; "abc" (abc) abcdef cabc')).toBe('bad password *** for u; "***" (***) abcdef cabc');
      registerSecret('p.+');
      expect(redactText('password p.+, not pa+ or xp.+y')).toBe('password ***, not pa+ or xp.+y');
      registerSecret('');
      expect(redactText('nothing to see')).toBe('nothing to see');
    });

    it('scrubs nothing it was told before forgetSecrets()', () => {
      registerSecret('xy');
      registerSecret('a-long-secret');
      expect(redactText('xy a-long-secret')).toBe('*** ***');
      forgetSecrets();
      expect(redactText('xy a-long-secret')).toBe('xy a-long-secret');
    });
  });
});

describe('cores', () => {
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
});
