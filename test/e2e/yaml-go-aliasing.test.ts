import { join } from 'node:path';
import { describe, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * Aliases and `<<` merges in values.yaml are judged as Go's YAML reader (Helm's) judges them: go-yaml v2.4.0 refuses a
 * document only when the share of its decodes made inside aliases passes allowedAliasRatio ("document contains
 * excessive aliasing"). packpub refused much less: 245 merges of a 20-key map, or 10 001 aliases, which Helm reads.
 * 400 merges of a 100-key map: Helm reads them; 3000 (98 % of ~440 000 decodes inside aliases, over the 93 % go-yaml
 * allows at that size): refused. (test/unit/pack/validate.test.ts checked the same two verdicts on validatePack's
 * findings: this file's runs show them as the user gets them.)
 */
const merges = (count: number): string =>
  `pack:\n  namespace: m\n  content:\n    images:\n      - image: ghcr.io/example/app:1.0.0\ndefaults: &d\n${Array.from({ length: 100 }, (_, i) => `  k${i}: v${i}\n`).join('')}items:\n${Array.from({ length: count }, (_, i) => `  i${i}:\n    <<: *d\n    name: n${i}\n`).join('')}manifests:\n  app:\n    replicas: 1\n`;

const CASES = [
  { count: 400, code: 0, stdout: ['m:1.0.0 OK'] },
  { count: 3000, code: 1, stdout: ['m:1.0.0 FAILED', 'error   values.yaml:', "nodes Go's YAML reader has decoded by here, a share it refuses as an alias bomb (\"document contains excessive aliasing\"), as Helm does"] },
];

describe('merges of an anchored map in values.yaml', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-e2e-yaml-go-aliasing-');
    const packs: string[] = [];
    for (const c of CASES) packs.push(await writePack(join(root, `m-${c.count}`), { name: 'm', version: '1.0.0', files: { 'values.yaml': merges(c.count) } }));
    return { packs };
  });

  it.each(CASES.map((c, i) => ({ ...c, i })))('$count merges of a 100-key map: validate exits $code, as Helm reads or refuses it', async ({ i, code, stdout }) => {
    expectRun(await runCli(['validate', w.packs[i]!], { env: { NO_COLOR: '1' } }), { code, stdout });
  });
});
