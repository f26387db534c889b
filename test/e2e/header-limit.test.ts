import { describe, expect, it } from 'vitest';
import { NODE_DEFAULT_MAX_HEADER_SIZE, defaultHeaderLimit } from '../../src/registry/http.js';
import { hostileWithPack } from '../support/hostile-registry.js';
import { runBin } from '../support/cli.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * The limit on an answer's headers is Node's (http.maxHeaderSize: 16 KiB, or --max-http-header-size), as undici
 * reads it. The CLI's bundle reads it without loading Node's HTTP module whenever it is certainly the default
 * (scripts/build-cli.mjs, registry/http.ts defaultHeaderLimit; issue 16): the built CLI must still refuse larger
 * headers by default and take them when Node is told to, on the command line or in NODE_OPTIONS.
 */

const w = setup(async (stack) => {
  const { hostile, registry: R } = await hostileWithPack(stack, 'packpub-header-limit-');
  return { hostile, R };
});

describe("the limit on a registry answer's headers, in the built CLI", () => {
  it('is 16 KiB by default, and --max-http-header-size raises it (command line or NODE_OPTIONS, either spelling)', async () => {
    // 24 KiB in one header: over Node's default, under the raised limit.
    w.hostile.behaviour = { hugeHeaderBytes: 24 * 1024 };
    try {
      const refused = await runBin(['inspect', 'hello:1.0.0', '--registry', w.R]);
      expect(refused.code, refused.stderr).toBe(1);
      expect(refused.stderr).toMatch(/^error: 127\.0\.0\.1:\d+ answered with headers larger than 16 KiB$/m);
      expect(stackLines(refused.stderr)).toEqual([]);
      for (const raised of [{ nodeArgs: ['--max-http-header-size=65536'] }, { env: { NODE_OPTIONS: '--max_http_header_size=65536' } }]) {
        const run = await runBin(['inspect', 'hello:1.0.0', '--registry', w.R], raised);
        expect(run.code, run.stderr).toBe(0);
        expect(run.stdout).toContain('hello');
      }
    } finally {
      w.hostile.behaviour = {};
    }
  });

  it("is given to undici only when it is Node's default", async () => {
    // This test process runs without the option: the default is Node's own.
    expect(NODE_DEFAULT_MAX_HEADER_SIZE).toBe((await import('node:http')).maxHeaderSize);
    expect(defaultHeaderLimit([], '')).toBe(NODE_DEFAULT_MAX_HEADER_SIZE);
    expect(defaultHeaderLimit(['--max-http-header-size=65536'], '')).toBeUndefined();
    expect(defaultHeaderLimit(['--max-http-header-size', '65536'], '')).toBeUndefined();
    expect(defaultHeaderLimit([], '--max_http_header_size=65536')).toBeUndefined();
    expect(defaultHeaderLimit(['--stack-size=900'], '--no-warnings')).toBe(NODE_DEFAULT_MAX_HEADER_SIZE);
  });
});
