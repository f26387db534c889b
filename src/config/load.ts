import type { ErrorObject, ValidateFunction } from 'ajv';
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { isEcrHost } from '../aws/ecr-host.js';
import { PackpubError, isPackpubError } from '../errors.js';
import { parseRegistryLocation } from '../oci/reference.js';
import { formatPath, type PathSegment, type SourcePosition } from '../pack/json-source.js';
import { pointerToSegments } from '../pack/schema.js';
import { CONFIG_FILE_NAMES, CONFIG_SCHEMA, CONFIG_VERSION, knownKeys, type ConfigTarget, type PackpubConfig } from './schema.js';

/** A configuration file is a page of settings; anything this big is a mistake or an attack. */
export const MAX_CONFIG_BYTES = 256 * 1024;

export interface LoadConfigOptions {
  /** `--config FILE`; when undefined, PACKPUB_CONFIG, else packpub.yaml / packpub.yml in `cwd`. */
  path?: string;
  cwd: string;
  env?: NodeJS.ProcessEnv;
}

export interface LoadedConfig {
  /** Undefined when no file was given or found (that is fine: the file is optional). */
  config?: PackpubConfig;
  /** Absolute path of the file read. */
  file?: string;
  /** Things worth telling the user that do not stop the run (settings that will be ignored, ...). */
  warnings: string[];
}

const CONFIG_HINT = 'fix the file (docs/configuration.md lists every key), or point --config at another file';

interface Problem {
  path: PathSegment[];
  message: string;
}

let compiled: Promise<ValidateFunction> | undefined;

/** Compiled on first use: commands that never read a config file do not pay for ajv. */
function validator(): Promise<ValidateFunction> {
  compiled ??= import('ajv').then(({ Ajv }) => new Ajv({ allErrors: true, strict: true }).compile(CONFIG_SCHEMA));
  return compiled;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Where the configuration comes from: --config, then PACKPUB_CONFIG, then the working directory. */
async function locate(options: LoadConfigOptions, env: NodeJS.ProcessEnv, warnings: string[]): Promise<string | undefined> {
  const given = options.path ?? env['PACKPUB_CONFIG'];
  if (given !== undefined) {
    const from = options.path !== undefined ? '--config' : 'PACKPUB_CONFIG';
    // Set but empty is a mistake (an unset CI variable), never "no file": the run would use other targets.
    if (given.trim() === '') {
      throw new PackpubError('CONFIG', `${from} is set but empty`, {
        hint: `name the configuration file, or leave ${from} out to use ./packpub.yaml (an unset CI variable often leaves it empty)`,
      });
    }
    const path = resolve(options.cwd, given);
    if (!(await isFile(path))) {
      throw new PackpubError('CONFIG', `${from} names ${given}, which is not a readable file`, {
        hint: `check the path (relative paths start at ${options.cwd}), or leave ${from} out to use ./packpub.yaml`,
      });
    }
    return path;
  }
  const found: string[] = [];
  for (const name of CONFIG_FILE_NAMES) if (await isFile(join(options.cwd, name))) found.push(join(options.cwd, name));
  if (found.length > 1) warnings.push(`both ${CONFIG_FILE_NAMES.join(' and ')} exist; reading ${CONFIG_FILE_NAMES[0]} only`);
  return found[0];
}

function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}


/** The closest key whose spelling differs only by case or one or two edits, for "did you mean". */
function closest(word: string, candidates: string[]): string | undefined {
  const lower = word.toLowerCase();
  const byCase = candidates.find((c) => c.toLowerCase() === lower);
  if (byCase !== undefined) return byCase;
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let prev = row[0] ?? 0;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const cur = row[j] ?? 0;
        row[j] = Math.min(cur + 1, (row[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = cur;
      }
    }
    return row[b.length] ?? Infinity;
  };
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = distance(lower, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  boolean: 'true or false',
  integer: 'a whole number',
  number: 'a number',
  array: 'a list',
  object: 'a mapping (key: value lines)',
};

function describeAjvError(err: ErrorObject, data: unknown): Problem | undefined {
  const path = pointerToSegments(err.instancePath, data);
  const last = path[path.length - 1];
  switch (err.keyword) {
    case 'additionalProperties': {
      const key = String((err.params as { additionalProperty: string }).additionalProperty);
      const known = knownKeys(path);
      const guess = closest(key, known);
      return {
        path: [...path, key],
        message: `unknown key${guess === undefined ? '' : `; did you mean "${guess}"?`}${known.length > 0 ? ` (known here: ${known.join(', ')})` : ''}`,
      };
    }
    case 'propertyNames': {
      const name = String((err.params as { propertyName: string }).propertyName);
      return { path: [...path, name], message: 'is not a valid target name: use letters, digits, "_", "." and "-" (at most 63, starting with a letter or digit)' };
    }
    case 'type':
      return { path, message: `must be ${TYPE_WORDS[String((err.params as { type: string }).type)] ?? String((err.params as { type: string }).type)}` };
    case 'enum': {
      const allowed = (err.params as { allowedValues: unknown[] }).allowedValues.map(String);
      return { path, message: `must be one of ${allowed.join(', ')}` };
    }
    case 'minLength':
      return { path, message: 'must not be empty' };
    case 'minItems':
      return { path, message: 'must not be an empty list' };
    case 'minimum':
    case 'maximum':
      return { path, message: 'must be between 1 and 64' };
    case 'anyOf':
      return { path, message: 'must be a target name or a list of target names' };
    case 'pattern': {
      if (last === 'passwordEnv') return { path, message: 'must be the name of an environment variable (letters, digits and "_", e.g. HARBOR_PASSWORD)' };
      if (path.includes('resolve')) return { path, message: 'must be HOST:PORT:ADDRESS, as curl --resolve' };
      return { path, message: 'is not a valid target name: use letters, digits, "_", "." and "-"' };
    }
    default:
      return { path, message: err.message ?? 'is not valid' };
  }
}

/** Keys named like a secret: a password in the file would end up in git and in CI logs. */
function findSecrets(node: unknown, path: PathSegment[], out: Problem[]): void {
  if (Array.isArray(node)) {
    node.forEach((v, i) => findSecrets(v, [...path, i], out));
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  // ECR resource tags are free-form user data, not settings.
  if (path.length >= 2 && path[path.length - 2] === 'ecr' && path[path.length - 1] === 'tags') return;
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (/^(password|passwd|secret|token|identitytoken)$/i.test(key)) {
      out.push({
        path: [...path, key],
        message:
          'a password or token must not be written in the configuration file; set auth.passwordEnv to the name of an environment variable that holds it (e.g. passwordEnv: HARBOR_PASSWORD, filled from your CI secrets)',
      });
    } else findSecrets(value, [...path, key], out);
  }
}

function checkTarget(name: string, t: ConfigTarget, problems: Problem[], warnings: string[], where: string): void {
  const at = (...rest: PathSegment[]): PathSegment[] => ['targets', name, ...rest];
  if (t.registry === undefined && t.ociLayout === undefined) {
    problems.push({ path: at(), message: 'give either registry (HOST[:PORT]/BASE-PATH) or ociLayout (a directory)' });
  } else if (t.registry !== undefined && t.ociLayout !== undefined) {
    problems.push({ path: at('ociLayout'), message: 'registry and ociLayout exclude each other: keep one' });
  }
  let host: string | undefined;
  if (t.registry !== undefined) {
    try {
      host = parseRegistryLocation(t.registry).host;
    } catch (err) {
      if (!isPackpubError(err)) throw err;
      problems.push({ path: at('registry'), message: `${err.message}${err.hint === undefined ? '' : ` (${err.hint})`}` });
    }
  }
  if (t.ociLayout !== undefined) {
    const ignored = (['type', 'auth', 'tls', 'resolve', 'ecr', 'harbor'] as const).filter((k) => t[k] !== undefined);
    if (ignored.length > 0) warnings.push(`${where}: targets.${name} is an OCI layout; ${ignored.join(', ')} ignored`);
  }
  const auth = t.auth ?? {};
  if (auth.username !== undefined && auth.passwordEnv === undefined) {
    problems.push({ path: at('auth', 'username'), message: 'needs auth.passwordEnv: the name of the environment variable that holds the password' });
  }
  if (auth.passwordEnv !== undefined && auth.username === undefined) {
    problems.push({ path: at('auth', 'passwordEnv'), message: 'needs auth.username: the user the password belongs to' });
  }
  if ((t.tls?.certFile === undefined) !== (t.tls?.keyFile === undefined)) {
    problems.push({ path: at('tls', t.tls?.certFile === undefined ? 'keyFile' : 'certFile'), message: `needs tls.${t.tls?.certFile === undefined ? 'certFile' : 'keyFile'}: a client certificate is a certificate and its key` });
  }
  if (t.ecr?.kmsKey !== undefined && t.ecr.encryption !== 'KMS' && t.ecr.encryption !== 'KMS_DSSE') {
    problems.push({ path: at('ecr', 'kmsKey'), message: 'needs ecr.encryption: KMS or KMS_DSSE' });
  }
  const isEcr = t.type === 'ecr' || (t.type === undefined && host !== undefined && isEcrHost(host));
  if (t.ecr !== undefined && t.registry !== undefined && !isEcr) {
    warnings.push(`${where}: targets.${name}.ecr is ignored: ${t.registry} is not an ECR registry (set type: ecr if it is one)`);
  }
  if (t.harbor !== undefined && t.registry !== undefined && t.type !== 'harbor') {
    warnings.push(`${where}: targets.${name}.harbor is ignored without type: harbor`);
  }
}

function expandPath(value: string, base: string, env: NodeJS.ProcessEnv): string {
  const home = env['HOME'] ?? env['USERPROFILE'];
  if ((value === '~' || value.startsWith('~/')) && home !== undefined) return join(home, value.slice(1));
  return resolve(base, value);
}

/** Relative paths in the file are relative to the file's folder, wherever packpub runs from. */
function resolvePaths(config: PackpubConfig, base: string, env: NodeJS.ProcessEnv): PackpubConfig {
  const out: PackpubConfig = { ...config };
  if (config.packs !== undefined) out.packs = config.packs.map((p) => expandPath(p, base, env));
  if (config.targets !== undefined) {
    out.targets = {};
    for (const [name, t] of Object.entries(config.targets)) {
      const target: ConfigTarget = { ...t };
      if (t.ociLayout !== undefined) target.ociLayout = expandPath(t.ociLayout, base, env);
      if (t.tls !== undefined) {
        const tls = { ...t.tls };
        for (const k of ['caFile', 'certFile', 'keyFile'] as const) {
          const value = tls[k];
          if (value !== undefined) tls[k] = expandPath(value, base, env);
        }
        target.tls = tls;
      }
      if (t.auth?.registryConfig !== undefined) target.auth = { ...t.auth, registryConfig: expandPath(t.auth.registryConfig, base, env) };
      if (t.palette?.caFile !== undefined) target.palette = { ...t.palette, caFile: expandPath(t.palette.caFile, base, env) };
      out.targets[name] = target;
    }
  }
  return out;
}

function positionOf(path: PathSegment[], positions: Map<string, SourcePosition>): SourcePosition | undefined {
  for (let n = path.length; n > 0; n--) {
    const found = positions.get(formatPath(path.slice(0, n)));
    if (found !== undefined) return found;
  }
  return undefined;
}

function configError(where: string, problems: Problem[], positions: Map<string, SourcePosition>): PackpubError {
  const lines = problems
    .map((p) => {
      const pos = positionOf(p.path, positions);
      return { pos, text: `${where}${pos === undefined ? '' : `:${pos.line}:${pos.column}`}: ${p.path.length === 0 ? '' : `${formatPath(p.path)}: `}${p.message}` };
    })
    .sort((a, b) => (a.pos?.line ?? 0) - (b.pos?.line ?? 0))
    .map((l) => l.text);
  const unique = [...new Set(lines)];
  const message = unique.length === 1 ? (unique[0] ?? '') : `${where} has ${unique.length} problems:\n  ${unique.join('\n  ')}`;
  return new PackpubError('CONFIG', message, { hint: CONFIG_HINT });
}

/**
 * Find, read and check `packpub.yaml`. Returns data (no printing); throws PackpubError('CONFIG') naming
 * the file, line and key path for anything wrong: unknown keys, wrong types, a literal password,
 * contradictory settings. Relative paths in the file are made absolute against the file's folder.
 */
export async function loadConfig(options: LoadConfigOptions): Promise<LoadedConfig> {
  const env = options.env ?? process.env;
  const warnings: string[] = [];
  const file = await locate(options, env, warnings);
  if (file === undefined) return { warnings };
  const where = displayPath(file, options.cwd);

  const info = await stat(file);
  if (info.size > MAX_CONFIG_BYTES) {
    throw new PackpubError('CONFIG', `${where} is ${info.size} bytes; a configuration file may have at most ${MAX_CONFIG_BYTES}`, {
      hint: 'point --config at the packpub configuration, not at another file',
    });
  }
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new PackpubError('CONFIG', `cannot read ${where}: ${(err as Error).message}`, { hint: 'check its permissions', cause: err });
  }

  // Loaded only when there is a file to read: most runs have none, and the YAML parser is a large module.
  const { checkYamlText } = await import('../pack/yaml-source.js');
  const parsed = checkYamlText(text, where);
  // A settings file with a key twice is ambiguous: refused here, though YAML readers keep the last one.
  const duplicate = parsed.findings.find((f) => f.rule === 'yaml-duplicate-key');
  if (!parsed.ok || duplicate !== undefined) {
    const f = duplicate ?? parsed.findings[0];
    const pos = f?.line === undefined ? '' : `:${f.line}${f.column === undefined ? '' : `:${f.column}`}`;
    throw new PackpubError('CONFIG', `${where}${pos}: ${f?.message ?? 'not valid YAML'}`, { hint: CONFIG_HINT });
  }
  if (parsed.documents.length > 1) {
    throw new PackpubError('CONFIG', `${where} holds ${parsed.documents.length} YAML documents; packpub reads exactly one`, {
      hint: 'remove the "---" separators',
    });
  }
  const doc = parsed.documents[0];
  if (doc === undefined || doc === null) {
    warnings.push(`${where} is empty; using no configuration`);
    return { config: {}, file, warnings };
  }
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new PackpubError('CONFIG', `${where} must be a mapping of settings (targets:, packs:, defaults:), not a ${Array.isArray(doc) ? 'list' : 'single value'}`, {
      hint: CONFIG_HINT,
    });
  }

  // Secrets first: a password key must be refused with its own message, not as just another unknown key.
  const secrets: Problem[] = [];
  findSecrets(doc, [], secrets);
  if (secrets.length > 0) throw configError(where, secrets, parsed.keyPositions);

  const validate = await validator();
  if (!validate(doc)) {
    const errors = validate.errors ?? [];
    const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath));
    const problems = errors
      // anyOf reports each branch too; the anyOf line says it better. propertyNames repeats its inner error.
      .filter((e) => e.keyword === 'anyOf' || ![...anyOfPaths].some((p) => e.instancePath === p || e.instancePath.startsWith(`${p}/`)))
      .filter((e) => !('propertyName' in e && e.propertyName !== undefined && e.keyword !== 'propertyNames'))
      .map((e) => describeAjvError(e, doc))
      .filter((p): p is Problem => p !== undefined);
    throw configError(where, problems, parsed.keyPositions);
  }
  const config = doc as PackpubConfig;

  if (config.version !== undefined && config.version !== CONFIG_VERSION) {
    throw new PackpubError('CONFIG', `${where}: version ${config.version} is not understood by this packpub (it reads version ${CONFIG_VERSION})`, {
      hint: config.version > CONFIG_VERSION ? 'upgrade packpub' : `set version: ${CONFIG_VERSION}`,
    });
  }
  const problems: Problem[] = [];
  for (const [name, target] of Object.entries(config.targets ?? {})) checkTarget(name, target, problems, warnings, where);
  const defaultTargets = config.defaults?.target;
  for (const name of defaultTargets === undefined ? [] : Array.isArray(defaultTargets) ? defaultTargets : [defaultTargets]) {
    if (config.targets?.[name] === undefined) {
      const known = Object.keys(config.targets ?? {});
      problems.push({
        path: ['defaults', 'target'],
        message: `names "${name}", which is not defined under targets${known.length === 0 ? '' : ` (defined: ${known.join(', ')})`}`,
      });
    }
  }
  if (problems.length > 0) throw configError(where, problems, parsed.keyPositions);

  return { config: resolvePaths(config, dirname(file), env), file, warnings };
}
