import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startHostileRegistry } from '../support/hostile-registry.js';
import { runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * GitHub shows the first 10 error annotations of a step and drops the rest (actions/toolkit,
 * docs/problem-matchers.md, "Limitations"). packpub printed every validation finding first: with 11 invalid
 * packs, the annotation of the pack the registry refused came 12th and was never shown. Now the failures come
 * within the 10, then the first finding of each pack, and the 10th annotation counts the rest.
 */

const INVALID = 11;
const w = setup(async (stack) => {
  const root = await stack.tempDir('packpub-annotation-limit-');
  const hostile = stack.add(await startHostileRegistry({}));
  for (let i = 0; i < INVALID; i++) await writePack(join(root, `packs/bad${String(i).padStart(2, '0')}`), { name: `bad${String(i).padStart(2, '0')}`, version: '1.0.0', packJson: { layer: 'bogus' } });
  await writePack(join(root, 'packs/refused'), { name: 'refused', version: '1.0.0' });
  return { root, hostile };
});

describe('annotations within GitHub\'s 10 per kind', () => {
  it('11 invalid packs and one the registry refuses: its annotation is among the 10, the 10th counts the rest', async () => {
    const body = JSON.stringify({ errors: [{ code: 'MANIFEST_INVALID', message: 'manifest refused by policy' }] });
    w.hostile.behaviour = { answer: (r) => (r.method === 'PUT' && r.path.includes('/manifests/') ? { status: 400, headers: { 'content-type': 'application/json' }, body } : undefined) };
    const run = await runCli(['push', 'packs', '--recursive', '--registry', `${w.hostile.host}/lim`, '--no-cache', '--continue-on-error'], {
      cwd: w.root,
      env: { GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: w.root },
    });
    w.hostile.behaviour = {};
    expect(run.code).toBe(1);
    const errors = run.stderr.split('\n').filter((l) => l.startsWith('::error'));
    expect(errors).toHaveLength(10);
    expect(errors.filter((l) => l.startsWith('::error file=packs/refused/pack.json,title=packpub failed::failed refused:1.0.0 -> '))).toHaveLength(1);
    expect(errors.filter((l) => l.includes('title=packpub pack-json-schema::'))).toHaveLength(8);
    expect(errors.at(-1)).toBe('::error title=packpub push::3 more errors are not annotated (GitHub shows 10 per step): they are in the log above and in the job summary');
    // The human lines still name every invalid pack.
    for (let i = 0; i < INVALID; i++) expect(run.stdout + run.stderr).toContain(`bad${String(i).padStart(2, '0')}:1.0.0`);
  });
});
