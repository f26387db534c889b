import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hurryRetries } from '../support/clock.js';
import { runCli, type CliRun } from '../support/cli.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';
import { publishedRegistry } from '../support/published.js';

/*
 * A registry rate limiting (429) or down (503) with a Retry-After beyond --retry-deadline: `Retry-After:
 * 999999999`, or a date in 2099. The client clamped each wait to 60 s and tried again, five times: five silent
 * minutes with the defaults, then the same failure. Now a wait asked past the deadline ends the request at once
 * and says what the registry asked; a wait within it is still waited (at most 60 s per retry).
 */

const REPO = () => `${w.src}/spectro-packs/archive/hello`;
const w = setup((stack) => publishedRegistry(stack, 'packpub-retry-after-', [{ name: 'hello', version: '1.0.0' }]));
const clock = hurryRetries();

afterEach(() => {
  w.proxy.onRequest = undefined;
});

/** The proxy answers the first `times` manifest reads with `status` and `Retry-After: <value>`. */
function limited(status: number, value: string, times = Infinity): void {
  let left = times;
  w.proxy.onRequest = (r) =>
    r.kind === 'manifest-get' && left-- > 0
      ? { status, headers: { 'retry-after': value, 'content-type': 'application/json' }, body: '{"errors":[{"code":"TOOMANYREQUESTS","message":"Rate exceeded"}]}' }
      : 'pass';
}
const reads = () => w.proxy.count((r) => r.kind === 'manifest-get');
function expectStopped(run: CliRun, asked: RegExp): void {
  expect(run.code, `${run.stdout}${run.stderr}`).toBe(1);
  expect(stackLines(run.stderr)).toEqual([]);
  expect(run.stderr).toMatch(asked);
  expect(run.stderr).toContain('hint: the registry is rate limiting or down for longer than this run waits: run again later');
}

describe('Retry-After past --retry-deadline', () => {
  it('999999999 s on 429: one request, no wait, exit 1 saying what was asked (was: 5 waits of 60 s, then the bare 429)', async () => {
    limited(429, '999999999');
    w.proxy.clear();
    const slept = clock.slept.length;
    const run = await runCli(['inspect', 'hello:1.0.0', '--registry', w.P]);
    expectStopped(run, /answered 429 TOOMANYREQUESTS: Rate exceeded \(GET .*\/manifests\/1\.0\.0\); it asks to wait 11574 days before the next request \(Retry-After\), past --retry-deadline \(10 min\): not retried/);
    expect(reads()).toBe(1);
    expect(clock.slept.slice(slept)).toEqual([]);
  });

  it('a date in 2099 on 503, and a wait past a shorter --retry-deadline: the same', async () => {
    limited(503, 'Thu, 01 Jan 2099 00:00:00 GMT');
    w.proxy.clear();
    const run = await runCli(['list', 'hello', '--registry', w.P]);
    expectStopped(run, /answered 503 TOOMANYREQUESTS: Rate exceeded \(GET .*\); it asks to wait \d+ days before the next request \(Retry-After\), past --retry-deadline \(10 min\)/);
    expect(reads()).toBe(1);

    limited(429, '30');
    w.proxy.clear();
    const short = await runCli(['pull', 'hello:1.0.0', '--registry', w.P, '-o', join(w.root, 'pulled'), '--retry-deadline', '20']);
    expectStopped(short, /it asks to wait 30 s before the next request \(Retry-After\), past --retry-deadline \(20 s\): not retried/);
    expect(reads()).toBe(1);
  });

  it('a wait within the deadline is waited as asked, at most 60 s a retry, and the read succeeds', async () => {
    limited(429, '5', 1);
    w.proxy.clear();
    let slept = clock.slept.length;
    const run = await runCli(['inspect', 'hello:1.0.0', '--registry', w.P]);
    expect(run.code, run.stderr).toBe(0);
    expect(clock.slept.slice(slept)).toEqual([5000]);
    expect(reads()).toBe(2);

    limited(429, '120', 1);
    slept = clock.slept.length;
    const clamped = await runCli(['inspect', 'hello:1.0.0', '--registry', w.P]);
    expect(clamped.code, clamped.stderr).toBe(0);
    expect(clock.slept.slice(slept)).toEqual([60_000]);
    expect(await w.reader.tags(REPO())).toEqual(['1.0.0']);
  });
});
