import { copyFile, lstat, readdir, readlink, rename, rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import semver from 'semver';
import { PackpubError, errorMessage, isPackpubError } from '../errors.js';
import { validateRepositoryPath, validateTag } from '../oci/reference.js';
import { findImages, type FoundImage } from '../pack/chart-images.js';
import { packChartDirectory, type OutsideLink } from '../archive/chart-package.js';
import { isAlwaysExcluded, packignoreLeavesOut } from '../archive/walk.js';
import { isChartArchiveName, linkEntriesText, missingDependencies, readChart, subchartValueKeys, type HelmChart } from '../pack/chart.js';
import { placeholderLogo } from '../pack/logo.js';
import { goSemverProblem } from '../pack/go-semver.js';
import { PACK_FILES, PACK_LAYERS, type PackLayer } from '../pack/model.js';
import { displayNameFor, exampleManifestText, kubernetesName, packJsonText, readmeText, valuesYamlText } from '../pack/scaffold.js';
import { subchartCrdFindings, subchartTemplateFindings } from '../pack/values-schema.js';
import { checkYamlText } from '../pack/yaml-source.js';
import { parseYamlTree } from '../pack/yaml-tree.js';
import { makeDirs, tempPathFor, writeFileAtomic } from '../util/fs.js';
import { localWriteError } from '../util/local-write.js';

export interface InitOptions {
  /** Folder to create the pack in; created when missing. */
  dir: string;
  /** pack.json name. Required without `fromChart`; defaults to the chart's Chart.yaml name. */
  name?: string;
  /** pack.json version. Required without `fromChart`; defaults to the chart's version (see chartVersionFrom). */
  version?: string;
  /** Default: the name in title case (`hello-universe` -> `Hello Universe`). */
  displayName?: string;
  /** Default `addon`. */
  layer?: PackLayer;
  /** Default `system app` for add-on packs (the validator warns when it is missing); ignored for other layers unless given. */
  addonType?: string;
  /** pack.namespace. Default: the name as a Kubernetes name. */
  namespace?: string;
  /** A chart `.tgz` or an unpacked chart directory to build the pack from. */
  fromChart?: string;
  /** Which Chart.yaml field gives the default version. Default `version`. */
  chartVersionFrom?: 'version' | 'appVersion';
  /** Write into a non-empty folder, replacing files of the same names. Default false. */
  force?: boolean;
  /** mtime of the entries when a chart directory is packed (SOURCE_DATE_EPOCH). Default a fixed date. */
  sourceDateEpoch?: number;
}

export interface InitChart {
  /** Chart.yaml name: the key under `charts:`. */
  name: string;
  version?: string;
  appVersion?: string;
  /** The archive in the pack, as listed in pack.json (`charts/<file>.tgz`). */
  archive: string;
  /** True when a chart directory was packed into the archive (else the given .tgz was copied). */
  packed: boolean;
  /** Keys of the vendored subcharts, nested as `parent/child`. */
  subcharts: string[];
}

export interface InitResult {
  /** Absolute pack folder. */
  dir: string;
  name: string;
  version: string;
  displayName: string;
  layer: PackLayer;
  /** Files written, relative to `dir`, sorted. */
  files: string[];
  chart?: InitChart;
  /** Images written to pack.content.images. */
  images: FoundImage[];
  /** The images the author should check (empty, templated or floating tags). */
  review: FoundImage[];
  /** Things packpub decided or could not do, one line each. */
  notes: string[];
}

const DEFAULT_ADDON_TYPE = 'system app';

async function ensureWritableDir(dir: string, force: boolean): Promise<void> {
  let entries: string[];
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) {
      throw new PackpubError('USAGE', `${dir} exists and is not a folder`, { hint: 'give a new folder name (packpub init creates it)' });
    }
    entries = await readdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      // A link to nothing: init would make no folder there (it ended "a bug in packpub", then LOCAL_WRITE, exit 1).
      const link = await readlink(dir).catch(() => undefined);
      if (link === undefined) return;
      throw new PackpubError('USAGE', `${dir} is a symbolic link to ${link}, which does not exist`, { hint: 'give a new folder name (packpub init creates it), or create the folder the link names' });
    }
    // The machine's words were shown as they came ("ENOTDIR: not a directory, stat ...").
    if (code === 'ENOTDIR') throw new PackpubError('USAGE', `cannot create the pack folder ${dir}: a part of its path is a file, not a folder`, { hint: 'give a folder whose parents are folders' });
    if (code === 'ELOOP') throw new PackpubError('USAGE', `cannot create the pack folder ${dir}: a symbolic link on its way leads back to itself`, { hint: 'fix or remove that link, or give another folder' });
    throw folderError(err, dir);
  }
  if (entries.length > 0 && !force) {
    throw new PackpubError('USAGE', `${dir} is not empty (${entries.length} entr${entries.length === 1 ? 'y' : 'ies'})`, {
      hint: 'give a new or empty folder, or add --force to write into it (files with the same names are replaced)',
    });
  }
}

/**
 * `init --force` replaces the files of init's names; one of them (or the manifests/ or charts/ folder) that is a
 * symbolic link is refused before anything is written: init wrote where it led, a file outside the folder replaced
 * (exit 0, and the pack then failed validate on the link).
 */
async function refuseLinks(dir: string, rels: readonly string[]): Promise<void> {
  const links: string[] = [];
  for (const rel of rels) {
    const path = join(dir, rel);
    if ((await lstat(path).catch(() => undefined))?.isSymbolicLink() === true) links.push(`${rel} (to ${await readlink(path).catch(() => '?')})`);
  }
  if (links.length === 0) return;
  const one = links.length === 1;
  throw new PackpubError('USAGE', `${dir}: ${links.join(', ')} ${one ? 'is a symbolic link' : 'are symbolic links'}; init --force replaces files there, and would write where ${one ? 'it leads' : 'they lead'}`, {
    hint: `remove ${one ? 'the link' : 'the links'} (or give another folder), then run init again; nothing was written`,
  });
}

/**
 * The pack folder could not be read or made (a path through a file, no permission, /proc or /sys): the machine's
 * answer, naming the folder, as a usage error (nothing was written); disk full and the like as LOCAL_WRITE.
 */
function folderError(err: unknown, dir: string): unknown {
  const local = localWriteError(err, dir);
  if (local !== err || err instanceof PackpubError || (err as NodeJS.ErrnoException).code === undefined) return local;
  return new PackpubError('USAGE', `cannot create the pack folder ${dir}: ${errorMessage(err)}`, { hint: 'give a folder you can create and write to', cause: err });
}

/** Name and version are user input here: a bad one is a usage error (exit 2), nothing is written. */
function packName(name: string, fromChart: boolean): string {
  const hint = fromChart ? 'pass --name with a lowercase name such as my-chart' : 'use lowercase letters, digits and "-", e.g. my-pack';
  if (name.includes('/')) {
    throw new PackpubError('USAGE', `pack name "${name}" contains "/"`, { hint: `it becomes the last part of the OCI repository; ${hint}` });
  }
  try {
    return validateRepositoryPath(name, 'pack name');
  } catch (err) {
    if (err instanceof PackpubError) throw new PackpubError('USAGE', err.message, { hint: fromChart ? hint : (err.hint ?? hint), cause: err });
    throw err;
  }
}

/**
 * The version must be one `validate --strict` accepts (init promises that): an OCI tag that is a semantic
 * version without a leading "v" (pack-central's rule; see the version-* rules in pack/validate.ts).
 */
function packVersion(version: string, fromChart: boolean): string {
  try {
    validateTag(version, 'pack version');
  } catch (err) {
    if (err instanceof PackpubError) {
      const plus = withoutBuildSign(version);
      const hint =
        plus !== undefined
          ? `pass --version ${plus} (a tag cannot hold "+"; Helm's own OCI push writes it as "_", which Palette cannot order as a version)`
          : fromChart
            ? 'pass --version with a valid version such as 1.2.3'
            : (err.hint ?? '');
      throw new PackpubError('USAGE', err.message, { hint, cause: err });
    }
    throw err;
  }
  const bare = /^v\d/i.test(version) ? version.slice(1) : version;
  if (bare !== version) {
    throw new PackpubError('USAGE', `pack version "${version}" starts with "v", which pack-central rejects`, { hint: `pass --version ${bare}` });
  }
  // The reader validate's version-not-semver uses (Palette's and Helm's: Masterminds semver), so a chart
  // version such as 23.07.1 (NetApp's trident-operator, published in pack-central) or 1.5 is taken.
  const problem = goSemverProblem(version);
  if (problem !== undefined) {
    const guess = semver.coerce(version)?.version ?? '1.0.0';
    throw new PackpubError('USAGE', `pack version "${version}" is not a semantic version Palette can order (${problem}); Palette reads MAJOR[.MINOR[.PATCH]][-PRERELEASE]`, {
      hint: `pass --version ${guess}${fromChart ? ', or --chart-version-from with the other Chart.yaml field' : ''}`,
    });
  }
  return version;
}

/**
 * A version with semver build metadata (`104.3.0+up1.3.0`, as Rancher's charts are versioned) as a pre-release
 * an OCI tag can hold and Palette can order (`104.3.0-up1.3.0`; after an existing pre-release, `.`), or undefined.
 */
function withoutBuildSign(version: string): string | undefined {
  const at = version.indexOf('+');
  if (at <= 0 || version.indexOf('+', at + 1) !== -1) return undefined;
  const core = version.slice(0, at);
  const guess = `${core}${core.includes('-') ? '.' : '-'}${version.slice(at + 1)}`;
  try {
    validateTag(guess);
  } catch {
    return undefined;
  }
  return goSemverProblem(guess) === undefined && !/^v/i.test(guess) ? guess : undefined;
}

/**
 * A display name or add-on type is one line of text: a line break went into values.yaml's first comment and
 * broke out of it (`--display-name $'My pack\nregistry: x'` wrote a top-level key, or YAML that does not parse),
 * and an empty display name is one validate refuses. Refused before anything is written.
 */
function oneLine(flag: string, value: string, required: boolean): void {
  // eslint-disable-next-line no-control-regex
  const control = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.exec(value);
  if (control !== null) {
    const code = `U+${control[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
    throw new PackpubError('USAGE', `${flag} holds a line break or control character (${code})`, { hint: `give ${flag} as one line of text` });
  }
  if (required && value.trim() === '') throw new PackpubError('USAGE', `${flag} is empty`, { hint: `give ${flag} a name Palette can show, or leave it out for the pack name in title case` });
}

/** pack.namespace is the Kubernetes namespace the pack installs into: a DNS-1123 label, as Kubernetes requires. */
function namespaceName(namespace: string): void {
  if (/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) return;
  throw new PackpubError('USAGE', `--namespace ${JSON.stringify(namespace)} is not a Kubernetes namespace name`, {
    hint: `use at most 63 lowercase letters, digits and "-", starting and ending with a letter or digit, e.g. ${kubernetesName(namespace)}`,
  });
}

/**
 * Refuses the archive packed from the chart folder `source` (at `archive`, its top folder `name`) for what Helm's
 * install cannot get past that the folder reader does not look at (a crds/ file Helm cannot apply, a template without
 * actions that is no Kubernetes object, control characters Go's YAML reader refuses): read as a .tgz given to
 * --from-chart is, so init refuses a chart folder as it refuses that chart's archive, in the folder's paths. Gives
 * back the chart as read from the archive, whose subcharts' notes (crds/ files, templates) are validate's.
 */
async function refuseAsArchive(archive: string, source: string, name: string): Promise<HelmChart> {
  try {
    return await readChart(archive, { templates: false });
  } catch (err) {
    if (!isPackpubError(err)) throw err;
    const message = err.message.split(`${archive}:${name}/`).join(`${source}/`).split(archive).join(source);
    throw new PackpubError(err.code, message, { ...(err.hint === undefined ? {} : { hint: err.hint }), cause: err });
  }
}

/**
 * What init says of the links out of a chart folder whose content it packed, as `helm package` and `helm install
 * <folder>` do (Helm's directory loader follows every link and logs it): the pack now publishes those files.
 */
function outsideLinksText(links: readonly OutsideLink[], source: string, archive: string): string {
  const shown = links.slice(0, 5).map((l) => `${join(source, l.rel)} -> ${l.target}`);
  const more = links.length > shown.length ? ` and ${links.length - shown.length} more` : '';
  const one = links.length === 1;
  return `${shown.join(', ')}${more}: ${one ? 'a symbolic link' : 'symbolic links'} out of the chart folder, followed as Helm follows ${one ? 'it' : 'them'} ("found symbolic link in path ... Contents of linked file included and used"): what ${one ? 'it points' : 'they point'} to is packed into ${archive} under the link's path, and published with the pack; check that it holds nothing you do not mean to publish`;
}

/** Images of a chart and its vendored subcharts, review flags included. */
function chartImages(chart: HelmChart, prefix: string[] = [], depth = 0): FoundImage[] {
  const out: FoundImage[] = [];
  try {
    const tree = parseYamlTree(chart.valuesText);
    out.push(...findImages(tree, { prefix, ...(chart.appVersion === undefined ? {} : { appVersion: chart.appVersion }) }));
  } catch {
    // A chart whose values do not parse names no images we can trust.
  }
  if (depth < 8) {
    for (const sub of chart.subcharts) {
      const key = subchartValueKeys(chart, sub)[0] ?? sub.name;
      out.push(...chartImages(sub, [...prefix, key], depth + 1));
    }
  }
  const seen = new Set<string>();
  return out.filter((i) => !seen.has(i.image) && seen.add(i.image));
}

function subchartKeys(chart: HelmChart, prefix = '', depth = 0): string[] {
  if (depth >= 8) return [];
  return chart.subcharts.flatMap((sub) =>
    subchartValueKeys(chart, sub).flatMap((key) => {
      const path = prefix === '' ? key : `${prefix}/${key}`;
      return [path, ...subchartKeys(sub, path, depth + 1)];
    }),
  );
}


/**
 * Scaffold a pack that passes `validate --strict`: pack.json, values.yaml, README.md, a placeholder
 * logo.png, and either an example manifest or a Helm chart (copied, or packed from a directory) with
 * its default values nested under `charts.<chart-name>` and its images listed in pack.content.images.
 */
export async function initPack(options: InitOptions): Promise<InitResult> {
  const dir = resolve(options.dir);
  const notes: string[] = [];
  const layer = options.layer ?? 'addon';
  if (!(PACK_LAYERS as readonly string[]).includes(layer)) {
    throw new PackpubError('USAGE', `layer "${layer}" is not one of ${PACK_LAYERS.join(', ')}`, { hint: 'most packs you write are add-ons: --layer addon' });
  }

  let chart: HelmChart | undefined;
  let chartIsDir = false;
  if (options.fromChart !== undefined) {
    const source = resolve(options.fromChart);
    try {
      chart = await readChart(source);
    } catch (err) {
      // A --from-chart path that does not exist is a mistake on the command line (exit 2).
      if (isPackpubError(err, 'NOT_FOUND')) throw new PackpubError('USAGE', err.message, { hint: err.hint ?? '', cause: err });
      throw err;
    }
    chartIsDir = (await stat(source)).isDirectory();
  }

  let name = options.name;
  let version = options.version;
  if (chart !== undefined) {
    name ??= chart.name;
    if (version === undefined) {
      const field = options.chartVersionFrom ?? 'version';
      const value = field === 'appVersion' ? chart.appVersion : chart.version;
      if (value === undefined) {
        throw new PackpubError('USAGE', `the chart's Chart.yaml has no ${field}`, { hint: `pass --version, or --chart-version-from ${field === 'version' ? 'appVersion' : 'version'}` });
      }
      // pack-central rejects a leading "v" (palette-packs.md); charts often carry one in appVersion.
      version = /^v\d/.test(value) ? value.slice(1) : value;
      if (version !== value) notes.push(`version ${version} taken from the chart's ${field} "${value}" without the leading "v" (pack-central rejects it)`);
    }
  }
  if (name === undefined || version === undefined) {
    throw new PackpubError('USAGE', `packpub init needs ${name === undefined ? '--name' : '--version'}`, {
      hint: 'pass --name and --version, or --from-chart to take them from a Helm chart',
    });
  }
  name = packName(name, chart !== undefined && options.name === undefined);
  version = packVersion(version, chart !== undefined && options.version === undefined);
  const displayName = options.displayName ?? displayNameFor(name);
  oneLine('--display-name', displayName, true);
  if (options.addonType !== undefined) oneLine('--addon-type', options.addonType, false);
  let addonType = options.addonType;
  if (layer === 'addon' && (addonType === undefined || addonType === '')) {
    addonType = DEFAULT_ADDON_TYPE;
    notes.push(`addonType set to "${DEFAULT_ADDON_TYPE}"; pick the category Palette lists the pack under with --addon-type (e.g. monitoring, security, ingress)`);
  }
  const namespace = options.namespace ?? kubernetesName(name);
  if (options.namespace !== undefined) namespaceName(options.namespace);

  // Checked before anything is written; folders are created only once the content is ready.
  await ensureWritableDir(dir, options.force === true);
  const fromChart = chart !== undefined && options.fromChart !== undefined ? chart : undefined;
  const given = options.fromChart === undefined ? '' : basename(resolve(options.fromChart));
  const chartRel = fromChart === undefined ? undefined : `charts/${!chartIsDir && isChartArchiveName(given) ? given : `${fromChart.name}-${fromChart.version ?? version}.tgz`}`;
  if (options.force === true) await refuseLinks(dir, [PACK_FILES.packJson, PACK_FILES.values, PACK_FILES.readme, PACK_FILES.logo, ...(chartRel === undefined ? ['manifests', `manifests/${name}.yaml`] : ['charts', chartRel])]);
  const files: string[] = [];
  const write = async (rel: string, data: string | Buffer): Promise<void> => {
    await writeFileAtomic(join(dir, rel), data);
    files.push(rel);
  };

  let images: FoundImage[] = [];
  let initChart: InitChart | undefined;
  let kubeManifests: string[] | undefined;
  let manifestKey: string | undefined;
  let valuesText: string;

  if (chart !== undefined && options.fromChart !== undefined && chartRel !== undefined) {
    const source = resolve(options.fromChart);
    const rel = chartRel;
    images = chartImages(chart);
    valuesText = valuesYamlText({
      displayName,
      version,
      namespace,
      images,
      chart: { key: chart.name, valuesText: chart.valuesText, source: `chart ${chart.name}${chart.version === undefined ? '' : ` ${chart.version}`}` },
    });
    verifyChartValues(valuesText, chart, notes);
    // The first folder this creates (the pack folder or its charts/), removed again if the chart is not written.
    const created = await makeDirs(join(dir, 'charts')).catch((err: unknown) => Promise.reject(folderError(err, dir)));
    const tmp = tempPathFor(join(dir, rel));
    // The chart as published: a folder's as read from the archive packed from it, as validate reads it (the folder
    // reader does not look at a subchart's crds/ files or its templates without actions).
    let published = chart;
    try {
      if (chartIsDir) {
        const packed = await packChartDirectory(source, tmp, options.sourceDateEpoch === undefined ? {} : { sourceDateEpoch: options.sourceDateEpoch });
        published = await refuseAsArchive(tmp, source, chart.name);
        if (packed.outsideLinks.length > 0) notes.push(outsideLinksText(packed.outsideLinks, source, rel));
        await rename(tmp, join(dir, rel));
      } else {
        await copyFile(source, tmp);
        await rename(tmp, join(dir, rel));
      }
    } catch (err) {
      await rm(tmp, { force: true });
      if (created !== undefined) await rm(created, { recursive: true, force: true });
      throw err;
    }
    files.push(rel);
    initChart = {
      name: chart.name,
      ...(chart.version === undefined ? {} : { version: chart.version }),
      ...(chart.appVersion === undefined ? {} : { appVersion: chart.appVersion }),
      archive: rel,
      packed: chartIsDir,
      subcharts: subchartKeys(chart),
    };
    // A subchart's crds/ file or template Helm cannot read: validate refuses the pack while the values (the chart's
    // own, as written here) enable that subchart, and warns otherwise.
    const read = [{ rel, chart: published }];
    for (const f of [...subchartCrdFindings(read, ''), ...subchartTemplateFindings(read, '')]) notes.push(f.severity === 'error' ? `validate refuses this pack as written: ${f.message}` : f.message);
    for (const dep of missingDependencies(chart)) {
      notes.push(`the chart depends on "${dep.name}"${dep.version === undefined ? '' : ` ${dep.version}`}, which is not in its charts/ folder: run \`helm dependency build\` on the chart and init again (\`helm install\` refuses a chart whose dependencies are missing)`);
    }
    if (chart.linkEntries !== undefined) {
      notes.push(`${linkEntriesText(chart.linkEntries, source)}: rebuild it with \`helm package <chart-dir>\` (or give init the chart folder) and init again`);
    }
  } else {
    manifestKey = name;
    kubeManifests = [`manifests/${manifestKey}.yaml`];
    valuesText = valuesYamlText({ displayName, version, namespace, images: [], manifestKey, manifestFile: kubeManifests[0] });
  }

  if (images.length === 0 && layer !== 'os' && layer !== 'k8s') {
    notes.push('pack.content.images in values.yaml is empty: list every container image the pack deploys (`- image: REGISTRY/REPO:TAG`); validate --strict and pack-central fail an add-on pack without them');
  }

  await makeDirs(dir).catch((err: unknown) => Promise.reject(folderError(err, dir)));
  await write(
    PACK_FILES.packJson,
    packJsonText({
      name,
      version,
      displayName,
      layer,
      ...(addonType === undefined || addonType === '' ? {} : { addonType }),
      ...(initChart === undefined ? {} : { charts: [initChart.archive] }),
      ...(kubeManifests === undefined ? {} : { kubeManifests }),
    }),
  );
  await write(PACK_FILES.values, valuesText);
  await write(
    PACK_FILES.readme,
    readmeText({
      name,
      displayName,
      version,
      layer,
      ...(initChart === undefined
        ? {}
        : { chart: { name: initChart.name, key: initChart.name, archive: initChart.archive, ...(initChart.version === undefined ? {} : { version: initChart.version }), ...(initChart.appVersion === undefined ? {} : { appVersion: initChart.appVersion }) } }),
      ...(kubeManifests === undefined || manifestKey === undefined ? {} : { manifest: { file: kubeManifests[0] ?? '', key: manifestKey } }),
    }),
  );
  await write(PACK_FILES.logo, placeholderLogo(name));
  if (kubeManifests !== undefined && manifestKey !== undefined) {
    await makeDirs(join(dir, 'manifests'));
    await write(kubeManifests[0] ?? '', exampleManifestText(name, manifestKey));
  }

  files.sort();
  if (options.force === true) {
    // --force replaces the files init writes and leaves the others: an earlier init's chart or example manifest
    // stayed, unlisted in the new pack.json, and went into every push's archive without a word.
    const left = await leftBehind(dir, new Set(files));
    if (left.length > 0) {
      notes.push(`left in the folder from before (pack.json does not list them, but push packs every file): ${left.join(', ')}; remove what the pack does not need, or list it in .packignore`);
    }
  }
  return {
    dir,
    name,
    version,
    displayName,
    layer,
    files,
    ...(initChart === undefined ? {} : { chart: initChart }),
    images,
    review: images.filter((i) => i.review !== undefined),
    notes,
  };
}

/** Files under the folders init writes to (the pack folder, charts/, manifests/) that this run did not write. */
async function leftBehind(dir: string, written: ReadonlySet<string>): Promise<string[]> {
  const out: string[] = [];
  for (const sub of ['', 'charts', 'manifests']) {
    const entries = await readdir(join(dir, sub), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const rel = sub === '' ? e.name : `${sub}/${e.name}`;
      if (sub === '' && e.isDirectory() && (e.name === 'charts' || e.name === 'manifests')) continue;
      if (written.has(rel) || rel === '.packignore' || isAlwaysExcluded(e.name) || (await packignoreLeavesOut(dir, rel))) continue;
      out.push(e.isDirectory() ? `${rel}/` : rel);
    }
  }
  return out.sort();
}

/**
 * The generated values.yaml must hold exactly the chart's defaults under charts.<name>: the text was
 * re-indented, not re-serialised, so check it reads back the same before writing anything.
 */
function verifyChartValues(valuesText: string, chart: HelmChart, notes: string[]): void {
  const load = (text: string, what: string): unknown => {
    const check = checkYamlText(text, what);
    const error = check.findings.find((f) => f.severity === 'error');
    if (!check.ok || error !== undefined) throw new Error(`${error?.line === undefined ? '' : `line ${error.line}: `}${error?.message ?? 'not valid YAML'}`);
    return check.documents[0];
  };
  let expected: unknown;
  try {
    expected = load(chart.valuesText, 'values.yaml') ?? {};
  } catch (err) {
    notes.push(`the chart's values.yaml does not parse (${errorMessage(err).split('\n')[0]}); it was copied as is under charts.${chart.name}: fix it there`);
    return;
  }
  let actual: unknown;
  try {
    const doc = load(valuesText, 'values.yaml') as { charts?: Record<string, unknown> };
    actual = doc.charts?.[chart.name] ?? {};
  } catch (err) {
    throw new PackpubError('INTERNAL', `the generated values.yaml does not parse: ${errorMessage(err)}`, { hint: 'this is a bug in packpub; please report it with the chart', cause: err });
  }
  if (!isDeepStrictEqual(actual, expected)) {
    throw new PackpubError('INTERNAL', `the generated values.yaml does not reproduce chart ${chart.name}'s default values`, { hint: 'this is a bug in packpub; please report it with the chart' });
  }
}
