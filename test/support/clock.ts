import { afterAll, beforeAll } from 'vitest';
import { systemClock, useRetryClock, type RetryClock } from '../../src/registry/retry.js';

export interface HurriedClock extends RetryClock {
  /** Every wait asked for, in ms as asked (before hurrying), oldest first. */
  slept: number[];
}

/** The system clock with every retry wait (backoff, Retry-After) `factor` times shorter, recording what was asked. */
export function hurriedClock(factor = 50): HurriedClock {
  const slept: number[] = [];
  return {
    ...systemClock,
    slept,
    sleep: (ms, signal) => {
      slept.push(ms);
      return systemClock.sleep(ms / factor, signal);
    },
  };
}

/**
 * For the enclosing describe block (or file): retries in this process (the CLI run in-process, stores opened
 * by the test) wait 50 times shorter than asked, so fault tests exercise every retry without waiting real
 * backoff. Attempts, deadlines and request timeouts are unchanged.
 */
export function hurryRetries(): HurriedClock {
  return installedForBlock(hurriedClock());
}

/** `clock` is the process's retry clock (useRetryClock) from the block's first beforeAll to its last afterAll. */
function installedForBlock<T extends RetryClock>(clock: T): T {
  let undo: (() => void) | undefined;
  beforeAll(() => {
    undo = useRetryClock(clock);
  });
  afterAll(() => undo?.());
  return clock;
}

/** A clock whose waits take no real time: each one moves the clock on by what it asked for. */
export interface SkippingClock extends RetryClock {
  /** Every wait asked for, in ms, oldest first. */
  slept: number[];
}

/**
 * Real time plus every wait skipped so far: `sleep(ms)` moves the clock `ms` ahead at once (and lets the
 * event loop turn). Time still passes as it really does between waits, so the clock never runs slower than
 * the system's. A stand-in that counts time (the Palette stand-in's rate limit, its sync run times) reads
 * the same clock, so "at most 10 requests in any second" is checked on the time the client waited for.
 */
export function skippingClock(): SkippingClock {
  let skipped = 0;
  const slept: number[] = [];
  return {
    now: () => Date.now() + skipped,
    random: () => Math.random(),
    slept,
    sleep: async (ms, signal) => {
      slept.push(ms);
      await systemClock.sleep(0, signal);
      skipped += ms;
    },
  };
}

/**
 * For the enclosing describe block (or file): every wait without a clock of its own in this process (retry
 * backoff, Palette's request pacing and sync polls, in-process CLI runs included) is skipped on a
 * skippingClock, installed before the block's own beforeAll hooks run. Request timeouts stay real.
 */
export function skipWaits(): SkippingClock {
  return installedForBlock(skippingClock());
}
