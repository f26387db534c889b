import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { PACK_JSON_SCHEMA, schemaFindings } from '../../../src/pack/schema.js';
import { parseLocatedJson } from '../../../src/pack/json-source.js';

describe('PACK_JSON_SCHEMA', () => {
  it('is a valid JSON Schema under ajv strict mode (the validator skips this check at run time)', () => {
    expect(() => new Ajv({ strict: true, validateSchema: true }).compile(PACK_JSON_SCHEMA)).not.toThrow();
  });

  it('reports every violation at once, each at its own line', async () => {
    const text = ['{', '  "name": "x",', '  "displayName": "",', '  "version": 1,', '  "layer": "addon",', '  "annotations": {"a": 1, "b": "ok"}', '}'].join('\n');
    const { value, positions } = parseLocatedJson(text);
    const findings = await schemaFindings(value, positions);
    expect(findings.map((f) => [f.path, f.line, f.message])).toEqual([
      ['displayName', 3, 'must not be empty'],
      ['version', 4, 'must be a string (found a number); put it in double quotes: "1"'],
      ['annotations.a', 6, 'must be a string (found a number); put it in double quotes: "1"'],
    ]);
  });
});
