/*
 * How many of push's early look-ups (one manifest read per remembered pack and target, push.ts) are in flight
 * at once (issue 16). Each one in flight beyond the connections already open makes the transport open another
 * (registry/http.ts keeps up to 32 per registry): ~1.2 M instructions of connect, undici client and parser
 * instance on the thread that also reads the answers, and the registry's side of it, for an answer that on a
 * registry nearby takes a millisecond. So the look-ups start few at a time and go up to the most at once only
 * when the answers show the registry is far: while a look-up was in flight, this thread's event loop waited
 * (idle: time it spent busy does not count, so a loaded run's own work does not look like distance) longer than
 * LOOKUP_SLOW_MS for each look-up on its target in flight when it was sent, itself included. Waiting its turn
 * behind others (a registry busy with the ones sent before) takes about the same per look-up ahead whatever
 * their number, so a near registry keeps the few; a far one's wait is its distance, the same for the first
 * look-up alone as for the eighth, and the first answers already widen the limit. Measured answer times
 * decide, never a host name.
 */

/** Look-ups in flight at once until the answers show a far registry. */
export const LOOKUPS_AT_FIRST = 8;
/** Look-ups in flight at once for a far registry (as many as the transport keeps connections to one registry). */
export const LOOKUPS_AT_MOST = 32;
/**
 * A look-up the event loop waited for longer than this many ms (idle time while it was in flight) for each
 * look-up on its target in flight when it was sent (itself included) widens the limit. A registry on the same host answers a manifest read in ~1 ms, and its answers
 * queue behind each other at about that; a registry over a network adds its round trip to every one.
 */
export const LOOKUP_SLOW_MS = 3;

/** A look-up's request on one target: `sent()` as it goes out, and the function it returns once it has its answer. */
export interface LookupTimer {
  sent(): () => void;
}

const UNTIMED: LookupTimer = { sent: () => () => undefined };

export class LookupPace {
  private limit = LOOKUPS_AT_FIRST;
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  /** `idle`: ms this thread's event loop has waited for anything since it started (Node's nodeTiming.idleTime). */
  constructor(private readonly idle: () => number = () => performance.nodeTiming.idleTime) {}

  /** Look-ups in flight at most now. */
  get atOnce(): number {
    return this.limit;
  }

  /** Run `fn` (a pack's look-ups on every target) when a slot is free; turns are given in the order asked. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active < this.limit) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      // A finished look-up hands its slot straight to the next one waiting, so no newcomer slips in between.
      const next = this.waiting.shift();
      if (next === undefined) this.active--;
      else next();
    }
  }

  /**
   * The timer of one target: its look-ups in flight are counted apart from other targets' (each has its own
   * connections). An OCI layout's look-ups are file reads, never far: not timed (nor Node's perf_hooks loaded).
   */
  target(local = false): LookupTimer {
    if (local) return UNTIMED;
    let inFlight = 0;
    return {
      sent: () => {
        const ahead = ++inFlight;
        const since = this.idle();
        return () => {
          inFlight--;
          if (this.idle() - since > ahead * LOOKUP_SLOW_MS) this.widen();
        };
      },
    };
  }

  private widen(): void {
    if (this.limit === LOOKUPS_AT_MOST) return;
    this.limit = LOOKUPS_AT_MOST;
    while (this.active < this.limit && this.waiting.length > 0) {
      this.active++;
      (this.waiting.shift() as () => void)();
    }
  }
}
