import { describe, expect, it } from 'vitest';
import { DeadlineControllers } from '../../../src/registry/retry.js';

describe('DeadlineControllers', () => {
  it('hands back a released controller that was never aborted and has no listener', () => {
    const pool = new DeadlineControllers();
    const first = pool.take();
    pool.release(first);
    const again = pool.take();
    expect(again).toBe(first);
    expect(again.signal.aborted).toBe(false);
    expect(pool.take()).not.toBe(first);
  });

  it('never reuses an aborted controller', () => {
    const pool = new DeadlineControllers();
    const c = pool.take();
    c.abort(new Error('deadline'));
    pool.release(c);
    const next = pool.take();
    expect(next).not.toBe(c);
    expect(next.signal.aborted).toBe(false);
  });

  it('never reuses a controller something still listens on (its abort would reach that listener)', () => {
    const pool = new DeadlineControllers();
    const c = pool.take();
    let heard = 0;
    c.signal.addEventListener('abort', () => heard++);
    pool.release(c);
    const next = pool.take();
    expect(next).not.toBe(c);
    next.abort();
    expect(heard).toBe(0);
  });
});
