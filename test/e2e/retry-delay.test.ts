import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { listenOnLoopback, type ListeningServer } from '../support/loopback.js';

/*
 * --retry-delay: the first backoff of every retry, for users (a registry that needs longer, or a CI job that
 * wants failures fast) and for tests that spawn the CLI against faults without waiting real backoff.
 * Checked through the CLI (in-process, on the real retry clock) against a registry that answers 503 to
 * everything: the waits --debug reports, the attempts the registry saw, and the error the user gets.
 */

let server: ListeningServer;
let requests = 0;

beforeAll(async () => {
  server = await listenOnLoopback(
    createServer((_req, res) => {
      requests++;
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAVAILABLE","message":"down for maintenance"}]}');
    }),
  );
});
afterAll(async () => server.close());

/** The waits `--debug` announces, in ms: `retry 2/4 in 10ms after: ...`. */
const waits = (stderr: string): number[] => [...stderr.matchAll(/^debug: retry \d+\/\d+ in (\d+)ms after: /gm)].map((m) => Number(m[1]));

async function list(...flags: string[]) {
  requests = 0;
  return runCli(['list', '--registry', `${server.host}/base`, '--registry-type', 'generic', '--debug', ...flags]);
}

describe('--retry-delay', () => {
  it('starts the backoff at the delay given and doubles it, for the attempts asked for', async () => {
    const run = await list('--retry-attempts', '4', '--retry-delay', '0.01');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^error: ${server.host.replace(/\./g, '\\.')} answered 503 UNAVAILABLE: down for maintenance after 4 attempts`, 'm'));
    expect(requests).toBe(4);
    const [first, second, third, ...rest] = waits(run.stderr);
    expect(rest).toEqual([]);
    // 10 ms doubling, with +-10 % jitter (never below the delay given)
    expect(first).toBeGreaterThanOrEqual(10);
    expect(first).toBeLessThanOrEqual(11);
    expect(second).toBeGreaterThanOrEqual(18);
    expect(second).toBeLessThanOrEqual(22);
    expect(third).toBeGreaterThanOrEqual(36);
    expect(third).toBeLessThanOrEqual(44);
  });

  it('keeps the 250 ms default without it, and 0 retries at once', async () => {
    const byDefault = await list('--retry-attempts', '2');
    expect(byDefault.code).toBe(1);
    const [wait] = waits(byDefault.stderr);
    expect(wait).toBeGreaterThanOrEqual(225);
    expect(wait).toBeLessThanOrEqual(275);

    const atOnce = await list('--retry-attempts', '3', '--retry-delay', '0');
    expect(atOnce.code).toBe(1);
    expect(waits(atOnce.stderr)).toEqual([0, 0]);
    expect(requests).toBe(3);
  });

  it('refuses a delay outside 0 to 60 seconds before any request, and --help documents it', async () => {
    const run = await list('--retry-delay', '61');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--retry-delay must be a number from 0 to 60, got "61"');
    expect(requests).toBe(0);
    for (const command of ['list', 'copy']) {
      const help = await runCli([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout.replace(/\s+/g, ' ')).toContain('--retry-delay Seconds to wait before the first retry, doubling per retry up to 3 s');
    }
  });
});
