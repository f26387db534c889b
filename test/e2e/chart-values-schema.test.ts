import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { putFile, tgz } from '../support/files.js';
import { CHART_FILES, VALID_VALUES, writeValidPackPerCase } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * A chart's values.schema.json, which Helm checks the values against on every install: the pack's values
 * (charts.web, coalesced over the chart's values.yaml as Helm does) that fail it. A value the pack sets of
 * the wrong kind, a key the schema forbids, or a number or boolean outside its bounds or allowed values, is an error (validate exits 1, push publishes nothing); an
 * empty or missing value the user is to fill in is a warning (real pack-central packs publish empty required
 * passwords), and none at all when schema.yaml lists it for Palette to ask the user.
 */

const SCHEMA = JSON.stringify({
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  required: ['replicas'],
  properties: {
    replicas: { type: 'integer', minimum: 1 },
    password: { type: 'string', minLength: 1 },
    service: { type: 'object', additionalProperties: false, properties: { port: { type: 'integer' } } },
  },
});

/** The valid pack's `charts.web` values with `lines` (indented under `web:`) instead. */
const packValues = (lines: string): string => VALID_VALUES.replace('    replicas: 1\n', lines);

interface Case {
  name: string;
  /** The chart's files over CHART_FILES (under web/). */
  chart?: Record<string, string | Buffer>;
  values?: string;
  schemaYaml?: string;
  code: number;
  stdout: string[];
  strict?: number;
}

const DB_DEPENDENCY = 'apiVersion: v2\nname: web\nversion: 1.0.0\ndependencies:\n  - name: db\n    version: 1.0.0\n';

/** Chart web with subchart db (an integer `port` in its schema), declared with `more` dependency lines. */
const dbChart = (more: string, webValues = 'replicas: 1\n'): Record<string, string> => ({
  'web/Chart.yaml': `${DB_DEPENDENCY}${more}`,
  'web/values.yaml': webValues,
  'web/charts/db/Chart.yaml': 'apiVersion: v2\nname: db\nversion: 1.0.0\n',
  'web/charts/db/values.yaml': 'port: 5432\n',
  'web/charts/db/values.schema.json': JSON.stringify({ type: 'object', properties: { port: { type: 'integer' } } }),
});

/** Chart web importing db's `exports.conn` (short form), whose `host` is `host`; web's schema wants a string there. */
const exportingChart = (host: string): Record<string, string> => ({
  ...dbChart('    import-values: [conn]\n'),
  'web/values.schema.json': JSON.stringify({ type: 'object', required: ['host'], properties: { host: { type: 'string' } } }),
  'web/charts/db/values.yaml': `port: 5432\nexports:\n  conn:\n    host: ${host}\n`,
});

const withSchema = (more: Record<string, string | Buffer> = {}): Record<string, string | Buffer> => ({ 'web/values.schema.json': SCHEMA, 'web/values.yaml': 'replicas: 1\npassword: x\n', ...more });

const CASES: Case[] = [
  {
    name: 'a number written as a string where the schema wants an integer',
    chart: withSchema(),
    values: packValues('    replicas: "3"\n'),
    code: 1,
    stdout: ['  error   values.yaml:9:5 charts.web.replicas: chart "web" of charts/web-1.0.0.tgz has a values.schema.json that the values as published fail (the chart\'s values.yaml with the pack\'s charts.web over it), so Helm refuses to install it with them ("values don\'t meet the specifications of the schema(s) in the following chart(s): web"): /replicas: must be integer; fix the value in values.yaml to match the schema'],
  },
  {
    // A number or boolean outside a bound or the allowed values: no placeholder explains it (packpub warned).
    name: 'a number under the minimum the schema sets',
    chart: withSchema(),
    values: packValues('    replicas: 0\n'),
    code: 1,
    stdout: ['  error   values.yaml:9:5 charts.web.replicas: chart "web"', '/replicas: must be >= 1; fix the value in values.yaml to match the schema'],
  },
  {
    name: 'a number outside an enum, a boolean other than a const',
    chart: withSchema({ 'web/values.schema.json': JSON.stringify({ properties: { mode: { enum: [1, 2] }, tls: { const: true } } }), 'web/values.yaml': 'replicas: 1\nmode: 1\ntls: true\n' }),
    values: packValues('    replicas: 1\n    mode: 3\n    tls: false\n'),
    code: 1,
    stdout: ['  error   values.yaml:10:5 charts.web.mode: chart "web"', '/mode: must be equal to one of the allowed values; /tls: must be equal to constant; fix the value'],
  },
  {
    name: 'a text outside an enum (a placeholder, maybe)',
    chart: withSchema({ 'web/values.schema.json': JSON.stringify({ properties: { domain: { type: 'string', enum: ['example.com'] } } }), 'web/values.yaml': 'replicas: 1\ndomain: example.com\n' }),
    values: packValues('    replicas: 1\n    domain: <your-domain>\n'),
    code: 0,
    strict: 1,
    stdout: ['  warning values.yaml:10:5 charts.web.domain: chart "web"', '/domain: must be equal to one of the allowed values; set these under charts.web'],
  },
  {
    name: 'a key the schema does not allow',
    chart: withSchema(),
    values: packValues('    replicas: 1\n    service:\n      prot: 80\n'),
    code: 1,
    stdout: ['  error   values.yaml:11:7 charts.web.service.prot: chart "web"', '/service: must NOT have additional properties ("prot"); fix the value in values.yaml'],
  },
  {
    name: 'a value the schema wants in a subchart of the chart, given under its key',
    chart: {
      'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\ndependencies:\n  - name: db\n    version: 1.0.0\n',
      'web/charts/db/Chart.yaml': 'apiVersion: v2\nname: db\nversion: 1.0.0\n',
      'web/charts/db/values.yaml': 'port: 5432\n',
      'web/charts/db/values.schema.json': JSON.stringify({ type: 'object', properties: { port: { type: 'integer' } } }),
    },
    values: packValues('    replicas: 1\n    db:\n      port: five\n'),
    code: 1,
    stdout: ['  error   values.yaml:11:7 charts.web.db.port: chart "web/db" of charts/web-1.0.0.tgz', '(the chart\'s values.yaml with the pack\'s charts.web over it)', '("values don\'t meet the specifications of the schema(s) in the following chart(s): db"): /port: must be integer'],
  },
  {
    name: "a global of the wrong kind for a subchart's schema (globals are copied down to every subchart)",
    chart: {
      'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\n',
      'web/values.yaml': 'global:\n  region: eu\n',
      'web/charts/db/Chart.yaml': 'apiVersion: v2\nname: db\nversion: 1.0.0\n',
      'web/charts/db/values.schema.json': JSON.stringify({ type: 'object', required: ['global'], properties: { global: { type: 'object', required: ['region'], properties: { region: { type: 'string' } } } } }),
    },
    values: packValues('    replicas: 1\n    global:\n      region: 5\n'),
    code: 1,
    stdout: ['  error   values.yaml:11:7 charts.web.global.region: chart "web/db" of charts/web-1.0.0.tgz', '/global/region: must be string; fix the value in values.yaml'],
  },
  {
    name: "the same subchart schema with the top chart's global left as it is",
    chart: {
      'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\n',
      'web/values.yaml': 'global:\n  region: eu\n',
      'web/charts/db/Chart.yaml': 'apiVersion: v2\nname: db\nversion: 1.0.0\n',
      'web/charts/db/values.yaml': 'global:\n  region: null\n',
      'web/charts/db/values.schema.json': JSON.stringify({ type: 'object', required: ['global'], properties: { global: { type: 'object', required: ['region'], properties: { region: { type: 'string' } } } } }),
    },
    values: packValues('    global:\n      zone: a\n'),
    code: 0,
    strict: 0,
    stdout: ['web:1.0.0 OK'],
  },
  {
    name: 'a values.schema.json that is not JSON (a trailing comma)',
    chart: withSchema({ 'web/values.schema.json': '{"type": "object",}\n' }),
    code: 1,
    stdout: ['  error   charts/web-1.0.0.tgz: chart "web" of charts/web-1.0.0.tgz has a values.schema.json that is not JSON (', 'Helm reads it on every install and upgrade and stops there, whatever the values'],
  },
  {
    name: 'a values.schema.json saved as UTF-16 (PowerShell 5 `>`): Go\'s JSON reader stops at its byte-order mark',
    chart: withSchema({ 'web/values.schema.json': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(SCHEMA, 'utf16le')]) }),
    code: 1,
    stdout: [
      '  error   charts/web-1.0.0.tgz: chart "web" of charts/web-1.0.0.tgz has a values.schema.json that is not JSON (it is UTF-16 text (it starts with a UTF-16 byte-order mark, as Windows PowerShell 5\'s `>` writes it), whose first byte Go\'s JSON reader refuses: "invalid character \'\u00ff\' looking for beginning of value"; save it as UTF-8): Helm reads it on every install and upgrade and stops there',
    ],
  },
  {
    name: 'a values.schema.json with a UTF-8 byte-order mark (Helm\'s loader drops it)',
    chart: withSchema({ 'web/values.schema.json': `\uFEFF${SCHEMA}` }),
    code: 0,
    strict: 0,
    stdout: ['web:1.0.0 OK'],
  },
  {
    name: 'a values.schema.json with text after its JSON (Helm up to 3.17 never reads it)',
    chart: withSchema({ 'web/values.schema.json': '{"type": "object"}\n}\n' }),
    code: 0,
    strict: 0,
    stdout: ['web:1.0.0 OK'],
  },
  {
    name: 'a $ref with a sibling keyword the value fails (Helm up to 3.17 ignores what sits beside a $ref)',
    chart: withSchema({ 'web/values.schema.json': JSON.stringify({ definitions: { count: { type: 'integer' } }, properties: { replicas: { $ref: '#/definitions/count', maximum: 2 } } }) }),
    values: packValues('    replicas: 3\n'),
    code: 0,
    strict: 0,
    stdout: ['web:1.0.0 OK'],
  },
  {
    // Draft 7 (Helm up to 3.17) knows no prefixItems: the value passes there, so not every Helm refuses it.
    name: 'a value only the draft 2020-12 reading fails (prefixItems)',
    chart: withSchema({ 'web/values.schema.json': JSON.stringify({ properties: { ports: { type: 'array', prefixItems: [{ type: 'integer' }] } } }), 'web/values.yaml': 'replicas: 1\nports: [80]\n' }),
    values: packValues('    replicas: 1\n    ports: [http]\n'),
    code: 0,
    strict: 0,
    stdout: ['web:1.0.0 OK'],
  },
  {
    // The quick reading (no compile) reads no uniqueItems: ajv decides.
    name: 'a list with a repeated item where the schema wants unique ones',
    chart: withSchema({ 'web/values.schema.json': JSON.stringify({ properties: { hosts: { type: 'array', uniqueItems: true } } }), 'web/values.yaml': 'replicas: 1\nhosts: [a]\n' }),
    values: packValues('    replicas: 1\n    hosts: [a, a]\n'),
    code: 0,
    strict: 1,
    stdout: ['  warning values.yaml:10:5 charts.web.hosts: chart "web"', '/hosts: must NOT have duplicate items'],
  },
  {
    name: 'a value that two of the oneOf schemas accept',
    chart: withSchema({ 'web/values.schema.json': JSON.stringify({ properties: { port: { oneOf: [{ type: 'integer' }, { minimum: 0 }] } } }), 'web/values.yaml': 'replicas: 1\nport: -1\n' }),
    values: packValues('    replicas: 1\n    port: 80\n'),
    code: 0,
    strict: 1,
    stdout: ['  warning values.yaml:10:5 charts.web.port: chart "web"', '/port: must match exactly one schema in oneOf'],
  },
  {
    name: 'a $ref the value fails',
    chart: withSchema({ 'web/values.schema.json': JSON.stringify({ definitions: { count: { type: 'integer' } }, properties: { replicas: { $ref: '#/definitions/count' } } }) }),
    values: packValues('    replicas: three\n'),
    code: 1,
    stdout: ['  error   values.yaml:9:5 charts.web.replicas: chart "web"', '/replicas: must be integer'],
  },
  {
    // Go's RE2 (Helm) is linear; JavaScript's engine would backtrack 2^40 times here: not judged, and quick.
    name: 'a pattern JavaScript would backtrack on for ever',
    chart: withSchema({ 'web/values.schema.json': JSON.stringify({ properties: { name: { type: 'string', pattern: '^(a+)+$' } } }), 'web/values.yaml': 'replicas: 1\nname: a\n' }),
    values: packValues(`    replicas: 1\n    name: ${'a'.repeat(40)}b\n`),
    code: 0,
    strict: 0,
    stdout: ['web:1.0.0 OK'],
  },
  {
    // A fixed count of an ambiguous group backtracks too: (\w+\s?){8} costs n^7 steps, (a|a){30} 2^30 (was: minutes).
    name: 'a fixed-count repeat of a group that repeats or alternates inside',
    chart: withSchema({ 'web/values.schema.json': JSON.stringify({ properties: { message: { type: 'string', pattern: '^(\\w+\\s?){8}$' }, name: { type: 'string', pattern: '^(a|a){30}$' } } }), 'web/values.yaml': 'replicas: 1\nname: a\nmessage: a\n' }),
    values: packValues(`    replicas: 1\n    message: ${'a'.repeat(100)}!\n    name: ${'a'.repeat(40)}b\n`),
    code: 0,
    strict: 0,
    stdout: ['web:1.0.0 OK'],
  },
  {
    name: 'two patterns, each value matching its own',
    chart: withSchema({ 'web/values.schema.json': JSON.stringify({ properties: { name: { type: 'string', pattern: '^[a-z]+$' }, endpoint: { type: 'string', pattern: '^.{2,256}:\\d{2,5}$' } } }), 'web/values.yaml': 'replicas: 1\nname: a\nendpoint: a:80\n' }),
    values: packValues('    replicas: 1\n    name: web\n    endpoint: localhost:4318\n'),
    code: 0,
    strict: 0,
    stdout: ['web:1.0.0 OK'],
  },
  {
    // A placeholder, maybe; and a value with a space that `\\S` refuses in Go too.
    name: 'values failing a pattern',
    chart: withSchema({ 'web/values.schema.json': JSON.stringify({ properties: { name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }, message: { type: 'string', pattern: '^\\S+$' } } }), 'web/values.yaml': 'replicas: 1\nname: a\nmessage: x\n' }),
    values: packValues('    replicas: 1\n    name: My_Name\n    message: "Hello Palette"\n'),
    code: 0,
    strict: 1,
    stdout: ['  warning values.yaml:10:5 charts.web.name: chart "web"', '/name: must match pattern', '/message: must match pattern'],
  },
  {
    name: 'an empty password the user is to fill in',
    chart: withSchema(),
    values: packValues('    replicas: 1\n    password: ""\n'),
    code: 0,
    strict: 1,
    stdout: ['  warning values.yaml:10:5 charts.web.password: chart "web"', '/password: must NOT have fewer than 1 characters; set these under charts.web in values.yaml, or list them in schema.yaml for Palette to ask the user'],
  },
  {
    name: 'a null that removes a required default (Helm drops a key set to null)',
    chart: withSchema(),
    values: packValues('    replicas:\n'),
    code: 0,
    strict: 1,
    stdout: ["  warning values.yaml:9:5 charts.web.replicas: chart \"web\"", "(top): must have required property 'replicas'"],
  },
  {
    name: 'an empty password that schema.yaml lists for Palette to ask the user',
    chart: withSchema(),
    values: packValues('    replicas: 1\n    password: ""\n'),
    schemaYaml: 'charts.web.password:\n  schema: \'{{ format "${password}" }}\'\n',
    code: 0,
    strict: 0,
    stdout: ['web:1.0.0 OK'],
  },
  {
    name: 'a Palette macro where the schema wants an integer',
    chart: withSchema(),
    values: packValues('    replicas: "{{ .spectro.system.cluster.replicas }}"\n'),
    code: 0,
    strict: 0,
    stdout: ['web:1.0.0 OK'],
  },
  {
    name: 'a schema with a $ref Helm would download',
    chart: withSchema({ 'web/values.schema.json': JSON.stringify({ type: 'object', properties: { replicas: { $ref: 'https://example.com/replicas.json' } } }) }),
    values: packValues('    replicas: "3"\n'),
    code: 0,
    strict: 0,
    stdout: ['web:1.0.0 OK'],
  },
  {
    name: 'a subchart behind a condition (Helm may leave it out)',
    chart: {
      'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\ndependencies:\n  - name: db\n    version: 1.0.0\n    condition: db.enabled\n',
      'web/charts/db/Chart.yaml': 'apiVersion: v2\nname: db\nversion: 1.0.0\n',
      'web/charts/db/values.yaml': 'port: 5432\n',
      'web/charts/db/values.schema.json': JSON.stringify({ type: 'object', properties: { port: { type: 'integer' } } }),
    },
    values: packValues('    replicas: 1\n    db:\n      enabled: false\n      port: five\n'),
    code: 0,
    strict: 0,
    stdout: ['web:1.0.0 OK'],
  },
  {
    name: 'a subchart whose condition the chart turns on',
    chart: dbChart('    condition: db.enabled\n', 'replicas: 1\ndb:\n  enabled: true\n'),
    values: packValues('    replicas: 1\n    db:\n      port: five\n'),
    code: 1,
    stdout: ['  error   values.yaml:11:7 charts.web.db.port: chart "web/db" of charts/web-1.0.0.tgz', '/port: must be integer'],
  },
  {
    // Helm reads each path of a condition in turn and takes the first that holds a boolean.
    name: 'a condition whose first path holds no boolean and whose second is false',
    chart: dbChart('    condition: db.mode,db.enabled\n', 'replicas: 1\ndb:\n  mode: on-demand\n  enabled: false\n'),
    values: packValues('    replicas: 1\n    db:\n      port: five\n'),
    code: 0,
    strict: 0,
    stdout: ['web:1.0.0 OK'],
  },
  {
    // Palette replaces the macro before Helm reads the condition, maybe with false: not judged.
    name: 'a subchart whose condition the pack sets with a Palette macro',
    chart: dbChart('    condition: db.enabled\n', 'replicas: 1\ndb:\n  enabled: true\n'),
    values: packValues('    replicas: 1\n    db:\n      enabled: "{{ .spectro.var.dbEnabled }}"\n      port: five\n'),
    code: 0,
    strict: 0,
    stdout: ['web:1.0.0 OK'],
  },
  {
    name: 'a subchart under its alias, given values under the alias',
    chart: dbChart('    alias: primary\n'),
    values: packValues('    replicas: 1\n    primary:\n      port: five\n'),
    code: 1,
    stdout: ['  error   values.yaml:11:7 charts.web.primary.port: chart "web/primary" of charts/web-1.0.0.tgz', "in the following chart(s): primary\"): /port: must be integer"],
  },
  {
    // Helm installs the aliased copy only: values under the chart's own name reach no schema.
    name: "a subchart under its alias, given values under the chart's own name",
    chart: dbChart('    alias: primary\n'),
    values: packValues('    replicas: 1\n    db:\n      port: five\n'),
    code: 0,
    stdout: ['web:1.0.0 OK'],
  },
  {
    name: 'a subchart whose only tag the pack turns off',
    chart: dbChart('    tags: [backend]\n'),
    values: packValues('    replicas: 1\n    tags:\n      backend: false\n    db:\n      port: five\n'),
    code: 0,
    strict: 0,
    stdout: ['web:1.0.0 OK'],
  },
  {
    name: 'a subchart with a tag the pack turns on',
    chart: dbChart('    tags: [backend]\n'),
    values: packValues('    replicas: 1\n    tags:\n      backend: true\n    db:\n      port: five\n'),
    code: 1,
    stdout: ['  error   values.yaml:13:7 charts.web.db.port: chart "web/db"', '/port: must be integer'],
  },
  {
    // import-values copies the subchart's table into the parent's `conn` (which the parent's schema requires).
    name: "a chart importing a subchart's values, with a wrong value in the subchart",
    chart: {
      ...dbChart('    import-values:\n      - child: conn\n        parent: conn\n'),
      'web/values.schema.json': JSON.stringify({ type: 'object', required: ['conn'], properties: { conn: { type: 'object', required: ['host'] } } }),
      'web/charts/db/values.yaml': 'port: 5432\nconn:\n  host: db\n',
    },
    values: packValues('    replicas: 1\n    db:\n      port: five\n'),
    code: 1,
    stdout: ['  error   values.yaml:11:7 charts.web.db.port: chart "web/db"', '/port: must be integer'],
  },
  {
    // The short form imports the subchart's exports into the parent's top, where the schema finds them.
    name: "a chart importing a subchart's exports that its schema requires",
    chart: exportingChart('db'),
    code: 0,
    strict: 0,
    stdout: ['web:1.0.0 OK'],
  },
  {
    // Every Helm 3 imports the number the parent's values lack; the pack does not set it: a warning.
    name: "a chart importing a subchart's export of the wrong kind",
    chart: exportingChart('5'),
    code: 0,
    strict: 1,
    stdout: ['  warning charts/web-1.0.0.tgz: chart "web" of charts/web-1.0.0.tgz has a values.schema.json that the values as published fail', '/host: must be string'],
  },
  {
    // Every Helm 3 (ProcessDependencies, then the install's coalesce) drops a subchart's own null defaults.
    name: "a subchart's null default under a chart that declares it (Helm deletes it before the schema sees it)",
    chart: {
      'web/Chart.yaml': DB_DEPENDENCY,
      'web/charts/db/Chart.yaml': 'apiVersion: v2\nname: db\nversion: 1.0.0\n',
      'web/charts/db/values.yaml': 'label: null\n',
      'web/charts/db/values.schema.json': JSON.stringify({ type: 'object', properties: { label: { type: 'string' } } }),
    },
    code: 0,
    strict: 0,
    stdout: ['web:1.0.0 OK'],
  },
  {
    // Helm up to 3.17 deletes it too, 3.20 and later keep it: versions disagree, nothing is reported.
    name: "a subchart's nested null default under a chart that declares it",
    chart: {
      'web/Chart.yaml': DB_DEPENDENCY,
      'web/charts/db/Chart.yaml': 'apiVersion: v2\nname: db\nversion: 1.0.0\n',
      'web/charts/db/values.yaml': 'conf:\n  label: null\n',
      'web/charts/db/values.schema.json': JSON.stringify({ type: 'object', properties: { conf: { type: 'object', properties: { label: { type: 'string' } } } } }),
    },
    code: 0,
    strict: 0,
    stdout: ['web:1.0.0 OK'],
  },
  {
    // Helm 3.2 to 3.17 delete a nested null given over a null default, 3.0 and 3.20 keep it.
    name: 'a nested null given over a nested null default',
    chart: withSchema({ 'web/values.schema.json': JSON.stringify({ properties: { conf: { type: 'object', properties: { label: { type: 'string' } } } } }), 'web/values.yaml': 'replicas: 1\nconf:\n  label: null\n' }),
    values: packValues('    replicas: 1\n    conf:\n      label: null\n'),
    code: 0,
    strict: 0,
    stdout: ['web:1.0.0 OK'],
  },
  {
    // Helm 3.0 keeps the null (not a string), every later Helm deletes the key (required): all refuse.
    name: 'a nested null given over a required nested default (every Helm refuses, each for its reason)',
    chart: withSchema({ 'web/values.schema.json': JSON.stringify({ properties: { conf: { type: 'object', required: ['label'], properties: { label: { type: 'string' } } } } }), 'web/values.yaml': 'replicas: 1\nconf:\n  label: x\n' }),
    values: packValues('    replicas: 1\n    conf:\n      label:\n'),
    code: 0,
    strict: 1,
    stdout: ['  warning values.yaml:11:7 charts.web.conf.label: chart "web"', "/conf: must have required property 'label'"],
  },
  {
    // Helm runs patterns with Go's RE2: `.` is anything but \n, `\s` only [\t\n\f\r ] (JavaScript's: every Unicode space).
    name: 'patterns whose `.` and `\\s` Go reads otherwise than JavaScript',
    chart: withSchema({
      'web/values.schema.json': JSON.stringify({ properties: { message: { type: 'string', pattern: '^\\S+$' }, note: { type: 'string', pattern: '^.+$' }, tag: { type: 'string', pattern: '^[^\\s]+$' } } }),
      'web/values.yaml': 'replicas: 1\nmessage: x\ntag: x\nnote: "line\\rend"\n',
    }),
    values: packValues('    replicas: 1\n    message: "Hello\\u00a0Palette"\n    tag: "a\\u2003b"\n'),
    code: 0,
    strict: 0,
    stdout: ['web:1.0.0 OK'],
  },
  {
    // Go and JavaScript name Unicode properties differently and may hold other Unicode versions: not judged.
    name: 'a pattern with a Unicode property class',
    chart: withSchema({ 'web/values.schema.json': JSON.stringify({ properties: { name: { type: 'string', pattern: '^\\p{L}+$' } } }), 'web/values.yaml': 'replicas: 1\nname: a\n' }),
    values: packValues('    replicas: 1\n    name: web1\n'),
    code: 0,
    strict: 0,
    stdout: ['web:1.0.0 OK'],
  },
];

describe("a chart's values.schema.json against the pack's values", () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-e2e-values-schema-');
    await writeValidPackPerCase(root, CASES, async (dir, c) => {
      await putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ ...CHART_FILES, ...c.chart }));
      if (c.values !== undefined) await putFile(dir, 'values.yaml', c.values);
      if (c.schemaYaml !== undefined) await putFile(dir, 'schema.yaml', c.schemaYaml);
    });
    return { root };
  });

  it.each(CASES.map((c, i) => ({ ...c, i })))('$name: validate exits $code', async ({ i, code, stdout, strict }) => {
    const dir = join(w.root, `case-${i}`);
    const validate = await runCli(['validate', dir], { env: { NO_COLOR: '1' } });
    expectRun(validate, { code, stdout });
    if (strict !== undefined) expectRun(await runCli(['validate', '--strict', dir], { env: { NO_COLOR: '1' } }), { code: strict });
    if (code === 1) {
      const layout = join(w.root, `layout-${i}`);
      const push = await runCli(['push', dir, '--oci-layout', layout], { env: { NO_COLOR: '1' } });
      expect(push.code).toBe(1);
      expect(push.stdout + push.stderr).toContain('INVALID web:1.0.0: 1 error(s) in validation');
      await expect(access(join(layout, 'spectro-packs/archive/web'))).rejects.toThrow();
    }
  });

  // One process compiles every case's schema (on one ajv instance per draft, issue 16): each verdict is the
  // one the case gets alone.
  it('every case validated in one run gets the findings it gets alone', async () => {
    const validate = await runCli(['validate', '--json', ...CASES.map((_, i) => join(w.root, `case-${i}`))], { env: { NO_COLOR: '1' } });
    expect(validate.code).toBe(1);
    const reports = JSON.parse(validate.stdout) as Array<{ findings: Array<{ rule: string; severity: string; message: string }> }>;
    expect(reports).toHaveLength(CASES.length);
    CASES.forEach((c, i) => {
      const found = (reports[i]?.findings ?? []).filter((f) => f.rule === 'chart-values-schema');
      const wanted = c.code === 1 ? 'error' : c.strict === 1 ? 'warning' : undefined;
      expect(found.map((f) => f.severity), c.name).toEqual(wanted === undefined ? [] : [wanted]);
      for (const piece of c.stdout.filter((l) => l !== 'web:1.0.0 OK')) expect(found[0]?.message, c.name).toContain(piece.startsWith('  ') ? piece.slice(piece.indexOf('chart "')) : piece);
    });
  });
});
