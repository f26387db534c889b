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
    return { root, a, b, digest };
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
    expect(run.stderr).toContain(`FAILED twoca:1.0.0: TLS certificate of ${w.b.host} could not be verified, also with the CA file given (--to-ca-file ${w.a.caFile}) (UNABLE_TO_VERIFY_LEAF_SIGNATURE)\n  hint: --to-ca-file holds no CA that signed it: give the CA certificate that did (a self-signed certificate: the certificate itself; signed by an intermediate CA the registry does not send: that one too), or --to-insecure to skip verification\n`);
    await expect(read('swapped')).rejects.toThrow(/manifest unknown|not found|name unknown/i);
    // the source's side: its own flags
    const source = await runCli(['copy', 'twoca:1.0.0', '--from', `${w.a.host}/base`, '--no-from-plain-http', '--from-ca-file', w.b.caFile ?? '', '--to', `${w.b.host}/swapped`, '--no-to-plain-http', '--to-ca-file', w.b.caFile ?? '']);
    expect(source.code).toBe(1);
    expect(source.stderr).toContain(`TLS certificate of ${w.a.host} could not be verified, also with the CA file given (--from-ca-file ${w.b.caFile}) (UNABLE_TO_VERIFY_LEAF_SIGNATURE)\n  hint: --from-ca-file holds no CA that signed it`);
    await expect(read('swapped')).rejects.toThrow(/manifest unknown|not found|name unknown/i);
  });

  it('push without a CA file, and to a name its certificate does not hold with the right one: each refusal says its own cause (the second read "pass --ca-file" with --ca-file given), nothing pushed', async () => {
    const pack = await writePack(join(w.root, 'named'), { name: 'named', version: '1.0.0' });
    const none = await runCli(['push', pack, '--registry', `${w.b.host}/named`, '--no-plain-http', '--no-cache']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`FAILED named:1.0.0: TLS certificate of ${w.b.host} could not be verified (UNABLE_TO_VERIFY_LEAF_SIGNATURE)\n  hint: pass --ca-file <pem> for a private CA (or --insecure to skip verification)\n`);
    const port = w.b.host.split(':')[1] ?? '';
    const other = `other.packpub.test:${port}`;
    const run = await runCli(['push', pack, '--registry', `${other}/named`, '--resolve', `${other}:127.0.0.1`, '--ca-file', w.b.caFile ?? '', '--no-cache']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`FAILED named:1\\.0\\.0: TLS certificate of ${other.replace(/\./g, '\\.')} is not for the name other\\.packpub\\.test \\(it names (IP Address:127\\.0\\.0\\.1, DNS:localhost|DNS:localhost, IP Address:127\\.0\\.0\\.1)\\) \\(ERR_TLS_CERT_ALTNAME_INVALID\\)\n`));
    expect(run.stderr).toContain(`  hint: reach the registry by a name its certificate holds (when that name does not resolve here: --resolve NAME:${port}:ADDRESS), or have its owner add other.packpub.test to the certificate (--insecure skips verification)\n`);
    await expect(skopeoInspectRaw(`${w.b.host}/named/spectro-packs/archive/named:1.0.0`, { tls: true })).rejects.toThrow(/manifest unknown|not found|name unknown/i);
  });
});
