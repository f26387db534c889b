import { getEventListeners } from 'node:events';
import { PackpubError } from '../errors.js';
import { RegistryError, systemErrorCode, isRegistryError } from './errors.js';

/*
 * Retry policy of oras-go v2 (registry/remote/retry): backoff 250 ms x 2^n with +-10 % jitter, clamped to
 * 200 ms..3 s, five retries; Retry-After honoured. The first delay is a setting (`initialDelayMs`,
 * `--retry-delay`); the doubling, the jitter and the 3 s ceiling stay. Errors decide for themselves: RegistryError.retryable is
 * set for 408/429/5xx without a non-retryable OCI code, resets and timeouts. 401/403/404/other 4xx never.
 * A Retry-After longer than the backoff is waited instead of it (up to 60 s), a shorter one is not.
 */

export interface RetryOptions {
  /** Total attempts per request, first included (default 6: five retries, as oras-go). */
  attempts?: number;
  /** Per-request timeout in ms for headers and for each body chunk (default 60 000). */
  requestTimeoutMs?: number;
  /** Give up retrying a request after this many ms in all (default 600 000). */
  deadlineMs?: number;
  /** Backoff before the first retry in ms, doubling per retry up to 3 s (default 250, oras-go's; 0 retries at once). */
  initialDelayMs?: number;
}

/** What each RetryOptions setting is when not given (every setting has one). */
export const RETRY_DEFAULTS: Readonly<Required<RetryOptions>> = Object.freeze({ attempts: 6, requestTimeoutMs: 60_000, deadlineMs: 600_000, initialDelayMs: 250 });

/** The fixed part of the backoff (oras-go's): +-10 % jitter, every delay within 200 ms..3 s (the floor never above the first delay set, the ceiling never below it). */
const BACKOFF = { minDelayMs: 200, maxDelayMs: 3_000, jitter: 0.1 } as const;
/** A Retry-After beyond this is clamped: a publisher should fail and say so rather than hang for hours. */
export const MAX_RETRY_AFTER_MS = 60_000;

/** Time source, injectable so unit tests run without waiting. */
export interface RetryClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
  /** Uniform in [0, 1). */
  random(): number;
}

export const systemClock: RetryClock = {
  now: () => Date.now(),
  random: () => Math.random(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new PackpubError('ABORTED', 'cancelled'));
        return;
      }
      const onAbort = () => {
        clearTimeout(timer);
        reject(new PackpubError('ABORTED', 'cancelled'));
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

let defaultClock: RetryClock = systemClock;

/**
 * Make `clock` the one every RetryPolicy, Palette client and Palette sync wait without a clock of its own
 * uses, in this process; returns the undo. For tests that drive the CLI in-process through injected faults
 * or a Palette stand-in without waiting real backoff, pacing or polls.
 */
export function useRetryClock(clock: RetryClock): () => void {
  const before = defaultClock;
  defaultClock = clock;
  return () => {
    defaultClock = before;
  };
}

/** The clock waits use when none is given: the system clock unless useRetryClock installed another. */
export function currentRetryClock(): RetryClock {
  return defaultClock;
}

/**
 * Delay before retry number `retry` (0 for the first retry): `initialMs` x 2^retry with jitter, within
 * 200 ms..3 s (the floor never above `initialMs`, the ceiling never below it).
 */
export function backoffDelayMs(retry: number, random: () => number = Math.random, initialMs = RETRY_DEFAULTS.initialDelayMs): number {
  const raw = initialMs * 2 ** Math.min(retry, 20);
  const jittered = raw * (1 - BACKOFF.jitter + 2 * BACKOFF.jitter * random());
  return Math.round(Math.min(Math.max(BACKOFF.maxDelayMs, initialMs), Math.max(Math.min(BACKOFF.minDelayMs, initialMs), jittered)));
}

/** A wait for people: seconds, minutes, hours or days. */
function duration(ms: number): string {
  const s = ms / 1000;
  if (s < 120) return `${Math.round(s)} s`;
  if (s < 7_200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3_600)} h`;
  return `${Math.round(s / 86_400)} days`;
}

/** `Retry-After` as milliseconds to wait (RFC 9110 10.2.3: delay-seconds or an HTTP-date), clamped; undefined when absent or unparsable. */
export function parseRetryAfter(value: string | undefined, nowMs: number, maxMs = MAX_RETRY_AFTER_MS): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  let ms: number;
  if (/^\d+$/.test(text)) ms = Number(text) * 1000;
  else if (!/[a-z]/i.test(text)) return undefined; // an HTTP-date names a day and month
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - nowMs;
  }
  return Math.min(maxMs, Math.max(0, ms));
}

/** Whether a thrown error is worth another attempt. */
export function isRetryableError(err: unknown): boolean {
  if (isRegistryError(err)) return err.retryable;
  if (err instanceof PackpubError) return false;
  const code = systemErrorCode(err);
  return (
    code !== undefined &&
    ['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT', 'EAI_AGAIN', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT'].includes(code)
  );
}

/** Failures that happen before a request reaches the server: nothing was sent, so nothing can have been done. */
const NOT_SENT = ['ECONNREFUSED', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_CONNECT_TIMEOUT'];

/**
 * Whether the server may have acted on a request whose attempt failed with `err`: its answer was lost (a
 * reset, a hang-up, a timeout) or was a 5xx. Not when the connection was never made, nor for 408 / 429
 * (the server says it did not take the request).
 */
export function mayHaveActed(err: unknown): boolean {
  if (isRegistryError(err) && err.status !== undefined) return err.status !== 408 && err.status !== 429;
  const code = systemErrorCode(err);
  return code === undefined || !NOT_SENT.includes(code);
}

/**
 * The one rule for a delete that finds nothing to delete: "not found" on a retry, after an earlier attempt of
 * the same delete that may have reached the server (mayHaveActed), means that attempt did the delete and only
 * its answer was lost: done. On the first attempt it stays "not there". The caller reads the version back
 * afterwards either way (operations/delete.ts), so this never turns a version that is still there into exit 0.
 */
export function deletedByEarlierAttempt(notFound: boolean, earlierMayHaveActed: boolean): boolean {
  return notFound && earlierMayHaveActed;
}

export interface RetryInfo {
  /** The attempt that just failed (1-based). */
  attempt: number;
  attempts: number;
  delayMs: number;
  error: unknown;
}

export interface RetryPolicyOptions {
  /** Total attempts, first included (default 6). */
  attempts?: number;
  /** Stop retrying once this much time has passed since the first attempt (default 600 000 ms). */
  deadlineMs?: number;
  /** Backoff before the first retry (default 250 ms). */
  initialDelayMs?: number;
  clock?: RetryClock;
  /** Called before each wait, e.g. for a debug line. */
  onRetry?: (info: RetryInfo) => void;
  /**
   * A RegistryError whose Retry-After asks for a wait past the deadline ends the run at once (as any wait past
   * it does); true: it is thrown saying so (the registry's client). A caller that words its own message leaves it out.
   */
  sayRetryAfter?: boolean;
}

/**
 * One retry budget shared by several runs of a policy, for work that is retried in more than one place (a
 * blob download: the request, then resumes of its body): failed attempts in a row, counted against the
 * policy's attempts, and one deadline. Whoever sees progress (bytes delivered) calls `progressed()`.
 */
export class RetryBudget {
  /** Failed attempts since the start or the last progress. */
  failures = 0;
  /** Set when the last failure asked (Retry-After) for a wait that ends past the deadline: the wait asked, in ms. */
  askedPastDeadlineMs: number | undefined;
  constructor(
    /** Clock time after which nothing is retried. */
    readonly deadlineAt: number,
  ) {}

  progressed(): void {
    this.failures = 0;
  }
}

export class RetryPolicy {
  readonly attempts: number;
  readonly deadlineMs: number;
  readonly initialDelayMs: number;
  readonly clock: RetryClock;
  private readonly onRetry: ((info: RetryInfo) => void) | undefined;
  private readonly sayRetryAfter: boolean;

  constructor(options: RetryPolicyOptions = {}) {
    const attempts = options.attempts ?? RETRY_DEFAULTS.attempts;
    if (!Number.isInteger(attempts) || attempts < 1) {
      throw new PackpubError('USAGE', `retry attempts must be a whole number of at least 1, got ${attempts}`);
    }
    const deadline = options.deadlineMs ?? RETRY_DEFAULTS.deadlineMs;
    if (!(deadline > 0)) throw new PackpubError('USAGE', `retry deadline must be positive, got ${deadline} ms`);
    const initialDelay = options.initialDelayMs ?? RETRY_DEFAULTS.initialDelayMs;
    if (!(initialDelay >= 0 && Number.isFinite(initialDelay))) throw new PackpubError('USAGE', `retry delay must be 0 or more, got ${initialDelay} ms`);
    this.attempts = attempts;
    this.deadlineMs = deadline;
    this.initialDelayMs = initialDelay;
    this.clock = options.clock ?? defaultClock;
    this.onRetry = options.onRetry;
    this.sayRetryAfter = options.sayRetryAfter === true;
  }

  /** A fresh budget: no failures yet, the deadline from now. */
  budget(): RetryBudget {
    return new RetryBudget(this.clock.now() + this.deadlineMs);
  }

  /**
   * Count one failed attempt against `budget` and say how long to wait before the next one, or undefined when
   * `err` is not worth another attempt (not retryable, attempts used up, or the wait would pass the deadline).
   */
  nextDelay(budget: RetryBudget, err: unknown): number | undefined {
    budget.failures++;
    budget.askedPastDeadlineMs = undefined;
    if (budget.failures >= this.attempts || !isRetryableError(err)) return undefined;
    // What the registry asked (unclamped): a wait that ends past the deadline is not waited in 60 s pieces,
    // attempt after attempt (5 silent minutes before the same failure): the run ends now and says why.
    const asked = isRegistryError(err) ? err.retryAfterMs : undefined;
    if (asked !== undefined && this.clock.now() + asked > budget.deadlineAt) {
      budget.askedPastDeadlineMs = asked;
      return undefined;
    }
    // Retry-After lengthens the wait, never shortens it below the backoff: a `Retry-After: 0` (or a date already
    // past) on every answer of a rate-limit storm spent all the attempts within milliseconds, and the run failed.
    const backoff = backoffDelayMs(budget.failures - 1, () => this.clock.random(), this.initialDelayMs);
    const delayMs = asked === undefined ? backoff : Math.max(backoff, Math.min(asked, MAX_RETRY_AFTER_MS));
    return this.clock.now() + delayMs > budget.deadlineAt ? undefined : delayMs;
  }

  /** `err` as run() throws it when nextDelay stopped: saying so when the registry asked to wait past the deadline. */
  stopped(budget: RetryBudget, err: unknown): unknown {
    const asked = budget.askedPastDeadlineMs;
    if (asked === undefined || !this.sayRetryAfter || !isRegistryError(err)) return err;
    return new RegistryError(err.code, `${err.message}; it asks to wait ${duration(asked)} before the next request (Retry-After), past --retry-deadline (${duration(this.deadlineMs)}): not retried`, {
      method: err.method,
      url: err.url,
      status: err.status,
      ociCode: err.ociCode,
      ociMessage: err.ociMessage,
      retryable: err.retryable,
      retryAfterMs: asked,
      hint: 'the registry is rate limiting or down for longer than this run waits: run again later (a longer --retry-deadline waits up to 60 s per retry within it)',
      cause: err,
    });
  }

  /**
   * Run `fn` until it succeeds, throws a non-retryable error, runs out of attempts or passes the deadline.
   * `fn` must be safe to repeat: request bodies are re-opened on each call. It is told whether an earlier
   * attempt of this run may have been acted on by the server (mayHaveActed). `budget`: attempts and deadline
   * shared with other runs (a blob download and its resumes); by default a fresh one.
   */
  async run<T>(fn: (attempt: number, earlierMayHaveActed: boolean) => Promise<T>, signal?: AbortSignal, budget: RetryBudget = this.budget()): Promise<T> {
    let acted = false;
    for (;;) {
      const attempt = budget.failures + 1;
      try {
        return await fn(attempt, acted);
      } catch (err) {
        acted ||= mayHaveActed(err);
        const delayMs = this.nextDelay(budget, err);
        if (delayMs === undefined) throw this.stopped(budget, err);
        this.onRetry?.({ attempt, attempts: this.attempts, delayMs, error: err });
        await this.clock.sleep(delayMs, signal);
      }
    }
  }
}

/**
 * AbortControllers for per-call deadlines, reused. Making one (an AbortSignal is an EventTarget) was the largest
 * single cost of a conditional manifest read in packpub's own code (issue 16). A controller is taken back only when
 * it was never aborted and nothing listens on its signal any more (undici drops its listener when the answer's body
 * closes): it is then as good as a new one. Release it only after its timer is cleared.
 */
export class DeadlineControllers {
  private readonly free: AbortController[] = [];

  take(): AbortController {
    return this.free.pop() ?? new AbortController();
  }

  release(controller: AbortController): void {
    if (controller.signal.aborted || this.free.length >= 64 || getEventListeners(controller.signal, 'abort').length > 0) return;
    this.free.push(controller);
  }

  /** The calls under way that follow a caller's signal: one listener on that signal for all of them. */
  private readonly followers = new Map<AbortSignal, { controllers: Set<AbortController>; onAbort: () => void }>();

  /**
   * Let the caller's `given` signal abort `controller` too, with its reason, until the returned function is called
   * (before release): a call then runs under the one signal of its deadline. AbortSignal.any([given, deadline]) made a
   * third signal per call, tied to `given` (a dependent signal, weakly held by it) and so never reused with its
   * controller: every manifest read of a push under a signal (the CLI's, a library caller's) paid it (issue 16).
   * The calls in flight under one signal share one listener on it (a listener each made Node warn of a leak past 10).
   */
  follow(controller: AbortController, given: AbortSignal | undefined): () => void {
    if (given === undefined) return unfollowed;
    if (given.aborted) {
      controller.abort(given.reason);
      return unfollowed;
    }
    let entry = this.followers.get(given);
    if (entry === undefined) {
      const controllers = new Set<AbortController>();
      const onAbort = () => {
        this.followers.delete(given);
        for (const c of controllers) c.abort(given.reason);
      };
      entry = { controllers, onAbort };
      this.followers.set(given, entry);
      given.addEventListener('abort', onAbort, { once: true });
    }
    const { controllers, onAbort } = entry;
    controllers.add(controller);
    return () => {
      controllers.delete(controller);
      if (controllers.size > 0 || this.followers.get(given) !== entry) return;
      this.followers.delete(given);
      given.removeEventListener('abort', onAbort);
    };
  }
}

function unfollowed(): void {}
