import { join } from 'node:path';
import { describe, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { putFile, tgz } from '../support/files.js';
import { CHART_FILES, VALID_VALUES, writeValidPackPerCase } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * A dependency with an alias whose vendored subchart's version is outside the dependency's version
 * constraint: Helm (chartutil processDependencyEnabled) keeps the subchart under its own name and drops the
 * alias, so the pack's values under the alias never reach it and its condition does not leave it out.
 * validate warns, and reads the subchart's values where Helm does (under its name, not the alias).
 */

const chartYaml = (version: string): string =>
  `apiVersion: v2\nname: web\nversion: 1.0.0\ndependencies:\n  - name: db\n    alias: cache\n    version: "${version}"\n    condition: cache.enabled\n`;

const CASES = [
  {
    name: 'a constraint the vendored 2.1.0 is outside of',
    version: '~1.4.0',
    code: { plain: 0, strict: 1 },
    stdout: [
      '  warning charts/web-1.0.0.tgz: dependency "db" (alias "cache") asks for version "~1.4.0", but charts/ holds db 2.1.0: Helm then drops the alias and installs it as "db", so values under cache: never reach it and its condition cache.enabled is never applied',
      'charts.web.cache.port is not a value of chart "web" 1.0.0',
    ],
  },
  { name: 'a constraint the vendored 2.1.0 matches', version: '2.x', code: { plain: 0, strict: 0 }, stdout: ['web:1.0.0 OK'] },
];

describe('a dependency alias Helm drops for a version mismatch', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-e2e-alias-');
    await writeValidPackPerCase(root, CASES, async (dir, c) => {
      const chart = {
        ...CHART_FILES,
        'web/Chart.yaml': chartYaml(c.version),
        'web/charts/db/Chart.yaml': 'apiVersion: v2\nname: db\nversion: 2.1.0\n',
        'web/charts/db/values.yaml': 'enabled: true\nport: 5432\n',
      };
      await putFile(dir, 'charts/web-1.0.0.tgz', await tgz(chart));
      await putFile(dir, 'values.yaml', VALID_VALUES.replace('    replicas: 1\n', '    replicas: 1\n    cache:\n      enabled: false\n      port: 6379\n'));
    });
    return { root };
  });

  it.each(CASES.map((c, i) => ({ ...c, i })))('$name: validate exits $code.plain, --strict $code.strict', async ({ i, code, stdout }) => {
    const dir = join(w.root, `case-${i}`);
    expectRun(await runCli(['validate', dir], { env: { NO_COLOR: '1' } }), { code: code.plain, stdout });
    expectRun(await runCli(['validate', '--strict', dir], { env: { NO_COLOR: '1' } }), { code: code.strict });
  });
});
