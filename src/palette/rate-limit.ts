import type { RetryClock } from '../registry/retry.js';

/*
 * Palette limits each source IP per path prefix (`/v1/registries`, `/v1/packs`) to 10 requests/s with a
 * burst of 5 (palette-api.md 1, "Rate limits"). packpub keeps its own token bucket per prefix below that
 * (6/s, burst 4: at most 10 requests in any one-second window) so a run never meets a 429 on its own; a
 * 429 caused by someone else sharing the address is still backed off by the client.
 */

export interface RateLimit {
  perSecond: number;
  burst: number;
}

export const PALETTE_CLIENT_RATE: RateLimit = { perSecond: 6, burst: 4 };

/** The prefix a Palette path is limited under. */
export function ratePrefix(path: string): string {
  const m = /^\/v1\/[^/?]+/.exec(path);
  return m === null ? path : m[0];
}

export class TokenBucket {
  private tokens: number;
  private last: number;
  /** Callers queue here so concurrent requests take tokens in order. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly rate: RateLimit,
    private readonly clock: RetryClock,
  ) {
    this.tokens = rate.burst;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.rate.burst, this.tokens + ((now - this.last) / 1000) * this.rate.perSecond);
    this.last = now;
  }

  /** Wait until one request may be sent, then take its token. */
  take(signal?: AbortSignal): Promise<void> {
    const next = this.queue.then(async () => {
      this.refill();
      if (this.tokens < 1) {
        await this.clock.sleep(Math.ceil(((1 - this.tokens) / this.rate.perSecond) * 1000), signal);
        this.refill();
      }
      this.tokens -= 1;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }
}

/*
 * Palette counts per source address, not per client object: every client of this process that talks to
 * the same Palette origin with the same clock shares one bucket per prefix.
 */
const sharedBuckets = new WeakMap<RetryClock, Map<string, TokenBucket>>();

export function sharedBucket(origin: string, path: string, rate: RateLimit, clock: RetryClock): TokenBucket {
  let byKey = sharedBuckets.get(clock);
  if (byKey === undefined) {
    byKey = new Map();
    sharedBuckets.set(clock, byKey);
  }
  const key = `${origin} ${ratePrefix(path)} ${rate.perSecond}/${rate.burst}`;
  let bucket = byKey.get(key);
  if (bucket === undefined) {
    bucket = new TokenBucket(rate, clock);
    byKey.set(key, bucket);
  }
  return bucket;
}
