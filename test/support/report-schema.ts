import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { expect } from 'vitest';

/*
 * docs/report.schema.json, the JSON report's contract (docs/report.md), as ajv validators. The schema is
 * compiled once per worker process (test files share workers, vitest.config.ts) rather than by each file
 * that checks a report, one of which compiled it for every check: each compile cost ~0.3 CPU-s.
 * ajv's defaults (strictRequired off): `required` inside if/then names properties declared one level up.
 */

const SCHEMA_PATH = fileURLToPath(new URL('../../docs/report.schema.json', import.meta.url));

let compiled: { ajv: Ajv2020; id: string } | undefined;

/** The validator of the whole report (fragment '') or of one of its definitions (e.g. '#/$defs/jsonLine'). */
export function reportValidator(fragment = ''): ValidateFunction {
  if (compiled === undefined) {
    const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as { $id: string };
    const ajv = new Ajv2020({ allErrors: true });
    ajv.addSchema(schema);
    compiled = { ajv, id: schema.$id };
  }
  const validate = compiled.ajv.getSchema(`${compiled.id}${fragment}`);
  if (validate === undefined) throw new Error(`docs/report.schema.json has no ${fragment}`);
  return validate;
}

/** Expect `value` to validate against the report schema (or the definition `fragment` names), listing ajv's errors when not. */
export function expectReportValid(value: unknown, fragment = ''): void {
  const validate = reportValidator(fragment);
  expect(validate(value), JSON.stringify(validate.errors, null, 2)).toBe(true);
}
