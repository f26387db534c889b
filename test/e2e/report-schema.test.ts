import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { sha256Digest } from '../../src/oci/digest.js';
import { MEDIA_TYPE_OCI_MANIFEST } from '../../src/oci/media-types.js';
import { packRepository } from '../../src/pack/naming.js';
import { openTarget } from '../../src/targets/open.js';
import { runCli } from '../support/cli.js';
import { tempDir } from '../support/files.js';
import { writePack } from '../support/packs.js';

/*
 * The JSON report is a contract (docs/report.md): every document and line the CLI prints must validate
 * against docs/report.schema.json, which rejects undocumented fields.
 */

const SCHEMA_PATH = fileURLToPath(new URL('../../docs/report.schema.json', import.meta.url));
const ENV = { SOURCE_DATE_EPOCH: '1700000000' };

let validateDocument: ValidateFunction;
let validateLine: ValidateFunction;
let validateListOutput: ValidateFunction;
let validateInspectOutput: ValidateFunction;
let schema: { $id: string; $defs: Record<string, unknown> };
let root: string;
let cleanup: () => Promise<void>;
let valid: string;
let valid2: string;
let invalid: string;
let conflicting: string;
let layout: string;

function expectValid(validate: ValidateFunction, value: unknown): void {
  const ok = validate(value);
  expect(ok, JSON.stringify(validate.errors, null, 2)).toBe(true);
}

interface Summary {
  total: number;
  [status: string]: number;
}

function expectCountsAddUp(summary: Summary, statuses: string[]): void {
  expect(statuses.reduce((n, s) => n + (summary[s] ?? 0), 0)).toBe(summary.total);
}

const PUSH_STATUSES = ['published', 'unchanged', 'overwritten', 'skipped', 'conflict', 'invalid', 'failed', 'planned'];
const COPY_STATUSES = ['copied', 'unchanged', 'overwritten', 'skipped', 'conflict', 'failed', 'planned'];

beforeAll(async () => {
  schema = JSON.parse(await readFile(SCHEMA_PATH, 'utf8')) as typeof schema;
  // ajv defaults (strictRequired off): `required` inside if/then names properties declared one level up.
  const ajv = new Ajv2020({ allErrors: true });
  ajv.addSchema(schema);
  validateDocument = ajv.getSchema(schema.$id) as ValidateFunction;
  validateLine = ajv.getSchema(`${schema.$id}#/$defs/jsonLine`) as ValidateFunction;
  validateListOutput = ajv.getSchema(`${schema.$id}#/$defs/listOutput`) as ValidateFunction;
  validateInspectOutput = ajv.getSchema(`${schema.$id}#/$defs/inspectOutput`) as ValidateFunction;
  ({ dir: root, cleanup } = await tempDir('packpub-report-'));
  layout = join(root, 'layout');
  valid = await writePack(join(root, 'packs/hello-1.0.0'), { name: 'hello', version: '1.0.0' });
  valid2 = await writePack(join(root, 'packs/world-2.0.0'), { name: 'world', version: '2.0.0' });
  invalid = await writePack(join(root, 'packs/broken-0.1.0'), { name: 'broken', version: '0.1.0', packJson: { layer: 'nope' } });
  conflicting = await writePack(join(root, 'packs/clash-1.0.0'), { name: 'clash', version: '1.0.0' });
  // Publish another build of clash:1.0.0 first, so the run below meets a conflict.
  const other = await writePack(join(root, 'other/clash-1.0.0'), { name: 'clash', version: '1.0.0', files: { 'README.md': '# another build\n' } });
  const first = await runCli(['push', other, '--oci-layout', layout], { env: ENV });
  expect(first.code, first.stderr).toBe(0);
});
afterAll(async () => cleanup?.());

describe('push --json', () => {
  it('validates with published, invalid and conflict results, and exits 1', async () => {
    const run = await runCli(['push', valid, invalid, conflicting, '--oci-layout', layout, '--continue-on-error', '--json'], { env: ENV });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { ok: boolean; summary: Summary; results: Array<{ status: string; name?: string; findings?: unknown[] }> };
    expectValid(validateDocument, report);
    expect(report.ok).toBe(false);
    expect(report.results.map((r) => `${r.name}:${r.status}`).sort()).toEqual(['broken:invalid', 'clash:conflict', 'hello:published']);
    expect(report.results.find((r) => r.status === 'invalid')?.findings?.length).toBeGreaterThan(0);
    expect(report.summary).toMatchObject({ total: 3, published: 1, invalid: 1, conflict: 1 });
    expectCountsAddUp(report.summary, PUSH_STATUSES);
  });

  it('validates when nothing is pushed because another pack is invalid', async () => {
    const run = await runCli(['push', valid2, invalid, '--oci-layout', layout, '--json'], { env: ENV });
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as { results: Array<{ name?: string; status: string; error?: { code: string } }> };
    expectValid(validateDocument, report);
    expect(report.results.find((r) => r.name === 'world')).toMatchObject({ status: 'failed', error: { code: 'PACK_INVALID' } });
  });

  it('validates unchanged and skipped results, with ok true and exit 0', async () => {
    const run = await runCli(['push', valid, conflicting, '--oci-layout', layout, '--skip-existing', '--json'], { env: ENV });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { ok: boolean; results: Array<{ status: string }> };
    expectValid(validateDocument, report);
    expect(report.ok).toBe(true);
    expect(report.results.map((r) => r.status).sort()).toEqual(['skipped', 'unchanged']);
  });

  it('validates --dry-run plans', async () => {
    const run = await runCli(['push', valid, valid2, conflicting, '--oci-layout', layout, '--dry-run', '--json'], { env: ENV });
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as { summary: Summary; results: Array<{ name: string; status: string; plan: string; bytesToUpload: number }> };
    expectValid(validateDocument, report);
    const plans = Object.fromEntries(report.results.map((r) => [r.name, r.plan]));
    expect(plans).toEqual({ hello: 'unchanged', world: 'new', clash: 'conflict' });
    expect(report.results.find((r) => r.name === 'world')?.bytesToUpload).toBeGreaterThan(0);
    expect(report.summary.planned).toBe(3);
  });

  it('prints --json-lines results then one summary line, every line valid', async () => {
    const run = await runCli(['push', valid, invalid, conflicting, valid2, '--oci-layout', layout, '--continue-on-error', '--json-lines', '--force'], { env: ENV });
    expect(run.code).toBe(1);
    const lines = run.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string; summary?: Summary });
    for (const line of lines) expectValid(validateLine, line);
    const last = lines[lines.length - 1];
    expect(last?.type).toBe('summary');
    expect(lines.filter((l) => l.type === 'summary')).toHaveLength(1);
    expect(lines.filter((l) => l.type === 'result')).toHaveLength(last?.summary?.total ?? -1);
    expectCountsAddUp(last?.summary ?? { total: -1 }, PUSH_STATUSES);
  });

  it('prints no JSON on a usage error, and exits 2', async () => {
    const run = await runCli(['push', join(root, 'missing'), '--oci-layout', layout, '--json']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('error:');
  });

  it('the schema rejects fields the documentation does not describe', async () => {
    const run = await runCli(['push', valid, '--oci-layout', layout, '--json'], { env: ENV });
    const report = JSON.parse(run.stdout) as { results: Array<Record<string, unknown>> };
    expectValid(validateDocument, report);
    const first = report.results[0];
    if (first === undefined) throw new Error('no result');
    first['undocumented'] = true;
    expect(validateDocument(report)).toBe(false);
    delete first['undocumented'];
    first['status'] = 'published-ish';
    expect(validateDocument(report)).toBe(false);
  });
});

describe('copy --json', () => {
  it('validates copied, unchanged, conflict and planned results', async () => {
    const dst = join(root, 'copy-dst');
    // Our build of clash:1.0.0 at the source, the other build at the destination.
    expect((await runCli(['push', conflicting, '--oci-layout', layout, '--force'], { env: ENV })).code).toBe(0);
    const seed = await runCli(['push', join(root, 'other/clash-1.0.0'), '--oci-layout', dst], { env: ENV });
    expect(seed.code, seed.stderr).toBe(0);

    const run = await runCli(['copy', '--all', '--from', `oci:${layout}`, '--to', `oci:${dst}`, '--json']);
    const report = JSON.parse(run.stdout) as { ok: boolean; summary: Summary; results: Array<{ status: string }> };
    expectValid(validateDocument, report);
    expectCountsAddUp(report.summary, COPY_STATUSES);
    expect(report.results.map((r) => r.status)).toContain('conflict');
    expect(report.ok).toBe(false);
    expect(run.code).toBe(1);

    const again = await runCli(['copy', '--all', '--from', `oci:${layout}`, '--to', `oci:${dst}`, '--skip-existing', '--json']);
    expect(again.code, again.stderr).toBe(0);
    const second = JSON.parse(again.stdout) as { results: Array<{ status: string }> };
    expectValid(validateDocument, second);
    expect(second.results.map((r) => r.status)).toContain('skipped');

    const plan = await runCli(['copy', '--all', '--from', `oci:${layout}`, '--to', `oci:${join(root, 'copy-plan')}`, '--dry-run', '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    expectValid(validateDocument, JSON.parse(plan.stdout));
  });

  it('prints valid --json-lines', async () => {
    const run = await runCli(['copy', 'hello', '--all', '--from', `oci:${layout}`, '--to', `oci:${join(root, 'copy-lines')}`, '--json-lines']);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { type: string });
    for (const line of lines) expectValid(validateLine, line);
    expect(lines.map((l) => l.type)).toEqual(['result', 'summary']);
  });
});

/** Every field name the schema node gives an object, through local $refs; `free` fields' insides are not followed. */
function schemaFields(schema: Record<string, unknown>, node: unknown, free: ReadonlySet<string>, out = new Set<string>()): Set<string> {
  const n = node as { $ref?: string; properties?: Record<string, unknown>; items?: unknown };
  if (n.$ref !== undefined) return schemaFields(schema, (schema['$defs'] as Record<string, unknown>)[n.$ref.replace('#/$defs/', '')], free, out);
  if (n.items !== undefined) schemaFields(schema, n.items, free, out);
  for (const [name, sub] of Object.entries(n.properties ?? {})) {
    out.add(name);
    if (!free.has(name)) schemaFields(schema, sub, free, out);
  }
  return out;
}

/** The field names in the first column of the tables of docs/report.md's section `heading`. */
function documentedFields(markdown: string, heading: string): Set<string> {
  const start = markdown.indexOf(`\n## ${heading}\n`);
  expect(start, heading).toBeGreaterThan(-1);
  const end = markdown.indexOf('\n## ', start + 1);
  const section = markdown.slice(start, end === -1 ? undefined : end);
  const names = new Set<string>();
  for (const line of section.split('\n')) {
    const cell = /^\| ([^|]+) \|/.exec(line)?.[1];
    if (cell === undefined || cell === 'field' || cell.startsWith('---')) continue;
    for (const m of cell.matchAll(/`([^`]+)`/g)) names.add(m[1]!);
  }
  return names;
}

describe('list --json and inspect --json', () => {
  it('print what docs/report.md documents, field for field, and the schema holds (a tag that is no pack too)', async () => {
    const store = join(root, 'list-layout');
    expect((await runCli(['push', valid, '--oci-layout', store], { env: ENV })).code).toBe(0);
    // A Helm chart under the base path: listed, with notPack.
    const target = await openTarget({ ociLayout: store });
    const repo = packRepository('', 'nginx');
    const config = Buffer.from('{}');
    const layer = Buffer.from('not read');
    const configDesc = { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: sha256Digest(config), size: config.length };
    const layerDesc = { mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', digest: sha256Digest(layer), size: layer.length };
    await target.store.pushBlob(repo, configDesc, () => Readable.from([config]));
    await target.store.pushBlob(repo, layerDesc, () => Readable.from([layer]));
    await target.store.pushManifest(repo, '1.0.0', Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPE_OCI_MANIFEST, config: configDesc, layers: [layerDesc] })), MEDIA_TYPE_OCI_MANIFEST);
    await target.store.close();

    const list = await runCli(['list', '--oci-layout', store, '--json']);
    expect(list.code, list.stderr).toBe(0);
    const listed = JSON.parse(list.stdout) as { packs: Array<{ name: string; versions: Array<{ version: string; notPack?: string; size?: number }> }> };
    expectValid(validateListOutput, listed);
    expectValid(validateDocument, listed);
    expect(listed.packs.map((p) => [p.name, p.versions.map((v) => [v.version, v.notPack ?? v.size])])).toEqual([
      ['hello', [['1.0.0', expect.any(Number)]]],
      ['nginx', [['1.0.0', 'a Helm chart']]],
    ]);

    const inspect = await runCli(['inspect', 'hello:1.0.0', '--oci-layout', store, '--json']);
    expect(inspect.code, inspect.stderr).toBe(0);
    const inspected = JSON.parse(inspect.stdout) as { layer: { title?: string }; packJson?: { name?: string } };
    expectValid(validateInspectOutput, inspected);
    expect(inspected).toMatchObject({ layer: { title: 'hello-1.0.0.tar.gz' }, packJson: { name: 'hello' } });

    const markdown = await readFile(fileURLToPath(new URL('../../docs/report.md', import.meta.url)), 'utf8');
    const free = new Set(['content', 'packJson']);
    expect([...documentedFields(markdown, '`list --json`')].sort()).toEqual([...schemaFields(schema, schema['$defs'].listOutput, free)].sort());
    expect([...documentedFields(markdown, '`inspect --json`')].sort()).toEqual([...schemaFields(schema, schema['$defs'].inspectOutput, free)].sort());
  });
});
