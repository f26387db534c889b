import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { putFile, tgz } from '../support/files.js';
import { CHART_FILES, VALID_VALUES, writeValidPack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * A value the pack sets, checked against the chart's values.schema.json as Helm holds it: go-yaml v2
 * resolves plain scalars with YAML 1.1 rules (`yes`, `on`, `y`, `Off` are booleans; `0x10`, `0o17`,
 * `1_000`, `+5` integers through Go's strconv; `1e3` and `1.0` floats that JSON Schema takes as integers;
 * a date stays a string), then sigs.k8s.io/yaml makes it JSON. A value of the wrong kind is an error (Helm
 * refuses the install), so reading one as YAML 1.2 would refuse packs Helm installs. Verdicts checked on
 * the same text with go-yaml v2.4.0.
 */

const SCHEMA = JSON.stringify({
  type: 'object',
  properties: { count: { type: 'integer' }, enabled: { type: 'boolean' }, label: { type: 'string' } },
});

const ACCEPTED = ['count: 1.0', 'count: 1e3', 'count: 0x10', 'count: 0o17', 'count: 1_000', 'count: +5', 'count: 12345678901234567890', 'enabled: yes', 'enabled: on', 'enabled: Off', 'enabled: y', 'label: 2024-01-31', 'label: !!binary aGk='];
const REFUSED: Array<[string, string]> = [
  ['label: yes', '/label: must be string'],
  ['label: 1.0', '/label: must be string'],
  ['count: !!str 1', '/count: must be integer'],
  ['count: 1:30', '/count: must be integer'],
  ['count: 1.5', '/count: must be integer'],
];

interface Result {
  dir: string;
  passed: boolean;
  findings: Array<{ severity: string; rule: string; path?: string; message: string }>;
}

describe("a pack's values checked against a chart schema as go-yaml v2 resolves them (YAML 1.1)", () => {
  const w = setup(async (stack) => ({ root: await stack.tempDir('packpub-e2e-schema-yaml11-') }));
  const dirs = new Map<string, string>();
  let results: Map<string, Result>;

  beforeAll(async () => {
    for (const [i, line] of [...ACCEPTED, ...REFUSED.map(([l]) => l)].entries()) {
      const dir = await writeValidPack(join(w.root, `case-${i}`));
      await putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ ...CHART_FILES, 'web/values.yaml': 'replicas: 1\ncount: 1\nenabled: true\nlabel: x\n', 'web/values.schema.json': SCHEMA }));
      await putFile(dir, 'values.yaml', VALID_VALUES.replace('    replicas: 1\n', `    replicas: 1\n    ${line}\n`));
      dirs.set(line, dir);
    }
    const run = await runCli(['validate', '--json', ...dirs.values()]);
    expect(run.code, run.stderr).toBe(1);
    results = new Map((JSON.parse(run.stdout) as Result[]).map((r) => [r.dir, r]));
  });

  it.each(ACCEPTED)('%s: passes with no finding', (line) => {
    const result = results.get(dirs.get(line)!)!;
    expect(result.findings).toEqual([]);
    expect(result.passed).toBe(true);
  });

  it.each(REFUSED)('%s: refused, as Helm refuses the install (%s)', (line, says) => {
    const result = results.get(dirs.get(line)!)!;
    expect(result.passed).toBe(false);
    expect(result.findings).toHaveLength(1);
    expect(result.findings[0]).toMatchObject({ severity: 'error', rule: 'chart-values-schema' });
    expect(result.findings[0]!.message).toContain(says);
  });
});
