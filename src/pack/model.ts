import { basename } from 'node:path';
import { PackpubError } from '../errors.js';
import { brokenLinkText, formatBytes, ioProblem, lookAlikeName, MAX_PACK_TEXT_BYTES, readTextLimited, resolvePackDir, statInPack } from './files.js';
import type { Finding } from './findings.js';
import { JsonSyntaxError, parseLocatedJson, type LocatedJson } from './json-source.js';
import { shellWord } from '../util/shell-word.js';

/** Fixed file names in a pack folder (palette-packs.md, "A pack on disk"). */
export const PACK_FILES = Object.freeze({
  packJson: 'pack.json',
  values: 'values.yaml',
  logo: 'logo.png',
  readme: 'README.md',
  schema: 'schema.yaml',
  presets: 'presets.yaml',
} as const);

export const PACK_LAYERS = ['kernel', 'os', 'k8s', 'cni', 'csi', 'addon'] as const;
export type PackLayer = (typeof PACK_LAYERS)[number];

/** cloudTypes values Palette documents; others are warned about, not refused. */
export const KNOWN_CLOUD_TYPES = [
  'all', 'aws', 'azure', 'gcp', 'vsphere', 'openstack', 'baremetal', 'maas', 'aks', 'eks',
  'tencent', 'tke', 'edge', 'libvirt', 'edge-native', 'coxedge', 'custom',
] as const;

/** addonType values in the docs (for messages; the field itself is free text). */
export const DOCUMENTED_ADDON_TYPES = [
  'logging', 'monitoring', 'load balancer', 'authentication', 'ingress', 'security', 'ai',
  'app services', 'network', 'storage', 'registry', 'servicemesh', 'system app',
] as const;

export const DEPENDENCY_TYPES = ['required', 'optional', 'notSupported', 'upgrade'] as const;
export const RESOURCE_TYPES = ['cpu', 'memory', 'diskSize'] as const;
export const SCHEDULE_TYPES = ['all', 'master', 'worker', 'control-plane'] as const;

export interface PackDependency {
  packName: string;
  layer: PackLayer;
  minVersion?: string;
  maxVersion?: string;
  type: (typeof DEPENDENCY_TYPES)[number];
}

export interface PackResourceComponent {
  scheduleType: (typeof SCHEDULE_TYPES)[number];
  resourceRequestParamRef?: string;
  replicaCountParamRef?: string;
}

export interface PackResource {
  type: (typeof RESOURCE_TYPES)[number];
  minLimit?: number;
  components?: PackResourceComponent[];
}

/** pack.json as Palette reads it. Unknown extra keys are allowed (real packs carry commit_msg, kubeVersion, readme). */
export interface PackJson {
  name: string;
  displayName: string;
  version: string;
  layer: PackLayer;
  cloudTypes?: string[];
  /** Legacy singular form of cloudTypes. */
  cloudType?: string;
  group?: string;
  eol?: unknown;
  addonType?: string;
  addonSubType?: string;
  ansibleRoles?: unknown;
  /** Helm chart archives, relative to the pack folder: `charts/<chart>-<version>.tgz`. */
  charts?: string[];
  /** Manifest files, relative to the pack folder: `manifests/<name>.yaml`. */
  kubeManifests?: string[];
  annotations?: Record<string, string>;
  constraints?: { dependencies?: PackDependency[]; resources?: PackResource[] };
  [key: string]: unknown;
}

/** A pack folder whose pack.json parsed and names the pack. Only name and version are checked here. */
export interface LoadedPack {
  /** Absolute real path of the pack folder. */
  dir: string;
  /** Last component of `dir`; free-form, often differs from `name` (palette-packs.md). */
  folderName: string;
  json: PackJson;
  /** pack.json `name`: the OCI repository's last component. */
  name: string;
  /** pack.json `version`: the OCI tag. */
  version: string;
}

/** `warnings`: what Palette reads differently from the bytes, though it reads the file. */
export type PackJsonRead = { ok: true; located: LocatedJson; warnings?: Finding[] } | { ok: false; finding: Finding };

/**
 * pack.json holding bytes that are not UTF-8 (a Windows-1252 "é" or "©"): Go's encoding/json, as Palette
 * reads pack.json, and pack-central's jq do not refuse them but read each as U+FFFD, so the pack is read
 * (a bad byte outside a string is still a syntax error, as in Go), its text shown with "\ufffd".
 */
function notUtf8Warning(lossy: string): Finding {
  const at = lossy.indexOf('\ufffd');
  const before = lossy.slice(0, Math.max(at, 0)).split('\n');
  const line = before.length;
  const column = (before[before.length - 1] ?? '').length + 1;
  return {
    severity: 'warning',
    rule: 'pack-json-not-utf8',
    file: PACK_FILES.packJson,
    line,
    column,
    message: 'not valid UTF-8 (saved in another encoding, e.g. Windows-1252?): Go\'s JSON reader, as Palette reads pack.json, and pack-central\'s jq read each invalid byte as "\ufffd", which is what Palette shows there; save the file as UTF-8',
  };
}

function packJsonProblem(rule: string, message: string, position: { line?: number; column?: number } = {}): PackJsonRead {
  return { ok: false, finding: { severity: 'error', rule, file: PACK_FILES.packJson, ...position, message } };
}

/**
 * Read and parse `<dir>/pack.json` (dir must be a real path). Every way it can fail comes back as one
 * finding; nothing is thrown for a bad file.
 */
export async function readPackJson(dir: string): Promise<PackJsonRead> {
  const status = await statInPack(dir, PACK_FILES.packJson);
  switch (status.kind) {
    case 'missing': {
      const broken = brokenLinkText(status);
      const other = broken === undefined ? await lookAlikeName(dir, PACK_FILES.packJson) : undefined;
      return packJsonProblem(
        'pack-json-missing',
        broken !== undefined
          ? `${broken}; replace it with the real file`
          : other === undefined
            ? 'missing; every pack needs one (name, displayName, version, layer). Is this the pack folder?'
            : `missing; found "${other}", but Palette reads only pack.json: rename it`,
      );
    }
    case 'outside':
      return packJsonProblem('path-outside-pack', 'a symlink that leads outside the pack folder; put the real file in the pack');
    case 'not-file':
      return packJsonProblem('not-a-file', `${status.what}, not a file; replace it with the JSON file`);
    case 'file':
      break;
  }
  let read;
  try {
    read = await readTextLimited(status.realPath);
  } catch (err) {
    return packJsonProblem('file-unreadable', ioProblem(PACK_FILES.packJson, err));
  }
  if (!read.ok && read.reason === 'too-large') {
    return packJsonProblem('file-too-large', `too large (${formatBytes(read.size)}, the limit is ${formatBytes(MAX_PACK_TEXT_BYTES)}); it should hold only pack metadata`);
  }
  const text = read.ok ? read.text : read.lossy;
  if (read.ok ? read.bom : read.utf16 || text.startsWith('\ufeff')) {
    // Go's encoding/json (which Palette uses) rejects a leading byte-order mark, UTF-16 text with it.
    const what = !read.ok && read.utf16 ? 'is UTF-16 text (it starts with a UTF-16 byte-order mark), which Go\'s JSON reader (Palette\'s) rejects; save it as UTF-8' : 'starts with a byte-order mark (BOM), which Go\'s JSON reader (Palette\'s) rejects; save it as UTF-8 without BOM';
    return packJsonProblem('pack-json-syntax', what, { line: 1, column: 1 });
  }
  try {
    const located = parseLocatedJson(text);
    return read.ok ? { ok: true, located } : { ok: true, located, warnings: [notUtf8Warning(text)] };
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    const rule = err.kind === 'too-deep' ? 'pack-json-too-deep' : 'pack-json-syntax';
    const message = err.kind === 'too-deep' ? `${err.reason}; refusing the file` : `not valid JSON: ${err.reason}`;
    return packJsonProblem(rule, message, { line: err.line, column: err.column });
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Read a pack folder's identity. Throws PackpubError('USAGE') when the folder does not exist and
 * PackpubError('PACK_INVALID') when pack.json is missing, unreadable or lacks name/version; use
 * validatePack for the full set of checks.
 */
export async function loadPack(dir: string): Promise<LoadedPack> {
  const real = await resolvePackDir(dir);
  const read = await readPackJson(real);
  const hint = `fix pack.json, then run: packpub validate ${shellWord(dir)}`;
  if (!read.ok) {
    const f = read.finding;
    const where = f.line === undefined ? f.file : `${f.file}:${f.line}:${f.column ?? 1}`;
    throw new PackpubError('PACK_INVALID', `${dir}: ${where}: ${f.message}`, { hint });
  }
  const json = read.located.value;
  if (!isObject(json)) {
    throw new PackpubError('PACK_INVALID', `${dir}: pack.json: must hold a JSON object ({...})`, { hint });
  }
  for (const field of ['name', 'version'] as const) {
    const value = json[field];
    if (typeof value !== 'string' || value === '') {
      throw new PackpubError('PACK_INVALID', `${dir}: pack.json: "${field}" is missing or empty (a non-empty string is required)`, { hint });
    }
  }
  return { dir: real, folderName: basename(real), json: json as PackJson, name: json['name'] as string, version: json['version'] as string };
}
