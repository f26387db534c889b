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
  const clock = hurriedClock();
  let undo: (() => void) | undefined;
  beforeAll(() => {
    undo = useRetryClock(clock);
  });
  afterAll(() => undo?.());
  return clock;
}
