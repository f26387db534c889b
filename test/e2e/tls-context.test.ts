import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { skopeoInspectRaw, startRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';

/*
 * issue 16: each transport makes its TLS secure context once (its CA file's trust store, made once instead of per
 * connection). Two registries with two different private CAs, one copy between them: each side must trust its own
 * CA and only that one, so a context shared between the two transports fails one side.
 */

describe('two registries with different private CAs', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-tls-context-');
    const a = stack.add(await startRegistry({ tls: true }));
    const b = stack.add(await startRegistry({ tls: true }));
    const pack = await writePack(join(root, 'p'), { name: 'twoca', version: '1.0.0' });
    const pushed = await runCli(['push', pack, '--registry', `${a.host}/base`, '--no-plain-http', '--ca-file', a.caFile ?? '', '--json']);
    if (pushed.code !== 0) throw new Error(pushed.stderr);
    const digest = (JSON.parse(pushed.stdout) as { results: Array<{ digest: string }> }).results[0]!.digest;
    return { a, b, digest };
  });

  const from = () => ['--from', `${w.a.host}/base`, '--no-from-plain-http', '--from-ca-file', w.a.caFile ?? ''];
  const read = async (base: string) => {
    const raw = await skopeoInspectRaw(`${w.b.host}/${base}/spectro-packs/archive/twoca:1.0.0`, { tls: true });
    return `sha256:${createHash('sha256').update(raw).digest('hex')}`;
  };

  it('copy with each side given its own CA: exit 0, the destination holds the same manifest', async () => {
    const run = await runCli(['copy', 'twoca:1.0.0', ...from(), '--to', `${w.b.host}/base`, '--no-to-plain-http', '--to-ca-file', w.b.caFile ?? '']);
    expect(run.code, run.stderr).toBe(0);
    expect(await read('base')).toBe(w.digest);
  });

  it("copy with the source's CA given for the destination: a TLS error about the destination naming its flags, nothing copied", async () => {
    const run = await runCli(['copy', 'twoca:1.0.0', ...from(), '--to', `${w.b.host}/swapped`, '--no-to-plain-http', '--to-ca-file', w.a.caFile ?? '']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`FAILED twoca:1.0.0: TLS certificate of ${w.b.host} could not be verified (UNABLE_TO_VERIFY_LEAF_SIGNATURE)\n  hint: pass --to-ca-file <pem> for a private CA (or --to-insecure to skip verification)\n`);
    await expect(read('swapped')).rejects.toThrow(/manifest unknown|not found|name unknown/i);
    // the source's side: its own flags
    const source = await runCli(['copy', 'twoca:1.0.0', '--from', `${w.a.host}/base`, '--no-from-plain-http', '--from-ca-file', w.b.caFile ?? '', '--to', `${w.b.host}/swapped`, '--no-to-plain-http', '--to-ca-file', w.b.caFile ?? '']);
    expect(source.code).toBe(1);
    expect(source.stderr).toContain(`TLS certificate of ${w.a.host} could not be verified (UNABLE_TO_VERIFY_LEAF_SIGNATURE)\n  hint: pass --from-ca-file <pem> for a private CA (or --from-insecure to skip verification)\n`);
    await expect(read('swapped')).rejects.toThrow(/manifest unknown|not found|name unknown/i);
  });
});
