import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { runChildText } from '../../support/spawner.js';

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
