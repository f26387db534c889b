import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readChart } from '../../../src/pack/chart.js';
import { valuesSchemaRefusals } from '../../../src/pack/values-schema.js';
import { writeFiles } from '../../support/files.js';

/*
 * The values Helm 3 checks a chart's values.schema.json against (pkg/chartutil coalesce.go, dependencies.go),
 * where its versions agree.
 *
 * import-values as Helm 3 processes them (pkg/chartutil dependencies.go processImportValues): a subchart's
 * table (`child`, or `exports.<name>` for the short form) copied into the parent's values (`parent`, the top
 * for the short form) before the install coalesces and checks the schemas. Where the parent's own values.yaml
 * sets the same key, Helm versions disagree on which wins (3.0-3.8: the parent, but a short-form import wins;
 * 3.9-3.12 and 3.13.1 and later: the parent; 3.13.0: the import): only what every version refuses is reported.
 */

let work: string;
let charts = 0;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'packpub-imports-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

interface Chart {
  /** Lines under the one dependency (db 1.0.0) of chart web. */
  dependency: string;
  webValues?: string;
  webSchema?: object;
  dbValues: string;
  dbSchema?: object;
}

/** The refusals (chart name, failing pointers) of chart web with subchart db, given `given`. */
async function refusals(c: Chart, given?: object): Promise<Array<{ chart: string; pointers: string[] }>> {
  const dir = join(work, `web-${charts++}`);
  await writeFiles(dir, {
    'Chart.yaml': `apiVersion: v2\nname: web\nversion: 1.0.0\ndependencies:\n  - name: db\n    version: 1.0.0\n${c.dependency}`,
    'values.yaml': c.webValues ?? 'replicas: 1\n',
    'values.schema.json': JSON.stringify(c.webSchema ?? { properties: { replicas: { type: 'integer' } } }),
    'charts/db/Chart.yaml': 'apiVersion: v2\nname: db\nversion: 1.0.0\n',
    'charts/db/values.yaml': c.dbValues,
    ...(c.dbSchema === undefined ? {} : { 'charts/db/values.schema.json': JSON.stringify(c.dbSchema) }),
  });
  const found = await valuesSchemaRefusals(await readChart(dir), given);
  return found.map((r) => ({ chart: r.chart, pointers: r.errors.map((e) => e.pointer) }));
}

describe('a null the pack gives', () => {
  // Helm coalesces a given table over a default one key of the default at a time (coalesceTablesFullKey):
  // a given key the defaults lack is kept as given, null included, by every Helm 3.
  it('over no default, nested: every Helm keeps the null for the schema to see', async () => {
    const webSchema = { properties: { conf: { type: 'object', properties: { label: { type: 'string' } } } } };
    expect(await refusals({ dependency: '', webSchema, webValues: 'conf:\n  other: 1\n', dbValues: 'port: 1\n' }, { conf: { label: null } })).toEqual([{ chart: 'web', pointers: ['/conf/label'] }]);
    const dbSchema = { properties: { label: { type: 'string' } } };
    expect(await refusals({ dependency: '', webValues: 'db:\n  other: 1\n', dbValues: 'port: 1\n', dbSchema }, { db: { label: null } })).toEqual([{ chart: 'web/db', pointers: ['/label'] }]);
  });

  it('over a default the parent gives a subchart: deleted up to 3.19, kept by 3.20 (versions disagree: not judged)', async () => {
    const dbSchema = { properties: { label: { type: 'string' } } };
    expect(await refusals({ dependency: '', webValues: 'db:\n  label: x\n', dbValues: 'port: 1\n', dbSchema }, { db: { label: null } })).toEqual([]);
  });
});
