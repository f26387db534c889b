import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Finding } from './findings.js';
import { formatPath, type PathSegment, type SourcePosition } from './json-source.js';
import { DEPENDENCY_TYPES, PACK_JSON, PACK_LAYERS, RESOURCE_TYPES, SCHEDULE_TYPES } from './model.js';

const nonEmptyString = { type: 'string', minLength: 1 } as const;

/**
 * JSON Schema of pack.json (palette-packs.md, "pack.json"). Extra keys are allowed everywhere: real
 * packs carry commit_msg, kubeVersion, readme, and Palette ignores what it does not know.
 */
export const PACK_JSON_SCHEMA = {
  type: 'object',
  required: ['name', 'displayName', 'version', 'layer'],
  properties: {
    name: nonEmptyString,
    displayName: nonEmptyString,
    version: nonEmptyString,
    layer: { enum: [...PACK_LAYERS] },
    cloudTypes: { type: 'array', items: { type: 'string' } },
    cloudType: { type: 'string' },
    group: { type: 'string' },
    addonType: { type: 'string' },
    addonSubType: { type: 'string' },
    eol: { type: 'string' },
    ansibleRoles: { type: 'array', items: { type: 'string' } },
    charts: { type: 'array', items: nonEmptyString },
    kubeManifests: { type: 'array', items: nonEmptyString },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
    constraints: {
      type: 'object',
      properties: {
        dependencies: {
          type: 'array',
          items: {
            type: 'object',
            // pack-central's schema also requires `type`; Palette serves packs without it (validate warns).
            required: ['packName', 'layer'],
            properties: {
              packName: nonEmptyString,
              layer: { enum: [...PACK_LAYERS] },
              minVersion: { type: 'string' },
              maxVersion: { type: 'string' },
              type: { enum: [...DEPENDENCY_TYPES] },
            },
          },
        },
        resources: {
          type: 'array',
          items: {
            type: 'object',
            required: ['type'],
            properties: {
              type: { enum: [...RESOURCE_TYPES] },
              minLimit: { type: 'number' },
              components: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['scheduleType'],
                  properties: {
                    scheduleType: { enum: [...SCHEDULE_TYPES] },
                    resourceRequestParamRef: { type: 'string' },
                    replicaCountParamRef: { type: 'string' },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
} as const;

/** Most schema findings reported per pack; past that the file is probably not a pack.json at all. */
const MAX_SCHEMA_FINDINGS = 50;

const EXAMPLES: Record<string, string> = {
  name: '"my-pack" (lowercase; it becomes the OCI repository name)',
  displayName: '"My Pack" (shown in Palette)',
  version: '"1.0.0" (semantic version; it becomes the OCI tag)',
  packName: '"kubernetes"',
};

let compiled: Promise<ValidateFunction> | undefined;

/**
 * Compiled on first use so that commands which never validate do not pay for ajv. The schema is a
 * constant checked against the meta-schema by a unit test, so that check (a third of the start-up
 * cost) and code optimisation are skipped here.
 */
function validator(): Promise<ValidateFunction> {
  compiled ??= import('ajv').then(({ Ajv }) =>
    new Ajv({ allErrors: true, strict: true, validateSchema: false, code: { optimize: false } }).compile(PACK_JSON_SCHEMA),
  );
  return compiled;
}

/** A JSON pointer (ajv's instancePath) as path segments, array indexes as numbers. */
export function pointerToSegments(pointer: string, root: unknown): PathSegment[] {
  if (pointer === '') return [];
  const segments: PathSegment[] = [];
  let node: unknown = root;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const index = Number(key);
      segments.push(index);
      node = node[index];
    } else {
      segments.push(key);
      node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return segments;
}

function valueAt(root: unknown, segments: readonly PathSegment[]): unknown {
  let node = root;
  for (const s of segments) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string | number, unknown>)[s];
  }
  return node;
}

function jsonTypeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** The position of a path, or of its nearest ancestor that has one. */
export function locate(positions: Map<string, SourcePosition>, segments: readonly PathSegment[]): SourcePosition | undefined {
  for (let n = segments.length; n >= 0; n--) {
    const found = positions.get(formatPath(segments.slice(0, n)));
    if (found !== undefined) return found;
  }
  return undefined;
}

function describe(error: ErrorObject, value: unknown): { segments: PathSegment[]; message: string } | undefined {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required': {
      const prop = String(params['missingProperty']);
      const allowed = prop === 'layer' ? PACK_LAYERS : prop === 'type' ? DEPENDENCY_TYPES : undefined;
      const example = allowed !== undefined ? `one of ${allowed.join(', ')}` : (EXAMPLES[prop] ?? 'a value');
      return { segments: [prop], message: `required field "${prop}" is missing; add it, e.g. ${example}` };
    }
    case 'enum': {
      const allowed = (params['allowedValues'] as unknown[]).map(String);
      return { segments: [], message: `must be one of ${allowed.join(', ')} (found ${JSON.stringify(value) ?? String(value)})` };
    }
    case 'type': {
      // 1e400 parses to Infinity, which is no JSON number; the parser already reported it (pack-json-number).
      if (typeof value === 'number' && !Number.isFinite(value)) return undefined;
      const expected = String(params['type']);
      const article = expected === 'object' || expected === 'array' ? 'an' : 'a';
      let message = `must be ${article} ${expected} (found ${jsonTypeOf(value)})`;
      if (expected === 'string' && (typeof value === 'number' || typeof value === 'boolean')) {
        message += `; put it in double quotes: "${String(value)}"`;
      }
      return { segments: [], message };
    }
    case 'minLength':
      return { segments: [], message: 'must not be empty' };
    default:
      return { segments: [], message: error.message ?? 'does not match the pack.json schema' };
  }
}

/** Schema violations of a parsed pack.json, each located by JSON path and line. */
export async function schemaFindings(json: unknown, positions: Map<string, SourcePosition>): Promise<Finding[]> {
  const validate = await validator();
  if (validate(json)) return [];
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    const base = pointerToSegments(error.instancePath, json);
    const d = describe(error, valueAt(json, base));
    if (d === undefined) continue;
    const segments = [...base, ...d.segments];
    const path = formatPath(segments);
    const key = `${path}\0${d.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const at = locate(positions, base);
    findings.push({
      severity: 'error',
      rule: 'pack-json-schema',
      file: PACK_JSON,
      ...(path === '' ? {} : { path }),
      ...(at === undefined ? {} : { line: at.line, column: at.column }),
      message: path === '' ? `pack.json ${d.message}` : d.message,
    });
    if (findings.length >= MAX_SCHEMA_FINDINGS) break;
  }
  return findings;
}
