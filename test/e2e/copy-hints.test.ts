import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RegistryReader } from '../support/registry-reader.js';
import { sharedRegistry, skopeoInspectRaw, startRegistry } from '../support/registry.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * copy has no --plain-http: each side has its own --from-plain-http / --to-plain-http (and --no- forms).
 * A hint about plain HTTP names the flag of the side that failed; push keeps naming --plain-http.
 */

const NAME = 'registry.packpub.test';

describe('copy: hints about plain HTTP name the flag of the side that failed', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-copy-hints-');
    // The plain-HTTP one is the worker's shared registry: this file's repositories under its base path.
    const http = await sharedRegistry();
    const https = stack.add(await startRegistry({ tls: true }));
    const pack = await writePack(join(root, 'p'), { name: 'hinted', version: '1.0.0' });
    const layout = join(root, 'layout');
    const pushed = await runCli(['push', pack, '--oci-layout', layout, '--json']);
    if (pushed.code !== 0) throw new Error(pushed.stderr);
    const digest = (JSON.parse(pushed.stdout) as { results: Array<{ digest: string }> }).results[0]!.digest;
    return { root, http, https, pack, layout, digest };
  });

  it('a --from registry that does not listen: the hint names --from-plain-http; push still names --plain-http', async () => {
    // Over HTTPS (a name that is not loopback); a loopback registry is already asked over plain HTTP, so the
    // hint leaves the flag out there.
    const resolve = ['--resolve', `${NAME}:1:127.0.0.1`];
    const run = await runCli(['copy', '--all', '--from', `${NAME}:1/base`, '--to', `oci:${join(w.root, 'never')}`, ...resolve]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`error: connection refused by ${NAME}:1\n`);
    expect(run.stderr).toContain('hint: check the host and port and that the registry is running (an HTTP-only registry needs --from-plain-http)\n');
    expect(run.stderr).not.toMatch(/--(no-)?plain-http/);

    const push = await runCli(['push', w.pack, '--registry', `${NAME}:1/base`, ...resolve]);
    expect(push.code).toBe(1);
    expect(push.stderr).toContain('hint: check the host and port and that the registry is running (an HTTP-only registry needs --plain-http)\n');
    const loopback = await runCli(['push', w.pack, '--registry', '127.0.0.1:1/base']);
    expect(loopback.code).toBe(1);
    expect(loopback.stderr).toContain('hint: check the host and port and that the registry is running\n');
  });

  it('a URL scheme in --from / --to is refused (exit 2) with that side\'s flag in the hint; --registry keeps --plain-http', async () => {
    const never = `oci:${join(w.root, 'never')}`;
    const from = await runCli(['copy', '--all', '--from', `http://${w.http.host}/${w.http.base}/base`, '--to', never]);
    expect(from.code).toBe(2);
    expect(from.stderr).toBe(`error: registry "http://${w.http.host}/${w.http.base}/base" must not include a URL scheme\nhint: use "${w.http.host}/${w.http.base}/base" (add --from-plain-http for an HTTP registry)\n`);
    const to = await runCli(['copy', 'hinted:1.0.0', '--from', `oci:${w.layout}`, '--to', `http://${w.http.host}/${w.http.base}/base`]);
    expect(to.code).toBe(2);
    expect(to.stderr).toContain(`hint: use "${w.http.host}/${w.http.base}/base" (add --to-plain-http for an HTTP registry)\n`);
    const list = await runCli(['list', '--registry', `http://${w.http.host}/${w.http.base}/base`]);
    expect(list.code).toBe(2);
    expect(list.stderr).toContain(`hint: use "${w.http.host}/${w.http.base}/base" (add --plain-http for an HTTP registry)\n`);
  });

  it('a --to registry that speaks plain HTTP under a non-loopback name: the hint says --to-plain-http, which works', async () => {
    const to = `${NAME}:${w.http.port}/${w.http.base}/base`;
    const resolve = ['--resolve', `${NAME}:${w.http.port}:127.0.0.1`];
    const run = await runCli(['copy', 'hinted:1.0.0', '--from', `oci:${w.layout}`, '--to', to, ...resolve]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`FAILED hinted:1.0.0: ${NAME}:${w.http.port} did not answer with TLS`);
    expect(run.stderr).toContain('hint: is it a plain HTTP registry? pass --to-plain-http\n');
    expect(run.stderr).not.toMatch(/--(no-)?plain-http/);

    const copied = await runCli(['copy', 'hinted:1.0.0', '--from', `oci:${w.layout}`, '--to', to, ...resolve, '--to-plain-http']);
    expect(copied.code, copied.stderr).toBe(0);
    const manifest = await skopeoInspectRaw(`${w.http.host}/${w.http.base}/base/spectro-packs/archive/hinted:1.0.0`);
    expect(`sha256:${createHash('sha256').update(manifest).digest('hex')}`).toBe(w.digest);
  });

  it('a --to registry serving HTTPS on loopback answers copy\'s first read 400: the hint names --no-to-plain-http', async () => {
    const to = `${w.https.host}/head`;
    const run = await runCli(['copy', 'hinted:1.0.0', '--from', `oci:${w.layout}`, '--to', to]);
    expect(run.code).toBe(1);
    // The destination's version is read with a GET (the bytes decide "unchanged"), whose 400 body says HTTPS.
    expect(run.stderr).toContain(`FAILED hinted:1.0.0: ${w.https.host} serves HTTPS, but packpub spoke plain HTTP to it (GET http://${w.https.host}/v2/head/`);
    expect(run.stderr).toContain('hint: plain HTTP is automatic for localhost, 127.0.0.0/8 and [::1]: pass --no-to-plain-http to use HTTPS (with --to-ca-file for a private CA)\n');
    const copied = await runCli(['copy', 'hinted:1.0.0', '--from', `oci:${w.layout}`, '--to', to, '--no-to-plain-http', '--to-ca-file', w.https.caFile ?? '']);
    expect(copied.code, copied.stderr).toBe(0);
    const listed = await runCli(['list', '--registry', to, '--no-plain-http', '--ca-file', w.https.caFile ?? '', '--json']);
    expect((JSON.parse(listed.stdout) as { packs: Array<{ versions: Array<{ digest: string }> }> }).packs[0]?.versions[0]?.digest).toBe(w.digest);
  });

  it('a --from registry serving HTTPS on loopback: the hint says --no-from-plain-http and --from-ca-file, which work', async () => {
    const from = `${w.https.host}/base`;
    const tls = ['--no-plain-http', '--ca-file', w.https.caFile ?? ''];
    const pushed = await runCli(['push', w.pack, '--registry', from, ...tls, '--json']);
    expect(pushed.code, pushed.stderr).toBe(0);
    const digest = (JSON.parse(pushed.stdout) as { results: Array<{ digest: string }> }).results[0]!.digest;
    const into = join(w.root, 'from-https');
    const run = await runCli(['copy', 'hinted:1.0.0', '--from', from, '--to', `oci:${into}`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${w.https.host} serves HTTPS, but packpub spoke plain HTTP to it`);
    expect(run.stderr).toContain('hint: plain HTTP is automatic for localhost, 127.0.0.0/8 and [::1]: pass --no-from-plain-http to use HTTPS (with --from-ca-file for a private CA)\n');
    expect(run.stderr).not.toMatch(/--(no-)?plain-http|[ (]--ca-file/);

    const copied = await runCli(['copy', 'hinted:1.0.0', '--from', from, '--to', `oci:${into}`, '--no-from-plain-http', '--from-ca-file', w.https.caFile ?? '', '--json']);
    expect(copied.code, copied.stderr).toBe(0);
    const inspected = await runCli(['inspect', 'hinted:1.0.0', '--oci-layout', into, '--json']);
    expect(inspected.code, inspected.stderr).toBe(0);
    expect((JSON.parse(inspected.stdout) as { manifest: { digest: string } }).manifest.digest).toBe(digest);
  });

  it('a packpub.yaml target written http://HOST/BASE is told to set targets.<name>.tls.plainHttp (was: "add --plain-http"), which works', async () => {
    const project = join(w.root, 'yaml-scheme');
    await mkdir(project, { recursive: true });
    const hostPort = `${NAME}:${w.http.port}`;
    const yaml = (registry: string, tls: string) => `targets:\n  lab:\n    registry: ${registry}\n${tls}    resolve: ["${hostPort}:127.0.0.1"]\n`;
    await writeFile(join(project, 'packpub.yaml'), yaml(`http://${hostPort}/${w.http.base}/yaml`, ''));
    const refused = await runCli(['push', w.pack, '--target', 'lab'], { cwd: project });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toBe(
      `error: packpub.yaml:3:5: targets.lab.registry: registry "http://${hostPort}/${w.http.base}/yaml" must not include a URL scheme (use "${hostPort}/${w.http.base}/yaml" (add targets.lab.tls.plainHttp: true for an HTTP registry))\n` +
        'hint: fix the file (docs/configuration.md lists every key), or point --config at another file\n',
    );
    const reader = new RegistryReader(w.http.url);
    expect((await reader.tagDigests(`${w.http.base}/yaml`)).size).toBe(0);

    // PACKPUB_REGISTRY: the message says where the value came from; there the flag is the setting.
    const fromEnv = await runCli(['push', w.pack], { cwd: w.root, env: { PACKPUB_REGISTRY: `http://${hostPort}/${w.http.base}/yaml` } });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toBe(`error: PACKPUB_REGISTRY: registry "http://${hostPort}/${w.http.base}/yaml" must not include a URL scheme\nhint: use "${hostPort}/${w.http.base}/yaml" (add --plain-http for an HTTP registry)\n`);

    // Doing what the hint says publishes over plain HTTP to the non-loopback name.
    await writeFile(join(project, 'packpub.yaml'), yaml(`${hostPort}/${w.http.base}/yaml`, '    tls:\n      plainHttp: true\n'));
    const pushed = await runCli(['push', w.pack, '--target', 'lab', '--json'], { cwd: project });
    expect(pushed.code, pushed.stderr).toBe(0);
    const published = (JSON.parse(pushed.stdout) as { results: Array<{ status: string; digest: string }> }).results[0];
    expect(published?.status).toBe('published');
    expect((await reader.tagDigests(`${w.http.base}/yaml`)).get(`${w.http.base}/yaml/spectro-packs/archive/hinted:1.0.0`)).toBe(published?.digest);
  });
});
