import { getEventListeners } from 'node:events';
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

  it("follow: the caller's abort reaches the deadline's signal with its reason; once unfollowed, nothing stays on the caller's signal and the controller is reused", () => {
    const pool = new DeadlineControllers();
    const caller = new AbortController();
    const c = pool.take();
    const unfollow = pool.follow(c, caller.signal);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(1);
    unfollow();
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    pool.release(c);
    expect(pool.take()).toBe(c);

    const d = pool.take();
    pool.follow(d, caller.signal);
    const reason = new Error('stopped');
    caller.abort(reason);
    expect(d.signal.aborted).toBe(true);
    expect(d.signal.reason).toBe(reason);
    pool.release(d);
    expect(pool.take()).not.toBe(d);
  });

  it('follow: a caller signal aborted already aborts the deadline at once; no signal is nothing to follow', () => {
    const pool = new DeadlineControllers();
    const reason = new Error('stopped before');
    const c = pool.take();
    pool.follow(c, AbortSignal.abort(reason))();
    expect(c.signal.reason).toBe(reason);
    const d = pool.take();
    pool.follow(d, undefined)();
    expect(d.signal.aborted).toBe(false);
  });

  it('follow: calls in flight under one signal share one listener on it (no leak warning past 10), each aborted', () => {
    const pool = new DeadlineControllers();
    const caller = new AbortController();
    const calls = Array.from({ length: 20 }, () => pool.take());
    const unfollows = calls.map((c) => pool.follow(c, caller.signal));
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(1);
    for (const unfollow of unfollows.slice(10)) unfollow();
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(1);
    caller.abort(new Error('stopped'));
    expect(calls.map((c) => c.signal.aborted)).toEqual([...Array(10).fill(true), ...Array(10).fill(false)]);
    for (const unfollow of unfollows.slice(0, 10)) unfollow();
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });
});
