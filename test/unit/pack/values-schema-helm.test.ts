import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readChart } from '../../../src/pack/chart.js';
import { valuesSchemaRefusals } from '../../../src/pack/values-schema.js';
import { tempDir, writeFiles } from '../../support/files.js';

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

let work: Awaited<ReturnType<typeof tempDir>>;
let charts = 0;

beforeAll(async () => void (work = await tempDir('packpub-values-schema-')));
afterAll(() => work.cleanup());

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
  const dir = join(work.dir, `web-${charts++}`);
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

const PORT = { properties: { conn: { type: 'object', required: ['port'], properties: { port: { type: 'integer' } } } } };
const MAP = '    import-values:\n      - child: conn\n        parent: conn\n';

describe('import-values before the schema check', () => {
  it("a map entry fills a key the parent's values lack: every Helm checks the imported value", async () => {
    expect(await refusals({ dependency: MAP, webSchema: PORT, dbValues: 'conn:\n  port: five\n' })).toEqual([{ chart: 'web', pointers: ['/conn/port'] }]);
    expect(await refusals({ dependency: MAP, webSchema: PORT, dbValues: 'conn:\n  port: 5432\n' })).toEqual([]);
  });

  it('the imported table is the one under the alias the dependency goes by', async () => {
    const dependency = `    alias: primary\n${MAP}`;
    expect(await refusals({ dependency, webSchema: PORT, dbValues: 'conn:\n  port: five\n' })).toEqual([{ chart: 'web', pointers: ['/conn/port'] }]);
  });

  it('the values Palette passes still win over an imported default', async () => {
    expect(await refusals({ dependency: MAP, webSchema: PORT, dbValues: 'conn:\n  port: five\n' }, { conn: { port: 80 } })).toEqual([]);
    expect(await refusals({ dependency: MAP, webSchema: PORT, dbValues: 'conn:\n  port: 5432\n' }, { conn: { port: 'eighty' } })).toEqual([{ chart: 'web', pointers: ['/conn/port'] }]);
  });

  it("a key both the parent's values.yaml and an import set: versions disagree, not judged either way", async () => {
    // 3.13.0 takes the import's, every other the parent's.
    expect(await refusals({ dependency: MAP, webSchema: PORT, webValues: 'conn:\n  port: 1\n', dbValues: 'conn:\n  port: five\n' })).toEqual([]);
    expect(await refusals({ dependency: MAP, webSchema: PORT, webValues: 'conn:\n  port: one\n', dbValues: 'conn:\n  port: 5432\n' })).toEqual([]);
    // Where none disagrees, the parent's own value is judged as before.
    expect(await refusals({ dependency: MAP, webSchema: { properties: { replicas: { type: 'integer' } } }, webValues: 'replicas: one\n', dbValues: 'conn:\n  port: 1\n' })).toEqual([{ chart: 'web', pointers: ['/replicas'] }]);
  });

  it("the short form copies the subchart's exports to the parent's top", async () => {
    const schema = { required: ['host'], properties: { host: { type: 'string' }, replicas: { type: 'integer' } } };
    expect(await refusals({ dependency: '    import-values: [conn]\n', webSchema: schema, dbValues: 'exports:\n  conn:\n    host: 5\n' })).toEqual([{ chart: 'web', pointers: ['/host'] }]);
    expect(await refusals({ dependency: '    import-values: [conn]\n', webSchema: schema, dbValues: 'exports:\n  conn:\n    host: db\n' })).toEqual([]);
    // 3.0-3.8 let a short-form import override the parent's value, later ones keep the parent's.
    expect(await refusals({ dependency: '    import-values: [conn]\n', webSchema: schema, webValues: 'host: web\n', dbValues: 'exports:\n  conn:\n    host: 5\n' })).toEqual([]);
    // The rest of the parent's values are judged.
    expect(await refusals({ dependency: '    import-values: [conn]\n', webSchema: schema, dbValues: 'exports:\n  conn:\n    host: db\n' }, { replicas: 'two' })).toEqual([{ chart: 'web', pointers: ['/replicas'] }]);
  });

  it('an import of a table the subchart lacks imports nothing (Helm logs a warning)', async () => {
    const schema = { required: ['host'], properties: { host: { type: 'string' } } };
    expect(await refusals({ dependency: '    import-values: [conn]\n', webSchema: schema, dbValues: 'exports:\n  other:\n    host: db\n' })).toEqual([{ chart: 'web', pointers: [''] }]);
    expect(await refusals({ dependency: '    import-values:\n      - child: conn.port\n        parent: conn\n', webSchema: PORT, dbValues: 'conn:\n  port: 1\n' })).toEqual([]);
  });

  it("an import into the parent's global reaches the subchart's schema", async () => {
    const dependency = '    import-values:\n      - child: conn\n        parent: global.conn\n';
    const dbSchema = { properties: { global: { properties: { conn: { properties: { host: { type: 'string' } } } } } } };
    expect(await refusals({ dependency, dbValues: 'conn:\n  host: 5\n', dbSchema })).toEqual([{ chart: 'web/db', pointers: ['/global/conn/host'] }]);
    expect(await refusals({ dependency, dbValues: 'conn:\n  host: db\n', dbSchema })).toEqual([]);
  });

  it('an entry whose child or parent is no string is not judged (a panic up to Helm 3.20, its text since)', async () => {
    const dependency = '    import-values:\n      - child: 1\n        parent: conn\n';
    expect(await refusals({ dependency, webSchema: PORT, dbValues: 'conn:\n  port: 1\n' }, { replicas: 'two' })).toEqual([]);
  });
});

describe('import-values that share a table many times over', () => {
  /**
   * Chart c0 over c1 over ... c<levels-1>: each imports its child's table into ten keys (the leaf's `t`, the
   * others' `w`), so the top's values hold the leaf's table 10^(levels-2) times, shared; c0 has a schema.
   */
  async function chain(levels: number): Promise<Array<{ chart: string; pointers: string[] }>> {
    const files: Record<string, string> = {};
    let path = '';
    for (let i = 0; i < levels; i++) {
      const child = i + 1 < levels ? `c${i + 1}` : undefined;
      const key = i + 2 === levels ? 't' : 'w';
      const imports = child === undefined ? '' : `dependencies:\n  - name: ${child}\n    version: 1.0.0\n    import-values:\n${Array.from({ length: 10 }, (_, k) => `      - child: ${key}\n        parent: w.c${i}${k}\n`).join('')}`;
      files[`${path}Chart.yaml`] = `apiVersion: v2\nname: c${i}\nversion: 1.0.0\n${imports}`;
      files[`${path}values.yaml`] = child === undefined ? `t:\n  k: "${'v'.repeat(100)}"\n` : 'w: {}\n';
      if (child !== undefined) path += `charts/${child}/`;
    }
    files['values.schema.json'] = JSON.stringify({ properties: { w: { type: 'object' }, zz: { type: 'string' } } });
    const dir = join(work.dir, `chain-${charts++}`);
    await writeFiles(dir, files);
    const found = await valuesSchemaRefusals(await readChart(dir), { zz: 5 });
    return found.map((r) => ({ chart: r.chart, pointers: r.errors.map((e) => e.pointer) }));
  }

  it('a few levels: judged as any chart', async () => {
    expect(await chain(4)).toEqual([{ chart: 'c0', pointers: ['/zz'] }]);
  });

  it('seven levels (10^5 copies of one table): not judged, at once (was: ~17 s of CPU and 1.5 GB; eight levels filled the heap)', async () => {
    expect(await chain(7)).toEqual([]);
  });
});
