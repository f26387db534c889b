import { describe, expect, it } from 'vitest';
import { hostileWithPack } from '../support/hostile-registry.js';
import { runCli, type CliRun } from '../support/cli.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * A token service issuing a token longer than the registry (or nginx in front of it) takes in a request header:
 * every request after the token is refused, 431 (RFC 6585) or nginx's 400 "Request Header Or Cookie Too Large".
 * packpub said only "answered 431 (GET <url>)"; the hint now names the header limit and the token.
 */

const w = setup(async (stack) => {
  const { hostile, registry: R } = await hostileWithPack(stack, 'packpub-hostile-token-size-');
  return { hostile, R };
});

const HINT = 'hint: the registry or a proxy in front of it refuses request headers this large (431; nginx: large_client_header_buffers): the token its token service issued is the longest header packpub sends';

function expectHeaderLimit(run: CliRun, status: string): void {
  expect(run.code, run.stderr).toBe(1);
  expect(run.stderr).toContain(`answered ${status}`);
  expect(run.stderr).toContain(`${HINT}; raise the limit for ${w.hostile.host}, or ask for a shorter token`);
  expect(stackLines(run.stderr)).toEqual([]);
}

describe('a token longer than the registry takes in a header', () => {
  it('a token answer past 1 MiB is said as such (was: "answered with something that is not JSON (1048576 bytes ...)"), exit 1', async () => {
    w.hostile.behaviour = { bearer: { tokenBody: JSON.stringify({ token: 'short-token', padding: 'p'.repeat(2 * 1024 * 1024) }) } };
    try {
      const run = await runCli(['inspect', 'hello:1.0.0', '--registry', w.R]);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(/error: token service \S+ answered more than 1 MiB, where a token answer is a small JSON document\n/);
      expect(run.stderr).not.toContain('not JSON');
      expect(stackLines(run.stderr)).toEqual([]);
    } finally {
      w.hostile.behaviour = {};
    }
  });

  it('431 from the registry: inspect and list name the header limit (was: "answered 431" alone)', async () => {
    // Node's HTTP server takes 16 KiB of headers: a 20 KB token is refused with 431 on every request.
    w.hostile.behaviour = { bearer: { tokenBody: JSON.stringify({ token: 'a'.repeat(20_000), expires_in: 300 }) } };
    try {
      expectHeaderLimit(await runCli(['inspect', 'hello:1.0.0', '--registry', w.R]), '431');
      expectHeaderLimit(await runCli(['list', 'hello', '--registry', w.R]), '431');
    } finally {
      w.hostile.behaviour = {};
    }
  });

  it("nginx's 400 Request Header Or Cookie Too Large: the same hint (was: \"answered 400\" alone)", async () => {
    const page = '<html>\r\n<head><title>400 Request Header Or Cookie Too Large</title></head>\r\n<body>\r\n<center><h1>400 Bad Request</h1></center>\r\n<center>Request Header Or Cookie Too Large</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';
    w.hostile.behaviour = { answer: (r) => (r.path.includes('/manifests/') ? { status: 400, headers: { 'content-type': 'text/html' }, body: page } : undefined) };
    try {
      expectHeaderLimit(await runCli(['inspect', 'hello:1.0.0', '--registry', w.R]), '400');
    } finally {
      w.hostile.behaviour = {};
    }
  });
});
