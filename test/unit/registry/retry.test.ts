import { describe, expect, it } from 'vitest';
import { PackpubError } from '../../../src/errors.js';
import { errorFromNetwork, errorFromResponse, isRetryableStatus, RegistryError } from '../../../src/registry/errors.js';
import { backoffDelayMs, isRetryableError, parseRetryAfter, RetryPolicy, systemClock, useRetryClock, type RetryClock } from '../../../src/registry/retry.js';

function fakeClock(random = 0.5) {
  const sleeps: number[] = [];
  let now = 0;
  const clock: RetryClock = {
    now: () => now,
    random: () => random,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
  };
  return { clock, sleeps };
}

const url = new URL('https://r.example/v2/a/manifests/1.0.0');
const responseError = (status: number, body = '', retryAfterMs?: number) =>
  errorFromResponse({ method: 'GET', url, status, host: 'r.example', body: Buffer.from(body), retryAfterMs });

describe('backoff', () => {
  it('doubles from 250 ms with ±10 % jitter, clamped to 200 ms..3 s (oras-go)', () => {
    expect([0, 1, 2, 3, 4, 5].map((n) => backoffDelayMs(n, () => 0.5))).toEqual([250, 500, 1000, 2000, 3000, 3000]);
    expect(backoffDelayMs(0, () => 0)).toBe(225);
    expect(backoffDelayMs(0, () => 0.999999)).toBe(275);
    expect(backoffDelayMs(3, () => 0)).toBe(1800);
    expect(backoffDelayMs(3, () => 0.999999)).toBe(2200);
    expect(backoffDelayMs(60, () => 0.999999)).toBe(3000);
    for (let n = 0; n < 10; n++) {
      for (const r of [0, 0.25, 0.5, 0.75, 0.999]) {
        const d = backoffDelayMs(n, () => r);
        expect(d).toBeGreaterThanOrEqual(200);
        expect(d).toBeLessThanOrEqual(3000);
      }
    }
  });

  it('starts from the initial delay given (--retry-delay): the floor never above it, the 3 s ceiling never below it', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelayMs(n, () => 0.5, 10))).toEqual([10, 20, 40, 80, 160, 320, 640, 1280, 2560]);
    expect(backoffDelayMs(9, () => 0.5, 10)).toBe(3000);
    expect(backoffDelayMs(0, () => 0, 10)).toBe(10);
    expect([0, 1, 5].map((n) => backoffDelayMs(n, () => 0.7, 0))).toEqual([0, 0, 0]);
    expect([0, 1, 5].map((n) => backoffDelayMs(n, () => 0.5, 10_000))).toEqual([10_000, 10_000, 10_000]);
    expect(backoffDelayMs(0, () => 0, 10_000)).toBe(9_000);
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2024-06-01T12:00:00Z');
  it.each([
    ['5', 5000],
    ['0', 0],
    [' 2 ', 2000],
    ['Sat, 01 Jun 2024 12:00:10 GMT', 10_000],
    ['Sat, 01 Jun 2024 11:59:00 GMT', 0],
    ['3600', 60_000],
  ])('%j -> %d ms', (value, ms) => {
    expect(parseRetryAfter(value, now)).toBe(ms);
  });
  it.each([[undefined], [''], ['soon'], ['-1']])('%j -> undefined', (value) => {
    expect(parseRetryAfter(value, now)).toBeUndefined();
  });
});

describe('what is retried', () => {
  it.each([408, 429, 500, 502, 503, 504])('status %d is retryable', (status) => {
    expect(isRetryableStatus(status)).toBe(true);
    expect(isRetryableError(responseError(status))).toBe(true);
  });

  it.each([400, 401, 403, 404, 405, 409, 412, 501, 505])('status %d is not', (status) => {
    expect(isRetryableError(responseError(status))).toBe(false);
  });

  it.each(['NAME_UNKNOWN', 'TAG_INVALID', 'DENIED', 'UNAUTHORIZED', 'PRECONDITION', 'UNSUPPORTED', 'MANIFEST_INVALID'])(
    'a 5xx carrying %s is not retried',
    (code) => {
      expect(isRetryableError(responseError(503, `{"errors":[{"code":"${code}","message":"m"}]}`))).toBe(false);
    },
  );

  it.each(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ETIMEDOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT'])(
    'network error %s is retried',
    (code) => {
      const err = Object.assign(new Error('boom'), { code });
      expect(isRetryableError(err)).toBe(true);
      expect(isRetryableError(errorFromNetwork(err, { method: 'GET', url }))).toBe(true);
    },
  );

  it.each(['ECONNREFUSED', 'ENOTFOUND', 'DEPTH_ZERO_SELF_SIGNED_CERT'])('network error %s is not', (code) => {
    expect(isRetryableError(errorFromNetwork(Object.assign(new Error('x'), { code }), { method: 'GET', url }))).toBe(false);
  });

  it('never retries other typed errors', () => {
    expect(isRetryableError(new PackpubError('DIGEST_MISMATCH', 'x'))).toBe(false);
    expect(isRetryableError(new Error('plain'))).toBe(false);
  });
});

describe('RetryPolicy', () => {
  it('waits on the clock useRetryClock installs when given none, until undone', async () => {
    const { clock, sleeps } = fakeClock();
    const undo = useRetryClock(clock);
    try {
      let calls = 0;
      await new RetryPolicy({ attempts: 3 }).run(async () => {
        if (++calls < 3) throw responseError(503);
        return 'ok';
      });
      expect(sleeps).toEqual([250, 500]);
    } finally {
      undo();
    }
    expect(new RetryPolicy().clock).toBe(systemClock);
  });

  it('retries up to the attempt limit with growing delays, then throws the last error', async () => {
    const { clock, sleeps } = fakeClock();
    const policy = new RetryPolicy({ attempts: 6, clock });
    let calls = 0;
    await expect(
      policy.run(async () => {
        calls++;
        throw responseError(502);
      }),
    ).rejects.toMatchObject({ status: 502 });
    expect(calls).toBe(6);
    expect(sleeps).toEqual([250, 500, 1000, 2000, 3000]);
  });

  it('returns the first success', async () => {
    const { clock, sleeps } = fakeClock();
    const policy = new RetryPolicy({ clock });
    let calls = 0;
    const result = await policy.run(async (attempt) => {
      calls++;
      if (attempt < 3) throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
      return 'ok';
    });
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(sleeps).toHaveLength(2);
  });

  it('honours Retry-After instead of the backoff', async () => {
    const { clock, sleeps } = fakeClock();
    const policy = new RetryPolicy({ clock });
    let calls = 0;
    await policy.run(async () => {
      if (++calls === 1) throw responseError(429, '{"errors":[{"code":"TOOMANYREQUESTS","message":"Rate exceeded"}]}', 7000);
      return 'ok';
    });
    expect(sleeps).toEqual([7000]);
  });

  it('stops at once on a non-retryable error', async () => {
    const { clock, sleeps } = fakeClock();
    const policy = new RetryPolicy({ clock });
    let calls = 0;
    await expect(
      policy.run(async () => {
        calls++;
        throw responseError(404, '{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}');
      }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(calls).toBe(1);
    expect(sleeps).toEqual([]);
  });

  it('stops when the next wait would pass the overall deadline', async () => {
    const { clock, sleeps } = fakeClock();
    const policy = new RetryPolicy({ attempts: 100, deadlineMs: 2_000, clock });
    let calls = 0;
    await expect(
      policy.run(async () => {
        calls++;
        throw responseError(503);
      }),
    ).rejects.toBeInstanceOf(RegistryError);
    expect(sleeps).toEqual([250, 500, 1000]);
    expect(calls).toBe(4);
  });

  it('reports each retry to onRetry', async () => {
    const { clock } = fakeClock();
    const seen: string[] = [];
    const policy = new RetryPolicy({ attempts: 3, clock, onRetry: (i) => seen.push(`${i.attempt}/${i.attempts} ${i.delayMs}`) });
    await expect(policy.run(async () => Promise.reject(responseError(500)))).rejects.toBeDefined();
    expect(seen).toEqual(['1/3 250', '2/3 500']);
  });

  it('waits the initial delay it was given, doubling, and still honours Retry-After', async () => {
    const { clock, sleeps } = fakeClock();
    let calls = 0;
    const failing = () => Promise.reject(++calls === 3 ? responseError(503, '', 1500) : responseError(502));
    await expect(new RetryPolicy({ attempts: 5, initialDelayMs: 20, clock }).run(failing)).rejects.toMatchObject({ status: 502 });
    expect(sleeps).toEqual([20, 40, 1500, 160]);
  });

  it('shares one budget of attempts and one deadline between runs (a download and its resumes)', async () => {
    const { clock, sleeps } = fakeClock();
    const policy = new RetryPolicy({ attempts: 4, clock });
    const budget = policy.budget();
    let calls = 0;
    const failTwiceThenOk = (attempt: number) => {
      calls++;
      return attempt <= 2 ? Promise.reject(responseError(503)) : Promise.resolve(attempt);
    };
    expect(await policy.run(failTwiceThenOk, undefined, budget)).toBe(3);
    // The second run starts where the first left off: two of the four attempts are used up.
    await expect(policy.run(() => (calls++, Promise.reject(responseError(503))), undefined, budget)).rejects.toMatchObject({ status: 503 });
    expect(calls).toBe(5);
    expect(sleeps).toEqual([250, 500, 1000]);
    // Progress gives the budget back.
    budget.progressed();
    expect(await policy.run(failTwiceThenOk, undefined, budget)).toBe(3);
  });

  it('rejects nonsense limits', () => {
    expect(() => new RetryPolicy({ attempts: 0 })).toThrow(/at least 1/);
    expect(() => new RetryPolicy({ deadlineMs: 0 })).toThrow(/positive/);
    expect(() => new RetryPolicy({ initialDelayMs: -1 })).toThrow(/retry delay must be 0 or more/);
    expect(() => new RetryPolicy({ initialDelayMs: Number.NaN })).toThrow(/retry delay must be 0 or more/);
  });
});
