import fc from 'fast-check';
import { validateConfigSchema } from '../../../src/config/config-validate.generated.js';
import { CONFIG_SCHEMA } from '../../../src/config/schema.js';
import { anyValue, describeGeneratedValidator } from '../../support/ajv-standalone.js';

/*
 * packpub.yaml is checked by a validator that ajv generated from CONFIG_SCHEMA ahead of time
 * (src/config/config-validate.generated.ts): loading ajv and compiling the schema cost every run that
 * reads a configuration file 50-80 ms of CPU. The schema stays the one source of truth: this test
 * generates the module again and fails when the committed one differs. After changing the schema,
 * regenerate it with
 *   npx vitest run test/unit/config/config-validator.test.ts -u
 */

const text = fc.oneof(
  fc.constantFrom('', 'x', '1', 'local', 'a.b-c_d', '-bad', 'HARBOR_PASSWORD', '9X', 'h:5000:127.0.0.1', 'h:x:1', 'KMS', 'AES256', 'MUTABLE', 'ecr', 'harbor', 'generic', '\u{1F600}', 'a'.repeat(63), 'a'.repeat(64)),
  fc.string({ unit: 'grapheme', maxLength: 4 }),
);
const value = anyValue(text, fc.integer({ min: -2, max: 70 }));
/** A mapping with some of `keys` (each right or wrong in type), and now and then a key of its own. */
function mapping(keys: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const record = fc.record(Object.fromEntries(Object.entries(keys).map(([k, a]) => [k, fc.oneof({ weight: 4, arbitrary: a }, { weight: 1, arbitrary: value })])), { requiredKeys: [] });
  return fc.oneof({ weight: 6, arbitrary: record }, { weight: 1, arbitrary: fc.tuple(record, fc.dictionary(text, value, { maxKeys: 1 })).map(([r, extra]) => ({ ...extra, ...r })) }, { weight: 1, arbitrary: value });
}
const bool = fc.boolean();
const strings = fc.array(text, { maxLength: 3 });
const target = mapping({
  registry: text,
  ociLayout: text,
  type: text,
  auth: mapping({ username: text, passwordEnv: text, registryConfig: text, allowCrossHostAuth: bool }),
  tls: mapping({ plainHttp: bool, caFile: text, insecure: bool, certFile: text, keyFile: text }),
  resolve: strings,
  ecr: mapping({ createRepositories: bool, tagMutability: text, encryption: text, kmsKey: text, tags: fc.dictionary(text, fc.oneof(text, value), { maxKeys: 2 }), awsProfile: text, awsRoleArn: text, endpoint: text }),
  harbor: mapping({ createProject: bool }),
  palette: mapping({ endpoint: text, registry: text, project: text, apiKeyEnv: text, caFile: text }),
});
/** packpub.yaml-shaped values: every key present or not, right or wrong in type and content. */
const config = mapping({
  version: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.double()),
  targets: fc.dictionary(text, target, { maxKeys: 3 }),
  packs: strings,
  recursive: bool,
  defaults: mapping({
    target: fc.oneof(text, strings),
    concurrency: fc.oneof(fc.integer({ min: -1, max: 70 }), fc.double()),
    strict: bool,
    continueOnError: bool,
    failFast: bool,
    skipExisting: bool,
  }),
});

describeGeneratedValidator({
  what: 'packpub.yaml',
  schema: { value: CONFIG_SCHEMA, name: 'CONFIG_SCHEMA', source: 'src/config/schema.ts' },
  generated: { file: 'src/config/config-validate.generated.ts', exportName: 'validateConfigSchema', validate: validateConfigSchema },
  shaped: config,
  weight: 8,
  anything: value,
  minValid: 20,
  example: {
    version: 1,
    packs: ['packs/'],
    recursive: true,
    defaults: { target: ['harbor'], concurrency: 4, strict: true },
    targets: {
      harbor: { registry: 'h.example.com/p', type: 'harbor', auth: { username: 'u', passwordEnv: 'HARBOR_PASSWORD' }, resolve: ['h.example.com:443:10.0.0.5'], harbor: { createProject: true } },
      ecr: { registry: '1.dkr.ecr.us-east-1.amazonaws.com/p', ecr: { encryption: 'KMS', kmsKey: 'k', tags: { team: 'x' } }, palette: { apiKeyEnv: 'KEY' } },
      local: { ociLayout: 'layout' },
    },
  },
});
