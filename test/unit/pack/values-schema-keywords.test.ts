import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AJV_KEYWORDS, ajvKnows, OPTIONS } from '../../../src/pack/values-schema.js';
import { tempDir, writeFiles } from '../../support/files.js';

/*
 * The quick reading of a chart's values.schema.json asks which keywords ajv knows without loading ajv (issue
 * 16): ajv's modules and an instance per draft cost each validation thread ~10-40 ms of CPU, and values that
 * pass their schema never need them. The lists must be exactly what ajv's instances know; ajv is loaded only
 * for values the quick reading does not certainly accept, and then judges as before.
 */

const DRAFTS = { draft7: 'ajv', draft2019: 'ajv/dist/2019.js', draft2020: 'ajv/dist/2020.js' } as const;

interface AjvInstance {
  RULES: { all: Record<string, unknown> };
  getKeyword(keyword: string): unknown;
}

let work: Awaited<ReturnType<typeof tempDir>>;
let charts = 0;

beforeAll(async () => void (work = await tempDir('packpub-values-schema-keywords-')));
afterAll(() => work.cleanup());

/** A chart web whose values.yaml is `values` and whose values.schema.json is `schema`; returns its folder. */
async function chartWith(values: string, schema: object): Promise<string> {
  const dir = join(work.dir, `web-${charts++}`);
  await writeFiles(dir, { 'Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\n', 'values.yaml': values, 'values.schema.json': JSON.stringify(schema) });
  return dir;
}

/*
 * Run in a thread of its own, which has loaded nothing yet (this test worker's earlier files may well have
 * loaded ajv): the library build of the same sources (dist/, built from src/ by the suite's global setup)
 * reads each chart and judges its values, one after the other; for each, the refusals and whether any of
 * ajv's modules was loaded by then (ajv is CommonJS: its modules are in require's cache once loaded).
 */
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { readChart } = await import(workerData.chart);
  const { valuesSchemaRefusals } = await import(workerData.valuesSchema);
  const results = [];
  for (const dir of workerData.dirs) {
    const found = await valuesSchemaRefusals(await readChart(dir), undefined);
    const refusals = found.flatMap((r) => r.errors.map((e) => r.chart + e.pointer));
    results.push({ refusals, ajvLoaded: Object.keys(require.cache).some((path) => /[\\/]node_modules[\\/]ajv[\\/]/.test(path)) });
  }
  parentPort.postMessage(results);
})().catch((err) => parentPort.postMessage({ error: String(err && err.stack || err) }));
`;

/** The refusals of each chart (chartWith) judged in a fresh thread, in order, and whether ajv was loaded after each. */
async function judgedInFreshThread(dirs: string[]): Promise<Array<{ refusals: string[]; ajvLoaded: boolean }>> {
  const dist = (file: string) => new URL(`../../../dist/pack/${file}`, import.meta.url).href;
  const thread = new Worker(THREAD, { eval: true, workerData: { dirs, chart: dist('chart.js'), valuesSchema: dist('values-schema.js') } });
  try {
    const answer = await new Promise<unknown>((resolve, reject) => {
      thread.once('message', resolve);
      thread.once('error', reject);
      thread.once('exit', (code) => reject(new Error(`the thread exited (${code}) without an answer`)));
    });
    if (!Array.isArray(answer)) throw new Error(`the thread failed: ${(answer as { error?: string }).error ?? String(answer)}`);
    return answer as Array<{ refusals: string[]; ajvLoaded: boolean }>;
  } finally {
    await thread.terminate();
  }
}

describe("ajv's keywords, known without loading ajv", () => {
  it('values that pass their schema are judged without loading ajv; values that fail it load ajv and are refused as before', async () => {
    const schema = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { replicas: { type: 'integer', minimum: 1 } } };
    const [seven, twenty, failing] = await judgedInFreshThread([
      await chartWith('replicas: 2\n', schema),
      await chartWith('replicas: 3\n', { ...schema, $schema: 'https://json-schema.org/draft/2020-12/schema' }),
      await chartWith('replicas: "two"\n', schema),
    ]);
    expect(seven).toEqual({ refusals: [], ajvLoaded: false });
    expect(twenty).toEqual({ refusals: [], ajvLoaded: false });
    expect(failing).toEqual({ refusals: ['web/replicas'], ajvLoaded: true });
  });

  for (const [draft, module] of Object.entries(DRAFTS) as Array<[keyof typeof DRAFTS, string]>) {
    it(`${draft}: the list is what an instance of ajv's class knows with packpub's options`, async () => {
      const Kind = ((await import(module)) as { default: new (options: object) => AjvInstance }).default;
      const ajv = new Kind(OPTIONS);
      expect([...AJV_KEYWORDS[draft]].sort()).toEqual(Object.keys(ajv.RULES.all).sort());
      // getKeyword reads a plain object: names on Object.prototype are "known" too, anything else is not.
      const names = [...AJV_KEYWORDS.draft2020, ...AJV_KEYWORDS.draft2019, ...AJV_KEYWORDS.draft7, '$id', '$schema', '$defs', '$anchor', 'definitions', 'title', 'description', 'default', 'examples', 'deprecated', 'readOnly', 'contentMediaType', 'discriminator', 'x-kubernetes-preserve-unknown-fields', 'constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf', ''];
      for (const name of names) expect([name, ajvKnows(draft, name)]).toEqual([name, ajv.getKeyword(name) !== false]);
    });
  }
});
