import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runBin } from '../support/cli.js';
import { NODE_RELEASES, nodeRelease } from '../support/node-releases.js';
import { RegistryReader } from '../support/registry-reader.js';
import { sharedRegistry } from '../support/registry.js';
import { setup } from '../support/stage.js';

/*
 * packpub runs on Node.js 20 from 20.18.1 and on 22.3.0 or later (package.json "engines", README
 * "Requirements"); the suite runs on one of them. The built CLI on the latest of each other line
 * (test/node-releases.txt): every command printed "Error: unrecognized flag --interrupt-budget=540672" on
 * standard error three times on Node 22, 24 and 26 (bin/packpub.js set V8 flags only Node 20's V8 has), and
 * on Node 21 a push failed every pack ("crc32 is not a function"). Now the flags are those the running V8
 * has (bin/v8-flags.cjs), and a Node outside the range is refused before anything runs, exit 2.
 */

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
const PACKS = [join(EXAMPLES, 'hello-manifests'), join(EXAMPLES, 'hello-helm')];

const w = setup(async (stack) => {
  const registry = await sharedRegistry();
  const home = await stack.tempDir('packpub-node-releases-');
  // A Node the range leaves out, as bin/packpub.js reads the running one: its version, changed before bin runs.
  const pretend = join(home, 'pretend-node.cjs');
  await writeFile(pretend, "Object.defineProperty(process.versions, 'node', { value: process.env.PRETEND_NODE });\n");
  return { registry, home, pretend };
});

describe.each(NODE_RELEASES)('the built CLI on Node.js %s', (version) => {
  it('validates, publishes to a registry and pulls back with nothing on standard error', async () => {
    const node = nodeRelease(version);
    const repo = `${w.registry.base}/node${version.split('.')[0]}`;
    const env = { HOME: w.home };

    const shown = await runBin(['--version'], { node, env });
    expect(shown).toEqual({ code: 0, stdout: `${JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')).version}\n`, stderr: '' });

    const validate = await runBin(['validate', ...PACKS], { node, env });
    expect(validate.stderr).toBe('');
    expect(validate.code).toBe(0);
    expect(validate.stdout).toContain('2 packs checked: 2 passed, 0 failed');

    const push = await runBin(['push', ...PACKS, '--registry', `${w.registry.host}/${repo}`, '--json'], { node, env });
    expect(push.stderr).toBe('');
    expect(push.code).toBe(0);
    const results = new Map((JSON.parse(push.stdout) as { results: Array<{ name: string; status: string; digest: string }> }).results.map((r) => [r.name, r]));
    expect([...results.keys()].sort()).toEqual(['hello-helm', 'hello-manifests']);
    const held = (await new RegistryReader(w.registry.url).tagDigests(repo));
    for (const [name, result] of results) {
      expect(result.status).toBe('published');
      expect(held.get(`${repo}/spectro-packs/archive/${name}:1.0.0`)).toBe(result.digest);
    }

    const into = join(w.home, `pulled-${version}`);
    const pull = await runBin(['pull', 'hello-helm:1.0.0', '--registry', `${w.registry.host}/${repo}`, '-o', into], { node, env });
    expect(pull.stderr).toBe('');
    expect(pull.code).toBe(0);
    expect(JSON.parse(await readFile(join(into, 'pack.json'), 'utf8'))).toEqual(JSON.parse(await readFile(join(PACKS[1] ?? '', 'pack.json'), 'utf8')));
  });
});

describe('a Node.js outside the supported range', () => {
  it.each(['21.7.3', '20.18.0', '22.2.0', '22.1.0', '18.20.4'])('Node.js %s: refused before anything runs, exit 2', async (pretend) => {
    const run = await runBin(['push', PACKS[0] ?? '', '--oci-layout', join(w.home, `layout-${pretend}`)], { nodeArgs: ['--require', w.pretend], env: { HOME: w.home, PRETEND_NODE: pretend } });
    expect(run).toEqual({ code: 2, stdout: '', stderr: `error: packpub needs Node.js 20.18.1 or a later 20, or 22.3.0 or later; this is Node.js ${pretend}\n` });
    const layout = await readFile(join(w.home, `layout-${pretend}`, 'index.json'), 'utf8').catch(() => undefined);
    expect(layout).toBeUndefined();
  });

  it.each(['20.18.1', '22.3.0'])('Node.js %s, the first of a supported line, runs (the range package.json gives npm)', async (pretend) => {
    const engines = (JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { engines: { node: string } }).engines.node;
    expect(engines).toBe('^20.18.1 || >=22.3.0');
    const run = await runBin(['--version'], { nodeArgs: ['--require', w.pretend], env: { HOME: w.home, PRETEND_NODE: pretend } });
    expect(run).toMatchObject({ code: 0, stderr: '' });
  });
});
