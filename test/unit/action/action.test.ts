import { readFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { load } from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { runChildText } from '../../support/spawner.js';

/*
 * The tests of the GitHub Action's smaller pieces, a describe per piece (each was a test file of its own): each
 * test file costs vitest ~15-30 ms of CPU whatever its size (requests between worker and main process, test/per-
 * file-setup.ts).
 */

describe('node-version', () => {
  /*
   * review7 (s26): the action ran packpub on Node 20 unless the workflow said otherwise, and the GitLab and Jenkins
   * examples in node:20 images: a release line past its end of life (30 April 2026: no security fixes for the runtime
   * that holds the registry credentials). They now name a supported LTS line that package.json's engines admit
   * (bin/packpub.js refuses the others, exit 2).
   */

  const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

  /** End of life of the Node.js LTS lines (nodejs.org, "Node.js Releases"; the Release schedule of nodejs/Release). */
  const END_OF_LIFE: Readonly<Record<string, string>> = { '20': '2026-04-30', '22': '2027-04-30', '24': '2028-04-30' };

  /** The Node line `version` (a major) is one package.json admits and still supported. */
  async function expectSupported(version: string): Promise<void> {
    const engines = (JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    // engines: "^20.18.1 || >=22.3.0": a major of 22 or later, or 20 (setup-node takes the newest release of a line).
    expect(engines).toBe('^20.18.1 || >=22.3.0');
    expect(version).toMatch(/^\d+$/);
    expect(Number(version) === 20 || Number(version) >= 22).toBe(true);
    const end = END_OF_LIFE[version];
    expect(end, `Node ${version} is not an LTS line this test knows`).toBeDefined();
    expect(Date.now(), `Node ${version} reached its end of life on ${end ?? '?'}`).toBeLessThan(Date.parse(`${end ?? '1970-01-01'}T00:00:00Z`));
  }

  describe('the Node.js the action and the CI examples run packpub on', () => {
    it("action.yml's default node-version: an LTS line package.json admits, not past its end of life", async () => {
      const action = load(await readFile(join(ROOT, 'action.yml'), 'utf8')) as { inputs: Record<string, { default?: string }> };
      await expectSupported(action.inputs['node-version']?.default ?? '');
    });

    it.each(['examples/ci/gitlab-ci.yml', 'examples/ci/Jenkinsfile'])('%s: the node image of the job is such a line too', async (file) => {
      const images = [...(await readFile(join(ROOT, file), 'utf8')).matchAll(/\bnode:(\d+)-/g)].map((m) => m[1] ?? '');
      expect(images.length).toBeGreaterThan(0);
      for (const major of images) await expectSupported(major);
    });
  });
});

describe('cache-key', () => {
  /*
   * action.yml keys actions/cache with a hash of the built program: the archive cache it restores trusts
   * remembered validation verdicts of the same packpub version, so a build whose code differs must get
   * another key (a rule added between two builds of one version must not be skipped for an unchanged pack).
   * The command-line bundle is CommonJS (dist/bundle/*.cjs, scripts/build-cli.mjs).
   */

  const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
  const dirs: string[] = [];
  afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

  /** The install step's line that hashes dist/ into the cache key. */
  async function keyLine(): Promise<string> {
    const action = load(await readFile(join(ROOT, 'action.yml'), 'utf8')) as { runs: { steps: Array<{ id?: string; run?: string }> } };
    const run = action.runs.steps.find((s) => s.id === 'install')?.run ?? '';
    const line = run.split('\n').find((l) => l.trimStart().startsWith('code=$('));
    expect(line).toBeDefined();
    return line?.trim() ?? '';
  }

  /** The key's code part for a dist/bundle holding `files`. */
  async function codeKey(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'packpub-action-key-'));
    dirs.push(dir);
    await mkdir(join(dir, 'dist', 'bundle'), { recursive: true });
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, 'dist', 'bundle', name), text);
    const { stdout } = await runChildText('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', `${await keyLine()}\necho "$code"`], { cwd: dir });
    return stdout.trim();
  }

  describe("the action's cache key", () => {
    it('changes when a bundle chunk (.cjs) changes, the version being the same', async () => {
      const base = { 'version.js': 'export const VERSION = "1.0.0";\n', 'packpub.cjs': 'require("./validate-a.cjs");\n' };
      const one = await codeKey({ ...base, 'validate-a.cjs': 'exports.rule = 1;\n' });
      const two = await codeKey({ ...base, 'validate-a.cjs': 'exports.rule = 2;\n' });
      expect(one).toMatch(/^[0-9a-f]{16}$/);
      expect(two).not.toBe(one);
    });
  });
});
