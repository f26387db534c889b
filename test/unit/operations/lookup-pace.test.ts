import { describe, expect, it } from 'vitest';
import { LOOKUP_SLOW_MS, LOOKUPS_AT_FIRST, LOOKUPS_AT_MOST, LookupPace } from '../../../src/operations/lookup-pace.js';
import { deferred, type Deferred } from '../../../src/util/concurrency.js';

/*
 * Push's early look-ups (push.ts): a few in flight while the registry answers at once, the most once an answer
 * shows it is far (the event loop waited for it longer than LOOKUP_SLOW_MS per look-up in flight on its target
 * when it was sent). The loop's idle time is this test's own clock.
 */

interface Started {
  answer: Deferred<void>;
  done: Promise<void>;
}

/** `count` look-ups through `pace` on one target, each answered when the test resolves its deferred. */
function lookUps(pace: LookupPace, count: number) {
  const timer = pace.target();
  const sent: Started[] = [];
  let running = 0;
  let most = 0;
  const all = Array.from({ length: count }, () =>
    pace.run(async () => {
      running++;
      most = Math.max(most, running);
      const answered = timer.sent();
      const answer = deferred<void>();
      const done = answer.promise.then(() => {
        answered();
        running--;
      });
      sent.push({ answer, done });
      await done;
    }),
  );
  return { sent, all: Promise.all(all), most: () => most };
}

const turns = () => new Promise((resolve) => setImmediate(resolve));

describe('the pace of push early look-ups', () => {
  it('keeps a few in flight while the answers come without the event loop waiting for them', async () => {
    let idle = 0;
    const pace = new LookupPace(() => idle);
    const run = lookUps(pace, 40);
    for (let answered = 0; answered < 40; answered++) {
      await turns();
      // Each answer finds the loop idle a little: a registry nearby, busy with the ones sent before.
      idle += (LOOKUP_SLOW_MS * 0.9) / 2;
      run.sent[answered]?.answer.resolve();
    }
    await run.all;
    expect(run.most()).toBe(LOOKUPS_AT_FIRST);
    expect(pace.atOnce).toBe(LOOKUPS_AT_FIRST);
  });

  it('sends the most at once, at once, after an answer the loop waited for longer than a far registry takes', async () => {
    let idle = 0;
    const pace = new LookupPace(() => idle);
    const run = lookUps(pace, 40);
    await turns();
    expect(run.sent).toHaveLength(LOOKUPS_AT_FIRST);
    idle += LOOKUP_SLOW_MS + 1; // the first one sent, alone when it went out, answered after more than LOOKUP_SLOW_MS
    run.sent[0]?.answer.resolve();
    await turns();
    expect(pace.atOnce).toBe(LOOKUPS_AT_MOST);
    expect(run.sent).toHaveLength(LOOKUPS_AT_MOST + 1);
    for (const s of run.sent) s.answer.resolve();
    await turns();
    for (const s of run.sent) s.answer.resolve();
    await run.all;
    expect(run.most()).toBe(LOOKUPS_AT_MOST);
  });

  it('does not widen for an answer that waited its turn behind the others sent before it', async () => {
    let idle = 0;
    const pace = new LookupPace(() => idle);
    const run = lookUps(pace, 9);
    await turns();
    // The last of the first eight waited for the seven before it: a little under the limit for each.
    idle += LOOKUPS_AT_FIRST * LOOKUP_SLOW_MS - 1;
    run.sent[LOOKUPS_AT_FIRST - 1]?.answer.resolve();
    await turns();
    expect(pace.atOnce).toBe(LOOKUPS_AT_FIRST);
    expect(run.sent).toHaveLength(LOOKUPS_AT_FIRST + 1);
    for (const s of run.sent) s.answer.resolve();
    await run.all;
  });

  it("leaves an OCI layout's look-ups (file reads) untimed: never widened by them", () => {
    let idle = 0;
    const pace = new LookupPace(() => idle);
    const answered = pace.target(true).sent();
    idle += 1000 * LOOKUP_SLOW_MS;
    answered();
    expect(pace.atOnce).toBe(LOOKUPS_AT_FIRST);
  });

  it('counts each target apart: another target busy does not make this one look far', async () => {
    let idle = 0;
    const pace = new LookupPace(() => idle);
    const other = pace.target();
    const busy = Array.from({ length: 6 }, () => other.sent());
    const run = lookUps(pace, 2);
    await turns();
    // Answered after 2 x LOOKUP_SLOW_MS with one look-up of its own ahead: slow for this target alone.
    idle += 2 * LOOKUP_SLOW_MS + 1;
    run.sent[1]?.answer.resolve();
    await turns();
    expect(pace.atOnce).toBe(LOOKUPS_AT_MOST);
    run.sent[0]?.answer.resolve();
    await run.all;
    for (const done of busy) done();
  });
});
