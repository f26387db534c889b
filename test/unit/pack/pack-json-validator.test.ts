import fc from 'fast-check';
import { validatePackJsonSchema } from '../../../src/pack/pack-json-validate.generated.js';
import { PACK_JSON_SCHEMA } from '../../../src/pack/schema.js';
import { anyValue, describeGeneratedValidator } from '../../support/ajv-standalone.js';

/*
 * pack.json is checked by a validator that ajv generated from PACK_JSON_SCHEMA ahead of time
 * (src/pack/pack-json-validate.generated.ts): compiling the schema at every start cost a validation
 * run about 95 ms of CPU (loading ajv and compiling), in the CLI and in every worker thread. The schema
 * stays the one source of truth: this test generates the module again and fails when the committed one
 * differs. After changing the schema, regenerate it with
 *   npx vitest run test/unit/pack/pack-json-validator.test.ts -u
 */

const text = fc.oneof(fc.constantFrom('', 'x', '\u{1F600}', 'addon', 'k8s', 'required', 'cpu', 'master', 'control-plane'), fc.string({ unit: 'grapheme', maxLength: 4 }));
const value = anyValue(text, fc.integer());
const keys = ['name', 'displayName', 'version', 'layer', 'cloudTypes', 'cloudType', 'group', 'addonType', 'addonSubType', 'eol', 'ansibleRoles', 'charts', 'kubeManifests', 'annotations', 'constraints'];
const dependency = fc.record({ packName: fc.oneof(text, value), layer: fc.oneof(text, value), minVersion: value, type: fc.oneof(text, value) }, { requiredKeys: [] });
const component = fc.record({ scheduleType: fc.oneof(text, value), resourceRequestParamRef: value }, { requiredKeys: [] });
const resource = fc.record({ type: fc.oneof(text, value), minLimit: fc.oneof(fc.integer(), value), components: fc.oneof(fc.array(fc.oneof(component, value), { maxLength: 3 }), value) }, { requiredKeys: [] });
const constraints = fc.record({ dependencies: fc.oneof(fc.array(fc.oneof(dependency, value), { maxLength: 3 }), value), resources: fc.oneof(fc.array(fc.oneof(resource, value), { maxLength: 3 }), value) }, { requiredKeys: [] });
/** pack.json-shaped values: every field present or not, right or wrong in type and content. */
const packJson = fc.record(Object.fromEntries(keys.map((k) => [k, k === 'constraints' ? fc.oneof(constraints, value) : fc.oneof(text, fc.array(fc.oneof(text, value), { maxLength: 3 }), fc.dictionary(text, fc.oneof(text, value), { maxKeys: 3 }), value)])), { requiredKeys: [] });

describeGeneratedValidator({
  what: 'pack.json',
  schema: { value: PACK_JSON_SCHEMA, name: 'PACK_JSON_SCHEMA', source: 'src/pack/schema.ts' },
  generated: { file: 'src/pack/pack-json-validate.generated.ts', exportName: 'validatePackJsonSchema', validate: validatePackJsonSchema },
  compiledWith: { validateSchema: false, code: { optimize: false } },
  shaped: packJson,
  weight: 5,
  anything: value,
  example: { name: 'x', displayName: '\u{1F600}', version: '1.0.0', layer: 'addon', constraints: { dependencies: [{ packName: 'k', layer: 'k8s', type: 'optional' }], resources: [{ type: 'cpu', components: [{ scheduleType: 'all' }] }] } },
});
