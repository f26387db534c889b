import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { PACK_JSON_SCHEMA, schemaFindings } from '../../../src/pack/schema.js';
import { parseLocatedJson } from '../../../src/pack/json-source.js';

/** [path, line, message] of each schema finding of the pack.json made of `lines`. */
async function findingsOf(lines: string[]): Promise<Array<[string | undefined, number | undefined, string]>> {
  const { value, positions } = parseLocatedJson(lines.join('\n'));
  return (await schemaFindings(value, positions)).map((f) => [f.path, f.line, f.message]);
}

describe('PACK_JSON_SCHEMA', () => {
  it('is a valid JSON Schema under ajv strict mode (the validator skips this check at run time)', () => {
    expect(() => new Ajv({ strict: true, validateSchema: true }).compile(PACK_JSON_SCHEMA)).not.toThrow();
  });

  it('reports every violation at once, each at its own line', async () => {
    expect(await findingsOf(['{', '  "name": "x",', '  "displayName": "",', '  "version": 1,', '  "layer": "addon",', '  "annotations": {"a": 1, "b": "ok"}', '}'])).toEqual([
      ['displayName', 3, 'must not be empty'],
      ['version', 4, 'must be a string (found a number); put it in double quotes: "1"'],
      ['annotations.a', 6, 'must be a string (found a number); put it in double quotes: "1"'],
    ]);
  });

  // Spectro's pack.json schema has no null (add-custom-packs.md): a generator writing null for "no value" is told what to do.
  it('says how to fix a null: leave an optional key out, give a required one a value', async () => {
    expect(await findingsOf(['{', '  "name": null,', '  "displayName": "X",', '  "version": "1.0.0",', '  "layer": "addon",', '  "eol": null,', '  "kubeManifests": null,', '  "annotations": {"a": null}', '}'])).toEqual([
      ['name', 2, 'must be a string (found null); null is no value here: write one'],
      ['eol', 6, 'must be a string (found null); null is not "no value" in pack.json\'s schema: leave the key out, or write a value'],
      ['kubeManifests', 7, 'must be an array (found null); null is not "no value" in pack.json\'s schema: leave the key out, or write a value'],
      ['annotations.a', 8, 'must be a string (found null); null is not "no value" in pack.json\'s schema: leave the key out, or write a value'],
    ]);
  });
});
