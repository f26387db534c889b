import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hurryRetries } from '../support/clock.js';
import { runCli, type CliRun } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { startRecordingProxy } from '../support/recording-proxy.js';
import { RegistryReader } from '../support/registry-reader.js';
import { sharedRegistry } from '../support/registry.js';
import { stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';

/*
 * A proxy in front of the registry answering every manifest read 200 with its login page (text/html), while
 * the tag list still comes through. `list` showed every tag with the page's digest and a note "is not a pack
 * (not an OCI image manifest)", exit 0; tags/list and _catalog answered so already end 1 "not JSON ... is it an
 * OCI registry?". Every manifest is JSON: other bytes are no registry's answer, and now say so, exit 1, for
 * list and every command that reads a manifest (push's look at the version it publishes included).
 */

const PAGE = '<!DOCTYPE html><html><head><title>Sign in</title></head><body><form action="/login">...</form></body></html>';
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-html-manifests-');
  const registry = await sharedRegistry();
  const proxy = stack.add(await startRecordingProxy(registry.host));
  const src = `${registry.base}/src`;
  const repo = `${src}/spectro-packs/archive/hello`;
  const pack = await writePack(join(root, 'hello'), { name: 'hello', version: '1.0.0' });
  const push = await runCli(['push', pack, '--registry', `${registry.host}/${src}`]);
  if (push.code !== 0) throw new Error(push.stderr);
  const reader = new RegistryReader(registry.url);
  const digest = sha256((await reader.manifest(repo, '1.0.0')) ?? Buffer.alloc(0));
  return { root, pack, registry, proxy, reader, digest, repo, P: `${proxy.host}/${src}` };
});
hurryRetries();

afterEach(() => {
  w.proxy.onRequest = undefined;
});

function loginPage(): void {
  w.proxy.onRequest = (r) => (r.kind === 'manifest-get' ? { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: PAGE } : 'pass');
}
const said = () => `${w.proxy.host} answered 200 with something that is not JSON instead of manifest 1.0.0 of ${w.repo} (${PAGE.length} bytes, Content-Type: text/html; charset=utf-8)`;
function expectRefused(run: CliRun): void {
  expect(run.code, `${run.stdout}${run.stderr}`).toBe(1);
  expect(stackLines(run.stderr)).toEqual([]);
  expect(run.stderr).toContain(said());
  expect(run.stderr).toContain(`is ${w.proxy.host} an OCI registry, and not a web page, login page or proxy in front of it?`);
}

describe('every manifest read answered 200 with a login page (text/html)', () => {
  it('list: exit 1 saying it is no registry answer (was: exit 0, each tag "is not a pack (not an OCI image manifest)")', async () => {
    loginPage();
    const list = await runCli(['list', '--registry', w.P]);
    expectRefused(list);
    expect(list.stdout).toBe('');
    const json = await runCli(['list', 'hello', '--registry', w.P, '--json']);
    expectRefused(json);
    expect(json.stdout).toBe('');
  });

  it('pull, inspect, copy, push: the same refusal; nothing written anywhere', async () => {
    loginPage();
    const out = join(w.root, 'pulled');
    expectRefused(await runCli(['pull', 'hello:1.0.0', '--registry', w.P, '-o', out]));
    expect(existsSync(out)).toBe(false);
    expectRefused(await runCli(['inspect', 'hello:1.0.0', '--registry', w.P]));
    const layout = join(w.root, 'copied');
    const copy = await runCli(['copy', 'hello:1.0.0', '--from', w.P, '--to', `oci:${layout}`]);
    expectRefused(copy);
    expect((await runCli(['list', '--oci-layout', layout])).stdout).not.toContain('hello');
    const push = await runCli(['push', w.pack, '--registry', w.P]);
    expectRefused(push);
    expect(sha256((await w.reader.manifest(w.repo, '1.0.0')) ?? Buffer.alloc(0))).toBe(w.digest);
    expect(await w.reader.tags(w.repo)).toEqual(['1.0.0']);
  });

  it('the registry itself: listed as before', async () => {
    const list = await runCli(['list', '--registry', w.P]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(`hello  1.0.0    ${w.digest.slice(0, 19)}`);
    expect(list.stderr).toBe('');
  });
});
