import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
// The function, not the package: its index loads some 40 modules (start-up of `validate`, issue 16).
import coerceSemver from 'semver/functions/coerce.js';
import { PackpubError, errorMessage } from '../errors.js';
import { isImageReference, validateRepositoryPath, validateTag } from '../oci/reference.js';
import { goFolded } from '../oci/manifest.js';
import { mayHoldNonFinite, nonFinitePath } from './chart-metadata.js';
import { ChartError, HELM_MAX_FILE_BYTES, ignoredAliases, isChartArchiveName, linkEntriesText, missingDependencies, readChart, type ChartDependency, type HelmChart } from './chart.js';
import { deepCheckPack, type ParsedYamlFile, type ReadChart } from './deep-checks.js';
import { brokenLinkText, formatBytes, GIT_LFS_FIX, hasUtf16Bom, ioProblem, isGitLfsPointer, lookAlikeName, MAX_PACK_TEXT_BYTES, readHead, readTextLimited, resolvePackDir, statInPack, unicodeForm, type PackFileStatus } from './files.js';
import type { Finding } from './findings.js';
import { formatPath, type SourcePosition } from './json-source.js';
import { DEPENDENCY_TYPES, KNOWN_CLOUD_TYPES, PACK_FILES, readPackJson } from './model.js';
import { goSemverConstraintTakesPrerelease, goSemverProblem } from './go-semver.js';
import { checkPng } from './png.js';
import { kubernetesName } from './scaffold.js';
import { locate, schemaFindings } from './schema.js';
import { firstDocumentKind } from './yaml-go.js';
import type { KeyPaths } from './yaml-fast.js';
import { checkYamlText, type YamlCheck } from './yaml-source.js';
import { requiredValueFindings, subchartCrdFindings, subchartTemplateFindings, valuesSchemaFindings } from './values-schema.js';

export interface ValidateOptions {
  /** Treat warnings as failures (`passed` is false when there are any). Default false. */
  strict?: boolean;
  /**
   * Run the deep checks of values against charts and manifests (deep-checks.ts). Default true. They
   * only add warnings (duplicate keys are caught above as errors), so `push` skips them unless --strict.
   */
  deep?: boolean;
}

export interface ValidationReport {
  /** Absolute real path of the pack folder. */
  dir: string;
  /** Set when pack.json names the pack (even if other checks fail). */
  pack?: { name: string; version: string };
  findings: Finding[];
  errors: number;
  warnings: number;
  /** No errors, and with `strict` no warnings either. */
  passed: boolean;
}

/** Layers that need no image inventory (pack-central's rule for pack.content.images). */
const LAYERS_WITHOUT_IMAGES = new Set(['os', 'k8s']);
/** What the checks read of a pack's values.yaml documents (checkYamlText `only`). */
const PACK_KEYS_READ: KeyPaths = new Map([['pack', new Map<string, KeyPaths | true>([['content', new Map([['images', true]])], ['namespace', true], ['releaseNameOverride', true]])]]);
/** Tab and indentation warnings listed per file before they are summarised. */
const MAX_LAYOUT_FINDINGS = 10;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function at(position: SourcePosition | undefined): { line?: number; column?: number } {
  return position === undefined ? {} : { line: position.line, column: position.column };
}

/**
 * Check a pack folder against everything Palette and pack-central expect (palette-packs.md). Never
 * throws for a bad pack: every problem is a finding. Throws PackpubError('USAGE') only when `dir` is
 * not a folder.
 */
export async function validatePack(dir: string, options: ValidateOptions = {}): Promise<ValidationReport> {
  const root = await resolvePackDir(dir);
  const findings: Finding[] = [];
  let pack: ValidationReport['pack'];
  let json: Json | undefined;
  let schemaOk = false;
  /** Each chart archive read once, here, and handed to the deep checks. */
  const charts: ReadChart[] = [];

  const read = await readPackJson(root);
  if (!read.ok) {
    findings.push(read.finding);
  } else {
    const { value, positions, problems } = read.located;
    findings.push(...(read.warnings ?? []));
    for (const p of problems) {
      findings.push({
        // Palette and pack-central's jq read duplicate keys (the last one wins) and integers past 2^53
        // (rounding them at worst): warnings, not refusals.
        severity: p.kind === 'huge-number' ? 'error' : 'warning',
        rule: p.kind === 'duplicate-key' ? 'pack-json-duplicate-key' : 'pack-json-number',
        file: PACK_FILES.packJson,
        ...(p.path === '' ? {} : { path: p.path }),
        line: p.position.line,
        column: p.position.column,
        message: p.message,
      });
    }
    const schemaProblems = await schemaFindings(value, positions);
    findings.push(...schemaProblems);
    schemaOk = schemaProblems.length === 0;
    if (isObject(value)) {
      json = value;
      const { name, version } = value;
      if (typeof name === 'string' && name !== '' && typeof version === 'string' && version !== '') pack = { name, version };
      findings.push(...caseTwinFindings(value, positions));
      findings.push(...identityFindings(value, positions));
      findings.push(...metadataFindings(value, positions));
      findings.push(...(await referencedFileFindings(root, value, positions, charts, options.deep !== false)));
    }
  }

  /** YAML files as read and parsed here, handed to the deep checks so that they read and parse none again. */
  const yaml = new Map<string, ParsedYamlFile | undefined>();
  const values = await valuesFindings(root, typeof json?.['layer'] === 'string' ? json['layer'] : undefined);
  findings.push(...values.findings);
  if (values.parsed !== undefined) yaml.set(PACK_FILES.values, values.parsed);
  findings.push(...(await optionalYamlFindings(root, PACK_FILES.schema, yaml)));
  findings.push(...(await optionalYamlFindings(root, PACK_FILES.presets, yaml)));
  findings.push(...(await valuesSchemaFindings(charts, values.usableText, yaml.get(PACK_FILES.schema)?.text)));
  findings.push(...subchartCrdFindings(charts, values.usableText));
  findings.push(...subchartTemplateFindings(charts, values.usableText));
  findings.push(...requiredValueFindings(charts, values.usableText, yaml.get(PACK_FILES.schema)?.text));
  findings.push(...(await logoFindings(root)));
  findings.push(...(await readmeFindings(root)));

  // deep-checks.ts expects a schema-checked pack.json; with schema errors the author fixes those first.
  if (json !== undefined && schemaOk && options.deep !== false) {
    try {
      findings.push(...(await deepCheckPack({ dir: root, dirIsReal: true, packJson: json, valuesText: values.usableText, charts, yaml })));
    } catch (err) {
      // The deep checks only ever add warnings, so their failing (a bug) is one too: it hides no error.
      findings.push({
        severity: 'warning',
        rule: 'internal',
        file: PACK_FILES.values,
        message: `a values check failed unexpectedly (${errorMessage(err)}); this is a bug in packpub: please report it with the pack`,
      });
    }
  }

  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.length - errors;
  return {
    dir: root,
    ...(pack === undefined ? {} : { pack }),
    findings,
    errors,
    warnings,
    passed: errors === 0 && (options.strict !== true || warnings === 0),
  };
}

/**
 * Keys of one pack.json object that differ only in case (`name` and `NAME`), in the objects a Go importer reads
 * into struct fields (the top level, constraints, its dependencies, resources and components; not annotations, a
 * map): Go's encoding/json matches a key to a field case-insensitively and the later key wins, while jq (pack-central)
 * and packpub read the key as written. Palette's importer is not public: a warning, as for duplicate keys.
 */
function caseTwinFindings(json: Json, positions: Map<string, SourcePosition>): Finding[] {
  const findings: Finding[] = [];
  const visit = (value: unknown, path: Array<string | number>): void => {
    if (!isObject(value)) return;
    const first = new Map<string, string>();
    for (const key of Object.keys(value)) {
      const folded = goFolded(key);
      const earlier = first.get(folded);
      if (earlier === undefined) {
        first.set(folded, key);
        continue;
      }
      findings.push({
        severity: 'warning',
        rule: 'pack-json-duplicate-key',
        file: PACK_FILES.packJson,
        path: formatPath([...path, key]),
        ...at(locate(positions, [...path, key])),
        message: `"${key}" and "${earlier}" differ only in case: a Go reader of pack.json (encoding/json) matches keys to its fields case-insensitively and keeps the later one's value, while jq (pack-central) and packpub read each key as written, so readers may disagree on the value; keep one`,
      });
    }
  };
  visit(json, []);
  const constraints = json['constraints'];
  visit(constraints, ['constraints']);
  if (isObject(constraints)) {
    for (const list of ['dependencies', 'resources'] as const) {
      const items = constraints[list];
      if (!Array.isArray(items)) continue;
      items.forEach((item, i) => {
        visit(item, ['constraints', list, i]);
        const components = isObject(item) ? item['components'] : undefined;
        if (Array.isArray(components)) components.forEach((c, j) => visit(c, ['constraints', list, i, 'components', j]));
      });
    }
  }
  return findings;
}

function identityFindings(json: Json, positions: Map<string, SourcePosition>): Finding[] {
  const findings: Finding[] = [];
  const { name, version } = json;
  if (typeof name === 'string' && name !== '') {
    const where = at(locate(positions, ['name']));
    // The name is the last component of <base>/spectro-packs/archive/<name> (palette-packs.md).
    if (name.includes('/')) {
      findings.push({
        severity: 'error',
        rule: 'name-not-oci',
        file: PACK_FILES.packJson,
        path: 'name',
        ...where,
        message: `name "${name}" contains "/"; it must be a single OCI repository path component, e.g. "${name.replace(/\//g, '-').toLowerCase()}"`,
      });
    } else {
      try {
        validateRepositoryPath(name, 'name');
      } catch (err) {
        findings.push({ severity: 'error', rule: 'name-not-oci', file: PACK_FILES.packJson, path: 'name', ...where, message: withHint(err, 'it becomes the OCI repository name') });
      }
    }
  }
  if (typeof version === 'string' && version !== '') {
    const where = at(locate(positions, ['version']));
    try {
      validateTag(version, 'version');
    } catch (err) {
      findings.push({ severity: 'error', rule: 'version-not-oci-tag', file: PACK_FILES.packJson, path: 'version', ...where, message: withHint(err, 'it becomes the OCI tag') });
    }
    // pack-central's validate-packs.sh fails any version starting with "v" (bash `case v*`: lowercase only).
    const bare = version.startsWith('v') ? version.slice(1) : version;
    if (bare !== version) {
      findings.push({
        severity: 'warning',
        rule: 'version-leading-v',
        file: PACK_FILES.packJson,
        path: 'version',
        ...where,
        message: `version "${version}" starts with "v"; pack-central rejects that: use "${bare}"`,
      });
    }
    // Palette's Terraform provider orders pack versions with this reader; one version it cannot read
    // makes its "latest version" lookup of the whole pack fail.
    const unordered = goSemverProblem(version);
    if (unordered !== undefined) {
      findings.push({
        severity: 'warning',
        rule: 'version-not-semver',
        file: PACK_FILES.packJson,
        path: 'version',
        ...where,
        message: `version "${version}" is not a semantic version Palette can order (${unordered}); Palette and its Terraform provider read versions as MAJOR[.MINOR[.PATCH]][-PRERELEASE], so use e.g. "${semverGuess(bare)}"`,
      });
    }
  }
  return findings;
}

/** "1.5" -> "1.5.0", for the message. */
function semverGuess(version: string): string {
  const coerced = coerceSemver(version);
  return coerced === null ? '1.0.0' : coerced.version;
}

function withHint(err: unknown, why: string): string {
  if (err instanceof PackpubError) return `${err.message} (${why})${err.hint === undefined ? '' : `; ${err.hint}`}`;
  return errorMessage(err);
}

function metadataFindings(json: Json, positions: Map<string, SourcePosition>): Finding[] {
  const findings: Finding[] = [];
  if (json['layer'] === 'addon' && (typeof json['addonType'] !== 'string' || json['addonType'] === '')) {
    findings.push({
      severity: 'warning',
      rule: 'addon-type-missing',
      file: PACK_FILES.packJson,
      path: 'addonType',
      ...at(locate(positions, ['layer'])),
      message: 'add-on pack without "addonType"; set it (e.g. "monitoring", "security", "system app") so Palette lists the pack in the right category',
    });
  }
  const known = new Set<string>(KNOWN_CLOUD_TYPES);
  const cloudTypes = json['cloudTypes'];
  const checkCloudType = (value: unknown, segments: (string | number)[]): void => {
    if (typeof value !== 'string' || known.has(value)) return;
    findings.push({
      severity: 'warning',
      rule: 'cloud-type-unknown',
      file: PACK_FILES.packJson,
      path: formatPath(segments),
      ...at(locate(positions, segments)),
      message: `cloud type "${value}" is not one pack-central's schema lists (${KNOWN_CLOUD_TYPES.join(', ')}); check the name (Palette itself knows a few more, such as gke and nutanix)`,
    });
  };
  if (Array.isArray(cloudTypes)) cloudTypes.forEach((value, i) => checkCloudType(value, ['cloudTypes', i]));
  checkCloudType(json['cloudType'], ['cloudType']);
  if (json['cloudType'] === 'custom') {
    findings.push({
      severity: 'warning',
      rule: 'cloud-type-unknown',
      file: PACK_FILES.packJson,
      path: 'cloudType',
      ...at(locate(positions, ['cloudType'])),
      message: 'cloudType "custom" is not in pack-central\'s schema (it allows "custom" only in cloudTypes); use cloudTypes: ["custom"]',
    });
  }
  const dependencies = isObject(json['constraints']) ? json['constraints']['dependencies'] : undefined;
  (Array.isArray(dependencies) ? dependencies : []).forEach((dependency, d) => {
    if (!isObject(dependency) || dependency['type'] !== undefined) return;
    const segments = ['constraints', 'dependencies', d];
    findings.push({
      severity: 'warning',
      rule: 'dependency-type-missing',
      file: PACK_FILES.packJson,
      path: `${formatPath(segments)}.type`,
      ...at(locate(positions, segments)),
      message: `dependency without "type"; pack-central's schema requires it: add "type": one of ${DEPENDENCY_TYPES.join(', ')}`,
    });
  });
  // pack-central's pack-schema.json lists scheduleType all, master and worker only.
  const resources = isObject(json['constraints']) ? json['constraints']['resources'] : undefined;
  (Array.isArray(resources) ? resources : []).forEach((resource, r) => {
    const components = isObject(resource) ? resource['components'] : undefined;
    (Array.isArray(components) ? components : []).forEach((component, c) => {
      if (!isObject(component) || component['scheduleType'] !== 'control-plane') return;
      const segments = ['constraints', 'resources', r, 'components', c, 'scheduleType'];
      findings.push({
        severity: 'warning',
        rule: 'schedule-type-control-plane',
        file: PACK_FILES.packJson,
        path: formatPath(segments),
        ...at(locate(positions, segments)),
        message: 'scheduleType "control-plane" is not in pack-central\'s schema (all, master, worker); use "master" for packs published there',
      });
    });
  });
  return findings;
}

async function referencedFileFindings(root: string, json: Json, positions: Map<string, SourcePosition>, charts: ReadChart[], deep: boolean): Promise<Finding[]> {
  const findings: Finding[] = [];
  /** The chart archives read so far, by real path and by chart name: Palette installs each as one release. */
  const listed = new Map<string, string>();
  const named = new Map<string, string>();
  for (const field of ['charts', 'kubeManifests'] as const) {
    const entries = json[field];
    if (!Array.isArray(entries)) continue;
    const noun = field === 'charts' ? 'chart archive' : 'manifest';
    for (const [i, entry] of entries.entries()) {
      if (typeof entry !== 'string' || entry === '') continue; // the schema reports it
      const segments = [field, i];
      const base = { file: PACK_FILES.packJson, path: formatPath(segments), ...at(locate(positions, segments)) };
      let status: PackFileStatus;
      try {
        // A `\` is no folder separator where Palette reads the pack (Linux): a path holding one names no file
        // of the archive, which never holds such a name (push refuses one), even where Windows finds a file.
        status = entry.includes('\\') ? { kind: 'missing' } : await statInPack(root, entry);
      } catch (err) {
        findings.push({ severity: 'error', rule: 'file-unreadable', ...base, message: ioProblem(entry, err) });
        continue;
      }
      switch (status.kind) {
        case 'missing': {
          const broken = brokenLinkText(status);
          const found = broken === undefined ? await lookAlikes(root, entry, field === 'charts') : undefined;
          findings.push({
            severity: 'error',
            rule: field === 'charts' ? 'chart-missing' : 'manifest-missing',
            ...base,
            message:
              broken !== undefined
                ? `${noun} "${entry}" is ${broken}; replace it with the real file`
                : `${noun} "${entry}" does not exist in the pack; ${found ?? 'add the file or fix the path (it is relative to the pack folder)'}`,
          });
          continue;
        }
        case 'outside':
          findings.push({
            severity: 'error',
            rule: 'path-outside-pack',
            ...base,
            message: `${noun} "${entry}" points outside the pack folder; only the pack folder is published, so move the file into it and use a relative path`,
          });
          continue;
        case 'not-file':
          findings.push({
            severity: 'error',
            rule: 'not-a-file',
            ...base,
            message:
              field === 'charts' && status.what === 'a directory'
                ? `chart "${entry}" is a directory; package it with \`helm package ${entry}\` and list the .tgz`
                : `${noun} "${entry}" is ${status.what}, not a file`,
          });
          continue;
        case 'file':
          if (field === 'kubeManifests') {
            const utf16 = await utf16Manifest(status.realPath);
            if (utf16 !== undefined) findings.push({ ...utf16, file: entry });
          }
          if (field === 'charts') {
            const first = listed.get(status.realPath);
            if (first !== undefined) {
              findings.push(chartListedTwice(base, entry, first));
              continue;
            }
            listed.set(status.realPath, `"${entry}" (${base.path})`);
            const read = await readPackChart(entry, status.realPath, deep);
            if ('chart' in read) {
              const same = named.get(read.chart.name);
              if (same !== undefined) findings.push(chartNameTwice(base, entry, read.chart.name, same));
              else named.set(read.chart.name, `"${entry}" (${base.path})`);
              charts.push({ rel: entry, chart: read.chart });
              const missing = missingDependencies(read.chart);
              if (missing.length > 0) findings.push(missingDependencyFinding(entry, missing));
              findings.push(...readAsTextFindings(entry, status.realPath, read.chart));
              findings.push(...ignoredAliasFindings(entry, status.realPath, read.chart));
              if (read.chart.metadata['type'] === 'library') findings.push(libraryChartFinding(entry, read.chart));
              const api = apiVersionFinding(entry, read.chart);
              if (api !== undefined) findings.push(api);
              const oldCrds = read.chart.removedApiCrdFiles ?? [];
              if (oldCrds.length > 0) {
                const named = oldCrds.length <= 3 ? oldCrds.join(', ') : `${oldCrds.slice(0, 3).join(', ')} and ${oldCrds.length - 3} more`;
                findings.push({
                  severity: 'warning',
                  rule: 'chart-crd-removed-api',
                  file: entry,
                  message: `${named} hold apiextensions.k8s.io/v1beta1 CustomResourceDefinitions, an API Kubernetes 1.22 and later no longer serve: Helm's install of this chart fails on such clusters ("failed to install CRD ${oldCrds[0]}: ... no matches for kind \"CustomResourceDefinition\" in version \"apiextensions.k8s.io/v1beta1\""); use a chart version whose CRDs are apiextensions.k8s.io/v1`,
                });
              }
              const kube = kubeVersionFinding(entry, read.chart, json);
              if (kube !== undefined) findings.push(kube);
              const links = read.chart.linkEntries;
              if (links !== undefined) findings.push(chartLinkFinding(entry, status.realPath, links));
              for (const big of read.chart.oversizedFiles ?? []) {
                findings.push({
                  severity: 'warning',
                  rule: 'chart-file-too-large-for-helm',
                  file: entry,
                  message: `${big.name.replaceAll(status.realPath, entry)} is ${formatBytes(big.size)}; Helm 3.17.3 and later refuse a chart holding a file over ${formatBytes(HELM_MAX_FILE_BYTES)} ("decompressed chart file ... is larger than the maximum file size"), so Palette may fail to install it: split the file, or ship large CRDs as a manifest in kubeManifests`,
                });
              }
            } else findings.push(...read.findings);
          }
      }
    }
  }
  return findings;
}

/** A chart archive's link entries (chart.ts linkEntriesText): Helm installs such a chart without a word, so a warning. */
function chartLinkFinding(entry: string, realPath: string, links: NonNullable<HelmChart['linkEntries']>): Finding {
  return {
    severity: 'warning',
    rule: 'chart-archive-link',
    file: entry,
    message: `${linkEntriesText(links, realPath)}; rebuild the archive with \`helm package <chart-dir>\`, which stores what a link points to (or \`tar -h --hard-dereference\`)`,
  };
}

/** Cloud types whose clusters report a Kubernetes version with a pre-release part (EKS, GKE), `all` among them. */
const PRERELEASE_CLOUDS = ['all', 'eks', 'gke'];

/**
 * A top chart whose `kubeVersion` lets no pre-release version through (go-semver.ts
 * goSemverConstraintTakesPrerelease): every install checks it against the cluster's version as the API
 * server reports it (helm/helm pkg/action renderResources, chartutil.IsCompatibleRange with
 * KubeVersion.String(), the full GitVersion), and EKS (`v1.29.4-eks-036c24b`) and GKE (`v1.33.5-gke.2392000`)
 * report one (helm/helm#10375; chart authors fix it with `-0`, as NVIDIA's network-operator 26.1.0
 * did). Other clusters take it, so a warning, and none when pack.json's cloud types leave those out.
 */
function kubeVersionFinding(entry: string, chart: HelmChart, json: Json): Finding | undefined {
  const constraint = chart.metadata['kubeVersion'];
  if (typeof constraint !== 'string' || constraint.trim() === '' || goSemverConstraintTakesPrerelease(constraint) !== false) return undefined;
  const { cloudTypes, cloudType } = json;
  const clouds = Array.isArray(cloudTypes) ? cloudTypes : typeof cloudType === 'string' ? [cloudType] : undefined;
  if (clouds !== undefined && !clouds.some((c) => typeof c === 'string' && PRERELEASE_CLOUDS.includes(c))) return undefined;
  return {
    severity: 'warning',
    rule: 'chart-kube-version-prerelease',
    file: entry,
    message: `the chart's kubeVersion ${JSON.stringify(constraint)} has no pre-release part, so Helm's install refuses every cluster whose Kubernetes version has one, as EKS and GKE report theirs (on EKS: "chart requires kubeVersion: ${constraint} which is incompatible with Kubernetes v1.29.4-eks-036c24b"); give each version in it a -0 pre-release (">= 1.21.0-0" for ">= 1.21.0"), then rebuild the archive, or leave all, eks and gke out of pack.json's cloudTypes`,
  };
}

/**
 * Palette installs each chart pack.json lists as one Helm release, named `<pack name>-<chart name>` unless
 * `pack.releaseNameOverride.<chart name>` names it (docs: create an add-on profile), in the pack's
 * namespace, with the values under `charts.<chart name>`: every handle is the chart's name.
 */
const ONE_RELEASE = "Palette installs each chart pack.json lists as one Helm release, named after the pack and the chart's name (pack.releaseNameOverride and values.yaml's charts.<chart name> are keyed by that name too), in the pack's namespace";

/** The same archive (the same file, whatever the path says) listed again: a second install of one release. */
function chartListedTwice(base: Omit<Finding, 'severity' | 'rule' | 'message'>, entry: string, first: string): Finding {
  return {
    severity: 'warning',
    rule: 'chart-listed-twice',
    ...base,
    message: `chart archive "${entry}" is listed already, as ${first}: ${ONE_RELEASE}, so this entry installs the same release again: Helm refuses a second install ("cannot re-use a name that is still in use"), an upgrade in place changes nothing; list it once`,
  };
}

/** Another archive holding a chart of the same name: two charts, one release, one values block. */
function chartNameTwice(base: Omit<Finding, 'severity' | 'rule' | 'message'>, entry: string, name: string, first: string): Finding {
  return {
    severity: 'error',
    rule: 'chart-name-twice',
    ...base,
    message: `chart archive "${entry}" holds chart ${name}, as ${first} does: ${ONE_RELEASE}, so both are one release with the values of charts.${name}: Helm refuses the second install ("cannot re-use a name that is still in use"), or it replaces the first chart; list one of them (for two versions of a chart, publish one pack version per chart version)`,
  };
}

/**
 * A chart archive whose Chart.yaml (requirements.yaml for apiVersion v1) lists dependencies that are not
 * vendored in its charts/ folder (`helm dependency build` was not run before it was archived): `helm
 * install`, `helm template` and `helm package` refuse it (helm/helm pkg/action CheckDependencies, matching
 * each dependency's name with the subcharts' Chart.yaml names); an installer that does not check, like
 * Helm's library, installs it without them. Helm's loader reads it, so a warning, not a refusal.
 */
function missingDependencyFinding(entry: string, missing: ChartDependency[]): Finding {
  // One name under several aliases is listed once here; Helm's own words repeat it, as quoted.
  const names = [...new Set(missing.map((d) => `"${d.name}"${d.version === undefined ? '' : ` ${d.version}`}`))];
  return {
    severity: 'warning',
    rule: 'chart-dependency-missing',
    file: entry,
    message: `the chart depends on ${names.join(', ')}, not in the archive's charts/ folder: \`helm install\` and \`helm template\` refuse the chart ("found in Chart.yaml, but missing in charts/ directory: ${missing.map((d) => d.name).join(', ')}") and an installer that does not check leaves ${names.length === 1 ? 'it' : 'them'} out; run \`helm dependency build <chart-dir>\`, then package the chart again`,
  };
}

/**
 * Unquoted numbers and booleans in Chart.yaml string fields that Helm reads as other text than written
 * (sigs.k8s.io/yaml: `appVersion: 1.20` is "1.2", `version: 1.0` is "1", `name: yes` is "true"), in the
 * chart and its subcharts: Helm loads the chart, but shows and compares that text. And a values.yaml with
 * later YAML documents that Helm 4 reads and Helm 3 does not (chart.ts helm4ValuesDifference): which Helm
 * Palette runs is not public, so a warning.
 */
function readAsTextFindings(entry: string, realPath: string, chart: HelmChart): Finding[] {
  const findings: Finding[] = [];
  const visit = (c: HelmChart): void => {
    const where = c.location === realPath ? '' : `${c.location.slice(realPath.length + 1)}/`;
    for (const t of c.readAsText ?? []) {
      findings.push({
        severity: 'warning',
        rule: 'chart-yaml-number',
        file: entry,
        message: `${where}${t.file}: ${t.at}: ${t.written} is a YAML ${t.kind}, which Helm reads as "${t.read}": quote it (${t.at}: "${t.written}") so Helm reads what is written`,
      });
    }
    const helm4 = c.helm4Values;
    if (helm4 !== undefined && 'utf16' in helm4) {
      findings.push({
        severity: 'warning',
        rule: 'chart-values-utf16',
        file: entry,
        message: `${where}values.yaml is UTF-16 text (it starts with a UTF-16 byte-order mark, as Windows PowerShell 5's \`>\` and \`Out-File\` write it): Helm 3 reads it; Helm 4 reads values.yaml line by line and refuses the chart ("cannot load values.yaml: cannot unmarshal yaml document: error converting YAML to JSON: yaml: incomplete UTF-16 character"); which Helm Palette installs with is not public: save it as UTF-8, then package the chart again`,
      });
    } else if (helm4 !== undefined) {
      findings.push({
        severity: 'warning',
        rule: 'chart-values-documents',
        file: entry,
        message: `${where}values.yaml holds YAML documents after its first (--- lines): Helm 3 reads only the first; Helm 4 reads every one and ${'refused' in helm4 ? `refuses the chart ("${helm4.refused})` : `merges the values of ${helm4.merged === 1 ? 'the later one' : `the ${helm4.merged} later ones`} over the first's`}; which Helm Palette installs with is not public: keep the chart's values in one document, then package the chart again`,
      });
    }
    c.subcharts.forEach(visit);
  };
  visit(chart);
  return findings;
}

/**
 * A dependency with an alias whose vendored subchart's version is outside its version constraint, in the
 * chart or a subchart: Helm (chartutil processDependencyEnabled, getAliasDependency) then keeps the subchart
 * under its own name and drops the alias, so values given under the alias never reach it, and a condition
 * or tags meant to leave it out do not.
 */
function ignoredAliasFindings(entry: string, realPath: string, chart: HelmChart): Finding[] {
  const findings: Finding[] = [];
  const visit = (c: HelmChart, depth: number): void => {
    for (const { dep, sub } of ignoredAliases(c)) {
      const where = c.location === realPath ? '' : `${c.location.slice(realPath.length + 1)}: `;
      const gate = dep.condition !== undefined ? ` and its condition ${dep.condition} is never applied` : (dep.tags ?? []).length > 0 ? ' and its tags are never applied' : '';
      findings.push({
        severity: 'warning',
        rule: 'chart-dependency-version',
        file: entry,
        message: `${where}dependency "${dep.name}" (alias "${dep.alias ?? ''}") asks for version ${JSON.stringify(dep.version ?? '')}, but charts/ holds ${sub.name} ${sub.version ?? '(no version)'}: Helm then drops the alias and installs it as "${sub.name}", so values under ${dep.alias ?? ''}: never reach it${gate}; make the version constraint match the subchart (or run \`helm dependency update\`), then package the chart again`,
      });
    }
    if (depth < 8) for (const s of c.subcharts) visit(s, depth + 1);
  };
  visit(chart, 0);
  return findings;
}

/**
 * A chart archive pack.json lists whose chart is a library chart (`type: library`): Helm loads it, but
 * `helm install` refuses it (cmd/helm install.go checkIfInstallable) and Helm's Go library installs it
 * without a resource (pkg/engine renders only a library chart's `_` partials).
 */
function libraryChartFinding(entry: string, chart: HelmChart): Finding {
  return {
    severity: 'warning',
    rule: 'chart-library',
    file: entry,
    message: `chart "${chart.name}" is a library chart (type: library): \`helm install\` refuses it ("library charts are not installable") and an installer using Helm's Go library installs none of its resources; list the application chart that uses it instead (with this one in its charts/ folder)`,
  };
}

/**
 * A top chart whose Chart.yaml `apiVersion` is none Helm 4 loads: its loader reads that field first and refuses any
 * other than v1, v2, v3 or none ("unsupported chart version": helm v4 pkg/chart/loader/load.go LoadFile, LoadDir),
 * while Helm 3 loads any non-empty value (pkg/chart/metadata.go Validate). Which Helm Palette runs is not public, so a
 * warning. A subchart's is never looked at (Helm 4 loads it with the top chart's loader).
 */
function apiVersionFinding(entry: string, chart: HelmChart): Finding | undefined {
  const api = chart.metadata['apiVersion'];
  if (api === undefined || api === null || api === '' || api === 'v1' || api === 'v2' || api === 'v3') return undefined;
  const text = typeof api === 'string' ? api : JSON.stringify(api);
  return {
    severity: 'warning',
    rule: 'chart-api-version',
    file: entry,
    message: `chart "${chart.name}" has apiVersion ${JSON.stringify(text)} in its Chart.yaml: Helm 3 loads it, Helm 4 refuses the chart ("unsupported chart version"; it loads apiVersion v1, v2 or v3); which Helm Palette installs with is not public: write apiVersion: v2 (v1 for a Helm 2 chart with requirements.yaml), then package the chart again`,
  };
}

/** `web-1.2.3.tgz` -> `web`, `web.tar.gz` -> `web`: what the file is named after. */
function archiveStem(name: string): string {
  return name.replace(/\.(?:tgz|tar\.gz)$/i, '').replace(/-v?[0-9][0-9A-Za-z.+-]*$/, '');
}

/**
 * What sits where a missing file named in pack.json should be, as the rest of its message: a file
 * whose name differs only in case (Palette reads the archive on Linux, where case matters), or for a
 * chart archive the chart unpacked in a folder (Palette installs only the archives pack.json lists;
 * `helm package` writes `<name>-<version>.tgz` from Chart.yaml) or an archive of another version.
 */
async function lookAlikes(root: string, entry: string, chart: boolean): Promise<string | undefined> {
  const parent = posix.dirname(entry.replaceAll('\\', '/'));
  const wanted = posix.basename(entry.replaceAll('\\', '/'));
  const where = (name: string): string => (parent === '.' ? name : `${parent}/${name}`);
  if (entry.includes('\\')) {
    const slashed = entry.replaceAll('\\', '/');
    const there = await statInPack(root, slashed).catch(() => undefined);
    if (there?.kind === 'file') {
      return `"${slashed}" is there: write the path with / (Palette reads the pack on Linux, where \\ is a character of a file name, not a folder separator as on Windows)`;
    }
  }
  const other = await lookAlikeName(root, entry);
  if (other !== undefined && other !== entry && other.normalize('NFC') === entry.normalize('NFC')) {
    return `found "${other}" instead, the same letters written as other Unicode characters (${unicodeForm(other)} on disk, ${unicodeForm(entry)} in pack.json; macOS tools write names decomposed), which Palette, reading the pack on Linux, takes for another name: rename the file or write pack.json's name as the file has it, so both hold the same bytes`;
  }
  if (other !== undefined) {
    return `found "${other}" instead (names must match exactly, case included, where Palette reads the pack): use the same name in pack.json and on disk`;
  }
  if (!chart) return undefined;
  let names: Dirent[];
  try {
    const dir = await statInPack(root, parent);
    if (dir.kind !== 'not-file' || dir.what !== 'a directory') return undefined;
    names = (await readdir(dir.realPath, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
  } catch {
    return undefined;
  }
  const stem = archiveStem(wanted);
  for (const d of names) {
    if (!d.isDirectory() || d.name.startsWith('.')) continue;
    let unpacked: HelmChart;
    try {
      unpacked = await readChart(join(root, parent, d.name), { templates: false });
    } catch {
      continue;
    }
    const packaged = `${unpacked.name}-${unpacked.version ?? ''}.tgz`;
    if (packaged !== wanted && d.name !== stem && unpacked.name !== stem) continue;
    const then = packaged === wanted ? '' : `, then list "${where(packaged)}" (the file it writes) in pack.json`;
    return `the chart is there unpacked, as folder "${where(d.name)}/" (Chart.yaml: ${unpacked.name} ${unpacked.version ?? 'without a version'}), but Palette installs only the chart archives pack.json lists: package it with \`helm package ${where(d.name)} -d ${parent}\`${then}`;
  }
  const others = names.filter((d) => d.isFile() && isChartArchiveName(d.name) && archiveStem(d.name) === stem).map((d) => `"${where(d.name)}"`);
  if (others.length > 0) return `found ${others.join(', ')}: list that file in pack.json, or add "${entry}"`;
  return undefined;
}

const CHART_RULES: Record<string, string> = {
  'no-chart-yaml': 'chart-no-chart-yaml',
  'helm-refuses': 'chart-refused-by-helm',
  'not-an-archive': 'chart-unreadable',
  'bad-metadata': 'chart-metadata-invalid',
  'too-large': 'chart-too-large',
  'too-many-entries': 'chart-too-large',
  'too-deep': 'chart-too-large',
};

/** Read a chart archive of the pack with the one chart reader; what Helm would refuse is an error. */
async function readPackChart(rel: string, realPath: string, templates: boolean): Promise<{ chart: HelmChart } | { findings: Finding[] }> {
  try {
    return { chart: await readChart(realPath, { templates }) };
  } catch (err) {
    if (err instanceof ChartError) {
      // The reader names the archive by its real path (in the message and hint); the finding names it as pack.json does.
      const text = (err.message.startsWith(`${realPath}: `) ? err.message.slice(realPath.length + 2) : err.message).replaceAll(realPath, rel);
      return { findings: [{ severity: 'error', rule: CHART_RULES[err.problem] ?? 'chart-unreadable', file: rel, message: `${text}${err.hint === undefined ? '' : `; ${err.hint.replaceAll(realPath, rel)}`}` }] };
    }
    return { findings: [{ severity: 'error', rule: 'file-unreadable', file: rel, message: ioProblem(rel, err) }] };
  }
}

type TextFile = { ok: true; text: string } | { ok: false; findings: Finding[] };

const UTF16_WHY = 'UTF-16 text (it starts with a UTF-16 byte-order mark, as Windows PowerShell 5\'s `>` and `Out-File` write it)';

/**
 * A manifest kubeManifests lists that is UTF-16 text: Palette renders a manifest as UTF-8 text (its `{{ }}`
 * actions) and applies the YAML, in which every other byte of UTF-16 is a NUL that Go's YAML reader refuses
 * ("control characters are not allowed"), so the pack fails when it is deployed.
 */
async function utf16Manifest(realPath: string): Promise<Omit<Finding, 'file'> | undefined> {
  let head: Buffer;
  try {
    head = await readHead(realPath, 2);
  } catch {
    return undefined; // the deep checks and push say why it cannot be read
  }
  if (!hasUtf16Bom(head)) return undefined;
  return {
    severity: 'error',
    rule: 'file-not-utf8',
    message: `${UTF16_WHY}; Palette renders a manifest as UTF-8 text and applies its YAML, where UTF-16's NUL bytes are control characters Go's YAML reader refuses, so the pack fails when it is deployed: save it as UTF-8 (\`Out-File -Encoding utf8\`, or your editor's "UTF-8")`,
  };
}

/** Read a pack text file that exists as a regular file, or explain why not (missing is the caller's call). */
async function readPackText(rel: string, status: PackFileStatus): Promise<TextFile> {
  const fail = (rule: string, message: string): TextFile => ({ ok: false, findings: [{ severity: 'error', rule, file: rel, message }] });
  switch (status.kind) {
    case 'missing':
      return { ok: false, findings: [] };
    case 'outside':
      return fail('path-outside-pack', 'a symlink that leads outside the pack folder; put the real file in the pack');
    case 'not-file':
      return fail('not-a-file', `${status.what}, not a file`);
    case 'file':
      break;
  }
  try {
    const read = await readTextLimited(status.realPath);
    if (read.ok) return { ok: true, text: read.text };
    if (read.reason === 'too-large') {
      return fail('file-too-large', `too large (${formatBytes(read.size)}, the limit is ${formatBytes(MAX_PACK_TEXT_BYTES)}); refusing to parse it`);
    }
    return fail(
      'file-not-utf8',
      read.utf16
        ? `${UTF16_WHY}; Palette keeps and shows a pack's YAML as UTF-8 text: save it as UTF-8 (\`Out-File -Encoding utf8\`, or your editor's "UTF-8")`
        : 'not valid UTF-8 text, which Go\'s YAML reader (Helm\'s, yq\'s) refuses ("invalid leading UTF-8 octet"), even in a comment; save it as UTF-8',
    );
  } catch (err) {
    return fail('file-unreadable', ioProblem(rel, err));
  }
}

async function statOrFinding(root: string, rel: string): Promise<{ status?: PackFileStatus; findings: Finding[] }> {
  try {
    return { status: await statInPack(root, rel), findings: [] };
  } catch (err) {
    return { findings: [{ severity: 'error', rule: 'file-unreadable', file: rel, message: ioProblem(rel, err) }] };
  }
}

async function valuesFindings(root: string, layer: string | undefined): Promise<{ findings: Finding[]; usableText: string; parsed?: ParsedYamlFile }> {
  const stat = await statOrFinding(root, PACK_FILES.values);
  if (stat.status === undefined) return { findings: stat.findings, usableText: '' };
  if (stat.status.kind === 'missing') {
    const broken = brokenLinkText(stat.status);
    const other = broken === undefined ? await lookAlikeName(root, PACK_FILES.values) : undefined;
    return {
      findings: [
        {
          severity: 'error',
          rule: 'values-missing',
          file: PACK_FILES.values,
          message:
            broken !== undefined
              ? `${broken}; replace it with the real file`
              : other === undefined
                ? 'missing; every pack needs one (it may be empty for OS packs): create it with at least `pack:` settings'
                : `missing; found "${other}", but Palette reads only values.yaml: rename it`,
        },
      ],
      usableText: '',
    };
  }
  const file = await readPackText(PACK_FILES.values, stat.status);
  if (!file.ok) return { findings: file.findings, usableText: '' };
  // Of the documents, only pack.content.images, pack.namespace and pack.releaseNameOverride are read (and the whole first one for .inf / .nan).
  const mayHoldNonFiniteValue = mayHoldNonFinite(file.text);
  const check = checkYamlText(file.text, PACK_FILES.values, { nullKeys: 'record', ...(mayHoldNonFiniteValue ? {} : { only: PACK_KEYS_READ }) });
  const findings: Finding[] = [...check.findings, ...layoutFindings(file.text, check.scalarContentLines)];
  if (!check.ok) return { findings, usableText: '' };
  const parsed = { text: file.text, parsed: check.parsed };

  if (check.documents.length > 1) {
    findings.push({
      severity: 'warning',
      rule: 'values-multiple-documents',
      file: PACK_FILES.values,
      message: `holds ${check.documents.length} YAML documents (separated by ---); keep a single document`,
    });
  }
  if (check.documents.length > 0 && firstDocumentKind(check.parsed) === 'empty') {
    // Go's Unmarshal (sigs.k8s.io/yaml, go-yaml) reads the first document only, even when it is empty.
    findings.push({
      severity: 'warning',
      rule: 'values-first-document-empty',
      file: PACK_FILES.values,
      line: 1,
      message: 'the first YAML document is empty (two --- lines before the values?); Helm reads only the first document, so none of these values would reach it: remove the extra ---',
    });
  }
  findings.push(...notJsonKeyFindings(check, PACK_FILES.values));
  const doc = check.documents[0];
  const nonFinite = mayHoldNonFiniteValue ? nonFinitePath(doc) : undefined;
  if (nonFinite !== undefined) {
    findings.push({
      // A warning, not an error: a chart's own values.yaml with one is refused as Helm refuses it, but how
      // Palette reads a pack's values.yaml (and whether this key ever reaches Helm) is not known.
      severity: 'warning',
      rule: 'values-not-json',
      file: PACK_FILES.values,
      path: nonFinite,
      ...at(check.keyPositions.get(nonFinite)),
      message: `${nonFinite} is .inf or .nan, which sigs.k8s.io/yaml cannot turn into JSON ("json: unsupported value"): Helm refuses such values if they reach a chart; quote it (".inf") or use a number`,
    });
  }
  if (doc !== undefined && doc !== null && !isObject(doc)) {
    findings.push({
      severity: 'error',
      rule: 'values-not-mapping',
      file: PACK_FILES.values,
      line: 1,
      message: `must be a mapping of keys (pack:, charts:, manifests:), not ${Array.isArray(doc) ? 'a list' : 'a single value'}`,
    });
    return { findings, usableText: '', parsed };
  }
  if (layer !== undefined && !LAYERS_WITHOUT_IMAGES.has(layer)) {
    const packKey = isObject(doc) ? doc['pack'] : undefined;
    const content = isObject(packKey) ? packKey['content'] : undefined;
    const images = isObject(content) ? content['images'] : undefined;
    const imagesAt = at(check.keyPositions.get('pack.content.images'));
    const imagesFinding = (message: string, where = imagesAt): Finding => ({ severity: 'warning', rule: 'values-images-missing', file: PACK_FILES.values, path: 'pack.content.images', ...where, message });
    if (images === undefined || images === null) {
      const where = at(check.keyPositions.get('pack.content') ?? check.keyPositions.get('pack'));
      findings.push(imagesFinding(`missing: list every container image the pack deploys (\`- image: REGISTRY/REPO:TAG\`), as pack-central requires for ${layer} packs`, where));
    } else if (!Array.isArray(images)) {
      findings.push(imagesFinding('must be a list of `- image: REGISTRY/REPO:TAG` entries'));
    } else if (images.length === 0) {
      // pack-central's validate-packs.sh fails the pack: "Image sources size is 0".
      findings.push(imagesFinding(`empty: list every container image the pack deploys (\`- image: REGISTRY/REPO:TAG\`); pack-central fails ${layer} packs whose list is empty ("Image sources size is 0")`));
    } else {
      images.forEach((entry, i) => {
        const image = isObject(entry) ? entry['image'] : undefined;
        const named = typeof image === 'string' && image.trim() !== '';
        // A Palette macro ({{ ... }}) is replaced before anything reads the list: not judged.
        if (named && (image.includes('{{') || isImageReference(image.trim()))) return;
        findings.push({
          severity: 'warning',
          rule: named ? 'values-image-reference' : 'values-image-entry',
          file: PACK_FILES.values,
          path: `pack.content.images[${i}]`,
          ...at(check.keyPositions.get(`pack.content.images[${i}]`) ?? check.keyPositions.get('pack.content.images')),
          message: named
            ? `entry ${i} image ${JSON.stringify(image)} is no container image reference (REGISTRY/REPOSITORY:TAG or @sha256:..., lowercase repository, no spaces or line breaks): Palette mirrors the images of this list for air-gapped installs, and no registry serves this one`
            : `entry ${i} has no \`image:\` (pack-central requires \`- image: REGISTRY/REPO:TAG\` in every entry, and Palette mirrors only those for air-gapped installs)`,
        });
      });
    }
  }
  const namespace = namespaceFinding(doc, check.keyPositions);
  if (namespace !== undefined) findings.push(namespace);
  findings.push(...releaseNameFindings(doc, check.keyPositions));
  return { findings, usableText: file.text, parsed };
}

/** Helm's release names (pkg/chartutil validate_name.go ValidateReleaseName): this pattern, 53 characters at most. */
const RELEASE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * pack.releaseNameOverride.<chart name>: the name of the Helm release Palette installs that chart as (docs:
 * create an add-on profile). Helm's install refuses a name that is not a lowercase DNS name of at most 53
 * characters, whatever the chart. Judged as trimmed; not judged: empty or blank (no override), not a
 * string, or holding a Palette macro (`{{ ... }}`, replaced before).
 */
function releaseNameFindings(doc: unknown, positions: YamlCheck['keyPositions']): Finding[] {
  const pack = isObject(doc) ? doc['pack'] : undefined;
  const overrides = isObject(pack) ? pack['releaseNameOverride'] : undefined;
  if (!isObject(overrides)) return [];
  return Object.entries(overrides).flatMap(([chart, name]): Finding[] => {
    // Empty (no override, likely) or blank: not judged; spaces around a name Palette may trim.
    const trimmed = typeof name === 'string' ? name.trim() : '';
    if (trimmed === '' || trimmed.includes('{{') || (trimmed.length <= 53 && RELEASE_NAME.test(trimmed))) return [];
    const path = formatPath(['pack', 'releaseNameOverride', chart]);
    return [
      {
        severity: 'error',
        rule: 'values-release-name-invalid',
        file: PACK_FILES.values,
        path,
        ...at(positions.get(path) ?? positions.get('pack.releaseNameOverride')),
        message: `${path} ${JSON.stringify(name)} is no Helm release name (lowercase letters, digits, "-" and ".", each dot-separated part starting and ending with a letter or digit, at most 53 characters): Palette installs chart ${chart} as that release, and Helm refuses it ("invalid release name, must match regex ... and the length must not be longer than 53"), so every deploy fails; use ${JSON.stringify(kubernetesName(trimmed).slice(0, 53).replace(/-+$/, ''))}`,
      },
    ];
  });
}

/** What the Kubernetes API takes as a Namespace's name: a lowercase RFC 1123 label. */
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * pack.namespace: Palette deploys the pack into it and creates it when it does not exist (docs: profile
 * customization), so a name the Kubernetes API refuses for a Namespace fails every deploy. Judged as
 * trimmed; not judged: empty or blank, not a string (null, a number), or holding a Palette macro (`{{ ... }}`,
 * replaced before). An alias is judged as the string it names, as Go's YAML reader resolves it.
 */
function namespaceFinding(doc: unknown, positions: YamlCheck['keyPositions']): Finding | undefined {
  const pack = isObject(doc) ? doc['pack'] : undefined;
  const namespace = isObject(pack) ? pack['namespace'] : undefined;
  // Empty (Palette's default namespace, likely) or blank: not judged; spaces around a name Palette may trim.
  const name = typeof namespace === 'string' ? namespace.trim() : '';
  if (name === '' || name.includes('{{')) return undefined;
  if (name.length <= 63 && NAMESPACE_NAME.test(name)) return undefined;
  return {
    severity: 'error',
    rule: 'values-namespace-invalid',
    file: PACK_FILES.values,
    path: 'pack.namespace',
    ...at(positions.get('pack.namespace')),
    message: `pack.namespace ${JSON.stringify(namespace)} is no name Kubernetes takes for a namespace (lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters): Palette creates the namespace the pack deploys into, and the Kubernetes API refuses this one ("metadata.name: Invalid value: ${JSON.stringify(namespace)}: a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-' ..."), so every deploy fails; use ${JSON.stringify(kubernetesName(name))}`,
  };
}

/** A limited list of findings of one kind, with a closing "and N more" line. */
class Capped {
  readonly list: Finding[] = [];
  private count = 0;

  constructor(private readonly rule: string, private readonly more: string) {}

  add(finding: Omit<Finding, 'severity' | 'rule' | 'file'>): void {
    if (++this.count <= MAX_LAYOUT_FINDINGS) this.list.push({ severity: 'warning', rule: this.rule, file: PACK_FILES.values, ...finding });
  }

  done(): Finding[] {
    const rest = this.count - this.list.length;
    return rest > 0 ? [...this.list, { severity: 'warning', rule: this.rule, file: PACK_FILES.values, message: `and ${rest} more ${this.more}` }] : this.list;
  }
}

/**
 * The line rules of pack-central's validator/validate-values.sh, which reads values.yaml line by line
 * (every line that is not empty or a comment, block scalar content included): a tab anywhere, a line
 * indented by an odd number of spaces, and its calico rule (after a `calico:` line, key lines must sit
 * at least two spaces deeper until the next `manifests:` line). `scalarLines` are lines inside block
 * or multi-line scalars, where YAML itself allows any indentation: the message says so.
 */
export function layoutFindings(text: string, scalarLines: ReadonlySet<number>): Finding[] {
  const tabs = new Capped('values-tabs', 'lines with tab characters');
  const odd = new Capped('values-indentation', 'lines indented by an odd number of spaces');
  const calico = new Capped('values-calico-indentation', 'lines less indented than the calico: above them');
  let afterManifests = false;
  let calicoIndent: number | undefined;
  let calicoLine = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const content = (lines[i] ?? '').replace(/\r$/, '');
    if (content === '' || /^\s*#/.test(content)) continue;
    const inScalar = scalarLines.has(line);
    const yamlAllows = inScalar ? ' (inside a multi-line value, where YAML allows it, but pack-central checks every line)' : '';
    const tab = content.indexOf('\t');
    if (tab !== -1) tabs.add({ line, column: tab + 1, message: `tab character; use spaces (pack-central rejects tabs in values.yaml)${yamlAllows}` });
    const indent = content.length - content.replace(/^ +/, '').length;
    if (indent % 2 === 1) {
      const what = indent === content.length ? `a line of ${indent} spaces` : `indented by ${indent} spaces`;
      odd.add({ line, column: 1, message: `${what}; indent by a multiple of 2 (pack-central rejects odd indentation)${yamlAllows}` });
    }
    if (/^\s*manifests:$/.test(content)) {
      afterManifests = true;
      calicoIndent = undefined;
    } else if (/^\s*calico:$/.test(content)) {
      calicoIndent = indent;
      calicoLine = line;
    } else if (calicoIndent !== undefined && indent < calicoIndent + 2 && (indent > 0 || (afterManifests && /^\s*[a-zA-Z]/.test(content)))) {
      calico.add({
        line,
        column: 1,
        message: `indented by ${indent} spaces after the calico: on line ${calicoLine}; pack-central's validate-values.sh wants every line after calico: indented by at least ${calicoIndent + 2} until the next manifests: line (move calico: last, or under manifests:)`,
      });
    }
  }
  return [...tabs.done(), ...odd.done(), ...calico.done()];
}

/**
 * Warnings for the keys of a pack file Palette reads (values.yaml, presets.yaml, schema.yaml) that go-yaml
 * reads and sigs.k8s.io/yaml cannot make JSON keys: a uint64 key and a null key. Warnings, as for .inf: how
 * Palette reads these files is not public, and Helm's refusal comes only if the key reaches a chart (the
 * same in a chart's own values.yaml is an error: Helm cannot load that chart).
 */
function notJsonKeyFindings(check: YamlCheck, file: string): Finding[] {
  const findings: Finding[] = [];
  const warn = (key: SourcePosition & { path: string }, what: string, type: string, fix: string): void => {
    const { path, line, column } = key;
    findings.push({
      severity: 'warning',
      rule: 'values-not-json',
      file,
      path,
      line,
      column,
      message: `the key ${path} is ${what} and sigs.k8s.io/yaml cannot make a JSON key ("unsupported map key of type: ${type}"): Helm refuses such values if they reach a chart; ${fix}`,
    });
  };
  if (check.uint64Key !== undefined) warn(check.uint64Key, "an integer past the int64 range, which Go's YAML reader reads as a uint64", 'uint64', 'quote the key');
  if (check.nullKey !== undefined) warn(check.nullKey, "null (~, null or nothing before the colon), which Go's YAML reader reads as no value", '<nil>', 'quote the key ("~":) or remove it');
  return findings;
}

/** Findings of an optional YAML file; what was read and parsed (or that nothing usable was) goes to `yaml`. */
async function optionalYamlFindings(root: string, rel: string, yaml: Map<string, ParsedYamlFile | undefined>): Promise<Finding[]> {
  yaml.set(rel, undefined);
  const stat = await statOrFinding(root, rel);
  if (stat.status === undefined) return stat.findings;
  if (stat.status.kind === 'missing') return [];
  const file = await readPackText(rel, stat.status);
  if (!file.ok) return file.findings;
  // presets.yaml and schema.yaml are read as trees by the deep checks: their values are never needed.
  const check = checkYamlText(file.text, rel, { documents: false, nullKeys: 'record' });
  yaml.set(rel, { text: file.text, parsed: check.parsed });
  return [...check.findings, ...notJsonKeyFindings(check, rel)];
}

/** A file Palette takes as optional but pack-central requires (logo.png, README.md) is missing: a warning, naming a broken link or a look-alike name. */
async function missingOptional(root: string, status: Parameters<typeof brokenLinkText>[0], file: string, rule: string, say: { none: string; lookAlike: (other: string) => string }): Promise<Finding[]> {
  const broken = brokenLinkText(status);
  const other = broken === undefined ? await lookAlikeName(root, file) : undefined;
  const message = broken !== undefined ? `${broken}; replace it with the real file` : other === undefined ? say.none : say.lookAlike(other);
  return [{ severity: 'warning', rule, file, message }];
}

async function logoFindings(root: string): Promise<Finding[]> {
  const stat = await statOrFinding(root, PACK_FILES.logo);
  if (stat.status === undefined) return stat.findings;
  const status = stat.status;
  switch (status.kind) {
    // A warning, as for the README: Spectro's pack structure table (librarium registries-and-packs.md, the
    // OCI-era page) lists logo.png as optional beside the mandatory pack.json and values.yaml; only
    // pack-central's CI refuses a pack without one.
    case 'missing':
      return missingOptional(root, status, PACK_FILES.logo, 'logo-missing', {
        none: "missing; Palette's pack structure lists the logo as optional, but pack-central requires it: add the logo Palette shows for the pack, as a PNG file named logo.png",
        lookAlike: (other) => `missing; found "${other}", but Palette and pack-central look for logo.png exactly: rename it`,
      });
    case 'outside':
      return [{ severity: 'error', rule: 'path-outside-pack', file: PACK_FILES.logo, message: 'a symlink that leads outside the pack folder; put the real file in the pack' }];
    case 'not-file':
      return [{ severity: 'warning', rule: 'logo-missing', file: PACK_FILES.logo, message: `${status.what}, not a file, so Palette shows no logo for the pack and pack-central rejects it: put the logo in a logo.png file` }];
    case 'file':
      break;
  }
  try {
    const png = await checkPng(status.realPath);
    if (png.ok) return [];
    if (png.showable !== undefined) {
      // Palette serves the file as it is and browsers show a JPEG/GIF/WebP whatever its name; pack-central checks only that it exists.
      return [
        {
          severity: 'warning',
          rule: 'logo-not-png',
          file: PACK_FILES.logo,
          message: `a ${png.showable} image named logo.png; browsers still show it, but convert it to a real PNG, e.g. \`magick logo.png PNG:logo.png\` (ImageMagick) or \`sips -s format png logo.png --out logo.png\` (macOS)`,
        },
      ];
    }
    // A warning too: pack-central checks only that logo.png exists and nothing known refuses a pack over
    // its logo's bytes; Palette shows a broken image where the logo goes.
    if (isGitLfsPointer(await readHead(status.realPath, 64))) {
      return [{ severity: 'warning', rule: 'logo-not-png', file: PACK_FILES.logo, message: `a Git LFS pointer file, not the image: the checkout did not fetch the content Git LFS tracks, so Palette would show a broken image as the pack's logo: ${GIT_LFS_FIX}` }];
    }
    return [
      {
        severity: 'warning',
        rule: 'logo-not-png',
        file: PACK_FILES.logo,
        message: `not a PNG image: ${png.reason}; Palette would show a broken image as the pack's logo (pack-central checks only that logo.png exists): convert it to PNG`,
      },
    ];
  } catch (err) {
    return [{ severity: 'error', rule: 'file-unreadable', file: PACK_FILES.logo, message: ioProblem(PACK_FILES.logo, err) }];
  }
}

async function readmeFindings(root: string): Promise<Finding[]> {
  const stat = await statOrFinding(root, PACK_FILES.readme);
  if (stat.status === undefined) return stat.findings;
  switch (stat.status.kind) {
    case 'missing':
      return missingOptional(root, stat.status, PACK_FILES.readme, 'readme-missing', {
        none: 'missing; add one that says what the pack deploys and how to configure it (pack-central requires it)',
        lookAlike: (other) => `missing; found "${other}", but pack-central requires README.md exactly: rename it`,
      });
    case 'outside':
      return [{ severity: 'error', rule: 'path-outside-pack', file: PACK_FILES.readme, message: 'a symlink that leads outside the pack folder; put the real file in the pack' }];
    case 'not-file':
      // As missing: Palette does without a README, pack-central's `[ -f README.md ]` fails either way
      // (push's archive walk refuses a FIFO, socket or device wherever it is: file-not-archivable).
      return [
        {
          severity: 'warning',
          rule: 'readme-missing',
          file: PACK_FILES.readme,
          message: `${stat.status.what}, not a file, so Palette shows no README for the pack and pack-central rejects it: put the text in a README.md file`,
        },
      ];
    case 'file':
      return [];
  }
}
