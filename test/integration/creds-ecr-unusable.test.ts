import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { startEcrWorld } from '../support/ecr-proxy.js';
import { writePack } from '../support/packs.js';
import { RegistryReader } from '../support/registry-reader.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * trust: GetAuthorizationToken answered with a token packpub cannot use (here: one that expired an hour ago; not
 * base64 or of another region take the same path) while pushing 12 packs to ECR. The run asks for its one token
 * once; the answer is a cause of the whole target, told once with the packs it stopped (was: 12 FAILED lines, 12
 * hints). Real @aws-sdk/client-ecr, ECR stand-in, real registry behind the ECR proxy.
 */

const ACCESS_KEY = 'testAKIDUNUSABLE';

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-ecr-unusable-');
  const packs = await Promise.all(Array.from({ length: 12 }, (_, i) => writePack(join(root, `p${i}`), { name: `p${String(i).padStart(2, '0')}`, version: '1.0.0' })));
  // Every token the stand-in mints expired an hour before it was minted.
  return { ...(await startEcrWorld(stack, ACCESS_KEY, { tokenTtlMs: -3600_000 })), root, packs };
});

describe('an unusable ECR token answer', () => {
  it('12 packs: one line naming the cause and the packs it stopped, one hint, one token call, exit 1, nothing pushed', async () => {
    const since = w.standin.calls.length;
    const args = ['--registry', `${w.host}/old`, '--resolve', w.resolve, '--plain-http', '--ecr-endpoint', w.standin.url];
    const run = await runCli(['push', ...w.packs, ...args], { env: { HOME: join(w.root, 'home'), DOCKER_CONFIG: join(w.root, 'docker') } });
    expect(run.code, run.stderr).toBe(1);
    expect(stackLines(run.stderr)).toEqual([]);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines, run.stderr).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^FAILED registry \S+\/old: ECR GetAuthorizationToken for \S+ returned a token that expired at \S+ \(this machine's clock says \S+\) \(stopped 12 packs: p00:1\.0\.0, p01:1\.0\.0, \S+ and 9 more\)$/,
    );
    expect(lines[1]).toBe("  hint: check this machine's clock (ECR tokens last 12 hours), and that --ecr-endpoint / AWS_ENDPOINT_URL_ECR points at the ECR API");
    expect(w.standin.calls.slice(since).filter((c) => c.op === 'GetAuthorizationToken')).toHaveLength(1);
    expect((await new RegistryReader(w.registry.url).tagDigests('old')).size).toBe(0);
  });
});
