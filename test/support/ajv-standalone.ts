import { Ajv, type ErrorObject, type Options } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

/**
 * A schema's validator as a module, generated ahead of time by ajv's standalone code generation with
 * the options packpub's validation uses (allErrors, strict): the source of the committed
 * `*-validate.generated.ts` files, which the unit tests of each schema generate again and compare.
 * ajv's ESM output still loads its small runtime helpers (ucs2length for minLength) with require():
 * those become imports of the same files, so the module loads the helper and never ajv itself.
 */
export function standaloneValidatorModule(options: { schema: object; exportName: string; schemaName: string; source: string; test: string }): string {
  const ajv = new Ajv({ allErrors: true, strict: true, code: { source: true, esm: true } });
  const code = standaloneCode
    .default(ajv, ajv.compile(options.schema))
    // Node's default import of a CommonJS file is its module.exports (the helper is its .default); vitest's is the helper.
    .replace(/const (\w+) = require\("(ajv\/dist\/runtime\/\w+)"\)\.default;/g, 'import $1Module from "$2.js";\nconst $1 = typeof $1Module === "function" ? $1Module : $1Module.default;');
  if (/\brequire\(/.test(code)) throw new Error(`the generated ${options.schemaName} validator still calls require(): teach standaloneValidatorModule() the new helper`);
  return [
    '// @ts-nocheck',
    '/* eslint-disable */',
    `// GENERATED from ${options.schemaName} (${options.source}) by ajv standalone code generation: do not edit.`,
    `// Regenerate after changing the schema: npx vitest run ${options.test} -u`,
    code.replace(/^"use strict";/, '').replace(/export const validate = (\w+);/, `export const ${options.exportName} = $1;`).replace(/export default \w+;/, ''),
    '',
  ].join('\n');
}

/** A validator's verdict and errors (copied), to compare a generated validator with the compiled one. */
export function errorsOf(validate: (data: unknown) => boolean, data: unknown): { valid: boolean; errors: ErrorObject[] } {
  const valid = validate(data);
  return { valid, errors: ((validate as unknown as { errors?: ErrorObject[] | null }).errors ?? []).map((e) => ({ ...e })) };
}

/**
 * Expect the generated validator to give the compiled one's verdict and errors on `runs` values of
 * `arbitrary`; returns how many of them were valid and invalid, for the test to require both kinds.
 */
export function expectSameVerdicts(generated: unknown, compiled: (data: unknown) => boolean, arbitrary: fc.Arbitrary<unknown>, runs: number): { valid: number; invalid: number } {
  const counts = { valid: 0, invalid: 0 };
  fc.assert(
    fc.property(arbitrary, (data) => {
      const reference = errorsOf(compiled, data);
      expect(errorsOf(generated as (data: unknown) => boolean, data)).toEqual(reference);
      counts[reference.valid ? 'valid' : 'invalid']++;
    }),
    { numRuns: runs },
  );
  return counts;
}

/**
 * Any value a YAML or JSON reader could give (scalars, and lists and mappings of up to three items,
 * nested), with `text` for strings and mapping keys and `integer` for whole numbers: the "wrong in type
 * and content" half of the values a generated validator is checked on.
 */
export function anyValue(text: fc.Arbitrary<string>, integer: fc.Arbitrary<number>): fc.Arbitrary<unknown> {
  const scalar = fc.oneof(text, integer, fc.double(), fc.boolean(), fc.constant(null));
  return fc.letrec((tie) => ({
    any: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalar, fc.array(tie('any'), { maxLength: 3 }), fc.dictionary(text, tie('any'), { maxKeys: 3 })),
  })).any;
}

/** Generated values each validator is checked on: enough for thousands of invalid ones. */
const RUNS = 2000;

/** The repository's root: generated files are named from it, as their regenerate line names the test. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The two tests every generated validator has: the committed module (`generated.file`; `-u` regenerates it)
 * is what ajv generates from the schema today, and it gives the compiled schema's verdict and errors on 2000
 * generated values, invalid ones by the thousand, valid ones at least `minValid` times, and on `example`, a
 * valid value written out. The module's regenerate line names the test file that calls this.
 */
export function describeGeneratedValidator(options: {
  /** What the schema checks, for the test names. */
  what: string;
  /** The schema, its export name and its file. */
  schema: { value: object; name: string; source: string };
  /** The committed module: its file, its export and that export as imported. */
  generated: { file: string; exportName: string; validate: unknown };
  /**
   * ajv's options beyond allErrors and strict with which packpub compiled the schema at run time before the
   * validator was generated ahead of time: the reference the generated one must agree with.
   */
  compiledWith?: Options;
  /** Values shaped like the schema's (each part right or wrong); mixed `weight` to 1 with `anything`. */
  shaped: fc.Arbitrary<unknown>;
  weight: number;
  /** Any value at all (see anyValue). */
  anything: fc.Arbitrary<unknown>;
  minValid?: number;
  example: object;
}): void {
  const { schema, generated } = options;
  const compiled = new Ajv({ allErrors: true, strict: true, ...options.compiledWith }).compile(schema.value);
  const arbitrary = fc.oneof({ weight: options.weight, arbitrary: options.shaped }, { weight: 1, arbitrary: options.anything });
  describe(`the generated ${options.what} validator`, () => {
    it(`is what ajv generates from ${schema.name} today (the schema is the source of truth)`, async () => {
      const testPath = expect.getState().testPath;
      if (testPath === undefined) throw new Error('vitest did not say which test file runs: the regenerate line needs it');
      const test = relative(ROOT, testPath);
      const module = standaloneValidatorModule({ schema: schema.value, schemaName: schema.name, source: schema.source, exportName: generated.exportName, test });
      await expect(module).toMatchFileSnapshot(join(ROOT, generated.file));
    });

    it(`gives the same verdict and the same errors as the schema compiled at run time, for valid and invalid ${options.what}`, () => {
      const { valid, invalid } = expectSameVerdicts(generated.validate, compiled, arbitrary, RUNS);
      expect(invalid).toBeGreaterThan(1000);
      if (options.minValid !== undefined) expect(valid).toBeGreaterThan(options.minValid);
      expect(errorsOf(generated.validate as (data: unknown) => boolean, options.example)).toEqual({ valid: true, errors: [] });
      expect(errorsOf(compiled, options.example)).toEqual({ valid: true, errors: [] });
    });
  });
}
