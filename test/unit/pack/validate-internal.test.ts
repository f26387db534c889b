import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it, onTestFinished, vi } from 'vitest';
import * as deepChecks from '../../../src/pack/deep-checks.js';
import { validatePack } from '../../../src/pack/index.js';
import { writeValidPack } from '../../support/packs.js';

// The deep checks failing is a bug in packpub, not in the pack: they only ever add warnings. A spy on the
// module's export, which validate.ts calls through its import (vitest's module transform keeps it live), so the
// file runs in a shared worker like the others; restored at the end of the test.

const root = await mkdtemp(join(tmpdir(), 'packpub-validate-internal-'));
afterAll(() => rm(root, { recursive: true, force: true }));

it('a failure inside the deep checks is a warning naming the bug: the pack still passes, --strict fails it', async () => {
  const dir = await writeValidPack(join(root, 'pack'));
  const exploding = vi.spyOn(deepChecks, 'deepCheckPack').mockRejectedValue(new Error('deep check exploded'));
  onTestFinished(() => exploding.mockRestore());
  const report = await validatePack(dir);
  expect(report).toMatchObject({ errors: 0, warnings: 1, passed: true });
  expect(report.findings).toEqual([
    {
      severity: 'warning',
      rule: 'internal',
      file: 'values.yaml',
      message: 'a values check failed unexpectedly (deep check exploded); this is a bug in packpub: please report it with the pack',
    },
  ]);
  expect((await validatePack(dir, { strict: true })).passed).toBe(false);
  expect(exploding).toHaveBeenCalledTimes(2);
});
