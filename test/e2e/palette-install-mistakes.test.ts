import { describe, expect, it } from 'vitest';
import { expectPushRefusedInvalid, expectRun, validateThenPushCase } from '../support/cli.js';
import { putFile, tgz } from '../support/files.js';
import { VALID_VALUES, packJsonWith, writeValidPackPerCase } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * Packs whose install by Palette fails, or does not do what pack.json says, though each file reads fine.
 * pack.json listing a chart twice: Palette installs each listed chart as one Helm release named after the
 * pack and the chart (pack.releaseNameOverride and charts.<chart name> keyed by the chart's name): two
 * archives of one chart name are one release (refused); one archive listed twice installs that release
 * again (warned). pack.namespace: Palette creates it, and Kubernetes takes only a lowercase RFC 1123 label;
 * pack.releaseNameOverride.<chart>: the release name, which Helm's install checks (ValidateReleaseName).
 */
interface Case {
  name: string;
  change: (dir: string) => Promise<void>;
  /** The finding after its location, and whether it refuses the pack. */
  says: string;
  refused: boolean;
}

/** pack.json with `charts` set to `charts`. */
const charts = (list: string[]) => (dir: string) => putFile(dir, 'pack.json', packJsonWith((json) => (json['charts'] = list)));

const CASES: Case[] = [
  {
    name: 'two archives holding charts of one name',
    change: async (dir) => {
      await putFile(dir, 'charts/web-2.0.0.tgz', await tgz({ 'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 2.0.0\n', 'web/values.yaml': 'replicas: 1\n' }));
      await charts(['charts/web-1.0.0.tgz', 'charts/web-2.0.0.tgz'])(dir);
    },
    says: 'pack.json:12:5 charts[1]: chart archive "charts/web-2.0.0.tgz" holds chart web, as "charts/web-1.0.0.tgz" (charts[0]) does: Palette installs each chart pack.json lists as one Helm release, named after the pack and the chart\'s name (pack.releaseNameOverride and values.yaml\'s charts.<chart name> are keyed by that name too), in the pack\'s namespace, so both are one release with the values of charts.web: Helm refuses the second install ("cannot re-use a name that is still in use"), or it replaces the first chart; list one of them',
    refused: true,
  },
  {
    name: 'one archive listed twice, under two spellings of its path',
    change: charts(['charts/web-1.0.0.tgz', './charts/web-1.0.0.tgz']),
    says: 'pack.json:12:5 charts[1]: chart archive "./charts/web-1.0.0.tgz" is listed already, as "charts/web-1.0.0.tgz" (charts[0]): Palette installs each chart pack.json lists as one Helm release, named after the pack and the chart\'s name (pack.releaseNameOverride and values.yaml\'s charts.<chart name> are keyed by that name too), in the pack\'s namespace, so this entry installs the same release again: Helm refuses a second install ("cannot re-use a name that is still in use"), an upgrade in place changes nothing; list it once\n',
    refused: false,
  },
  {
    name: 'pack.namespace that is no Kubernetes namespace name',
    change: (dir) => putFile(dir, 'values.yaml', VALID_VALUES.replace('  namespace: web\n', '  namespace: Web_App\n')),
    says: `values.yaml:2:3 pack.namespace: pack.namespace "Web_App" is no name Kubernetes takes for a namespace (lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters): Palette creates the namespace the pack deploys into, and the Kubernetes API refuses this one ("metadata.name: Invalid value: "Web_App": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-' ..."), so every deploy fails; use "web-app"`,
    refused: true,
  },
  {
    name: 'pack.releaseNameOverride naming no Helm release name',
    change: (dir) => putFile(dir, 'values.yaml', VALID_VALUES.replace('  namespace: web\n', '  namespace: web\n  releaseNameOverride:\n    web: Web_Release\n')),
    says: `values.yaml:4:5 pack.releaseNameOverride.web: pack.releaseNameOverride.web "Web_Release" is no Helm release name (lowercase letters, digits, "-" and ".", each dot-separated part starting and ending with a letter or digit, at most 53 characters): Palette installs chart web as that release, and Helm refuses it ("invalid release name, must match regex ... and the length must not be longer than 53"), so every deploy fails; use "web-release"`,
    refused: true,
  },
];

describe("mistakes Palette's install fails on", () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-e2e-install-mistakes-');
    await writeValidPackPerCase(root, CASES, (dir, c) => c.change(dir));
    return { root };
  });

  it.each(CASES.map((c, i) => ({ ...c, i })))('$name', async ({ i, says, refused }) => {
    const { dir, layout, validate, push } = await validateThenPushCase(w.root, i);
    if (refused) {
      expectRun(validate, { code: 1, stdout: [`${dir}: web:1.0.0 FAILED\n`, `  error   ${says}`, '0 passed, 1 failed (1 error, 0 warnings)'] });
      await expectPushRefusedInvalid(push, layout);
    } else {
      expectRun(validate, { code: 0, stdout: [`${dir}: web:1.0.0 OK\n`, `  warning ${says}`, '1 passed, 0 failed (0 errors, 1 warning)'] });
      expect(push.code).toBe(0);
      const held = await layoutHoldings(layout);
      expect(held.problems).toEqual([]);
      expect([...held.tags.keys()]).toEqual(['spectro-packs/archive/web:1.0.0']);
    }
  });
});
