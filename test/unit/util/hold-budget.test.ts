import { describe, expect, it } from 'vitest';
import { HoldBudget } from '../../../src/util/concurrency.js';

/*
 * HoldBudget: push's turns to build archives before the verdicts (src/operations/push.ts). What it must
 * guarantee: never more running than asked, never more held than the budget (a result's reserve counted
 * while it runs), turns in the order asked, and no waiter left hanging once it is closed.
 */

/** Whether `p` has settled (after the microtasks already queued). */
async function settled<T>(p: Promise<T>): Promise<{ value: T } | undefined> {
  let out: { value: T } | undefined;
  void p.then((value) => (out = { value }));
  await new Promise((resolve) => setImmediate(resolve));
  return out;
}

describe('HoldBudget', () => {
  it('gives at most atOnce turns at a time, in the order asked', async () => {
    const budget = new HoldBudget(100, 2, 10);
    expect(await budget.enter()).toBe(true);
    expect(await budget.enter()).toBe(true);
    const third = budget.enter();
    const fourth = budget.enter();
    expect(await settled(third)).toBeUndefined();
    budget.done(0);
    expect(await settled(third)).toEqual({ value: true });
    expect(await settled(fourth)).toBeUndefined();
    budget.done(0);
    expect(await settled(fourth)).toEqual({ value: true });
  });

  it('holds no more than its bytes: results held wait for their release', async () => {
    const budget = new HoldBudget(30, 8, 10);
    // Three turns reserve 30 bytes: the budget.
    for (let i = 0; i < 3; i++) expect(await budget.enter()).toBe(true);
    const next = budget.enter();
    expect(await settled(next)).toBeUndefined();
    // A result smaller than its reserve gives the difference back: 10 + 10 + 4 held, no room for 10 more.
    budget.done(4);
    expect(await settled(next)).toBeUndefined();
    // 4 + 10 + 2 held: room for one reserve.
    budget.done(2);
    expect(await settled(next)).toEqual({ value: true });
    // A result larger than its reserve (spilled to a file) is held whole: 4 + 2 + 10 + 25 > 30.
    budget.done(25);
    const after = budget.enter();
    expect(await settled(after)).toBeUndefined();
    budget.release(25);
    expect(await settled(after)).toEqual({ value: true });
  });

  it('tells every waiter, and every later caller, that no more turns are given once closed', async () => {
    const budget = new HoldBudget(10, 1, 10);
    expect(await budget.enter()).toBe(true);
    const waiting = [budget.enter(), budget.enter()];
    budget.close();
    expect(await Promise.all(waiting)).toEqual([false, false]);
    expect(await budget.enter()).toBe(false);
    // What ends after the close gives no turn either.
    budget.done(0);
    expect(await budget.enter()).toBe(false);
    budget.close();
  });
});
