import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readChart } from '../../../src/pack/chart.js';
import { AJV_KEYWORDS, ajvKnows, OPTIONS, valuesSchemaRefusals } from '../../../src/pack/values-schema.js';
import { tempDir, writeFiles } from '../../support/files.js';

/*
 * The quick reading of a chart's values.schema.json asks which keywords ajv knows without loading ajv (issue
 * 16): ajv's modules and an instance per draft cost each validation thread ~10-40 ms of CPU, and values that
 * pass their schema never need them. The lists must be exactly what ajv's instances know; ajv is loaded only
 * for values the quick reading does not certainly accept, and then judges as before.
 */

const imported: string[] = [];
vi.mock('ajv', async (original) => {
  imported.push('ajv');
  // ajv's CommonJS exports are its class (a function): handed on as the default export values-schema.ts reads.
  const mod = (await original()) as { default?: unknown };
  return { default: mod.default ?? mod };
});

const DRAFTS = { draft7: 'ajv', draft2019: 'ajv/dist/2019.js', draft2020: 'ajv/dist/2020.js' } as const;

interface AjvInstance {
  RULES: { all: Record<string, unknown> };
  getKeyword(keyword: string): unknown;
}

let work: Awaited<ReturnType<typeof tempDir>>;
let charts = 0;

beforeAll(async () => void (work = await tempDir('packpub-values-schema-keywords-')));
afterAll(() => work.cleanup());

/** The refusals of a chart web whose values.yaml is `values` and whose values.schema.json is `schema`. */
async function refusals(values: string, schema: object): Promise<string[]> {
  const dir = join(work.dir, `web-${charts++}`);
  await writeFiles(dir, { 'Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\n', 'values.yaml': values, 'values.schema.json': JSON.stringify(schema) });
  const found = await valuesSchemaRefusals(await readChart(dir), undefined);
  return found.flatMap((r) => r.errors.map((e) => `${r.chart}${e.pointer}`));
}

describe("ajv's keywords, known without loading ajv", () => {
  // First in this file: nothing has loaded ajv yet.
  it('values that pass their schema are judged without loading ajv; values that fail it load ajv and are refused as before', async () => {
    const schema = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', properties: { replicas: { type: 'integer', minimum: 1 } } };
    expect(await refusals('replicas: 2\n', schema)).toEqual([]);
    expect(await refusals('replicas: 3\n', { ...schema, $schema: 'https://json-schema.org/draft/2020-12/schema' })).toEqual([]);
    expect(imported).toEqual([]);
    expect(await refusals('replicas: "two"\n', schema)).toEqual(['web/replicas']);
    expect(imported).toEqual(['ajv']);
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
