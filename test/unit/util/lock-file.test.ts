import { mkdir, readFile, readdir, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withLockFile } from '../../../src/util/lock-file.js';
import { pidNamespace } from '../../../src/util/pid.js';
import { setup } from '../../support/stage.js';
import { deadPid, runChildText, startChild } from '../../support/spawner.js';

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
