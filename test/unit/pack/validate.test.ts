import { mkdir, mkdtemp, rename, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPackpubError } from '../../../src/errors.js';
import { discoverPacks } from '../../../src/operations/discover.js';
import type { Finding } from '../../../src/pack/findings.js';
import { MAX_PACK_TEXT_BYTES, loadPack, validatePack } from '../../../src/pack/index.js';
import { zeroBombTgz } from './fixtures.js';
import { makeFifo, putFile, tgz } from '../../support/files.js';
import { VALID_VALUES, packJsonWith, writeValidPack } from '../../support/packs.js';

let root: string;
let counter = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'packpub-validate-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A fresh valid pack in its own folder (plus a sibling folder for things "outside" the pack). */
async function freshPack(): Promise<string> {
  const base = join(root, `case-${++counter}`);
  const dir = join(base, 'pack');
  await mkdir(dir, { recursive: true });
  return writeValidPack(dir);
}

type Expected = Partial<Finding> & { severity: Finding['severity']; rule: string; file: string; message: string };

interface Case {
  name: string;
  mutate: (dir: string) => Promise<void>;
  /** The finding the user sees; `message` is a fragment of it. */
  expect: Expected;
  /** Other rules this breakage also (rightly) triggers. */
  alsoRules?: string[];
}

const writeJson = (edit: (json: Record<string, unknown>) => void) => (dir: string) => putFile(dir, 'pack.json', packJsonWith(edit));
const dependency = (json: Record<string, unknown>) => (json['constraints'] as { dependencies: Record<string, unknown>[] }).dependencies[0]!;
const resource = (json: Record<string, unknown>) => (json['constraints'] as { resources: Record<string, unknown>[] }).resources[0]!;
/** `file` removed from the valid pack. */
const removed = (file: string) => (dir: string) => rm(join(dir, file));
/** `file` of the valid pack replaced by an empty folder of the same name. */
const folderInstead = (file: string) => async (dir: string) => {
  await rm(join(dir, file));
  await mkdir(join(dir, file));
};
/** `file` of the valid pack replaced by a symlink to `target`. */
const linkInstead = (file: string, target: string) => async (dir: string) => {
  await rm(join(dir, file));
  await symlink(target, join(dir, file));
};
/** `gone` removed from the valid pack and `rel` written beside where it was (another version, name or case). */
const replaced = (gone: string, rel: string, content: () => string | Promise<Buffer>) => async (dir: string) => {
  await rm(join(dir, gone));
  await putFile(dir, rel, await content());
};

/** `file` is there only as `as` (another case or extension): it counts as missing, and the finding says to rename it. */
const misnamed = (name: string, file: string, as: string, severity: Finding['severity'], rule: string, reader: string): Case => ({
  name,
  mutate: (dir) => rename(join(dir, file), join(dir, as)),
  expect: { severity, rule, file, message: `missing; found "${as}", but ${reader}: rename it` },
});

/** logo.png holds `content`, which is no PNG image. */
const notPng = (name: string, content: string | Buffer, severity: Finding['severity'], message: string): Case => ({
  name,
  mutate: (dir) => putFile(dir, 'logo.png', content),
  expect: { severity, rule: 'logo-not-png', file: 'logo.png', message },
});

/** The valid pack's chart archive, charts/web-1.0.0.tgz, made of `entries` alone: the finding is on that file. */
const chartArchive = (name: string, entries: Record<string, string>, expect: Omit<Expected, 'file'>): Case => ({
  name,
  mutate: async (dir) => putFile(dir, 'charts/web-1.0.0.tgz', await tgz(entries)),
  expect: { ...expect, file: 'charts/web-1.0.0.tgz' },
});

const cases: Case[] = [
  {
    name: 'pack.json missing',
    mutate: removed('pack.json'),
    expect: { severity: 'error', rule: 'pack-json-missing', file: 'pack.json', message: 'every pack needs one' },
  },
  {
    name: 'pack.json with a trailing comma',
    mutate: (dir) => putFile(dir, 'pack.json', '{\n  "name": "web",\n  "version": "1.0.0",\n}\n'),
    expect: { severity: 'error', rule: 'pack-json-syntax', file: 'pack.json', line: 3, column: 21, message: "trailing comma before '}'" },
  },
  {
    name: 'pack.json with single-quoted strings',
    mutate: (dir) => putFile(dir, 'pack.json', "{\n  'name': 'web'\n}\n"),
    expect: { severity: 'error', rule: 'pack-json-syntax', file: 'pack.json', line: 2, column: 3, message: 'double quotes' },
  },
  {
    name: 'pack.json cut short',
    mutate: (dir) => putFile(dir, 'pack.json', '{\n  "name": "web",\n  "layer": ['),
    expect: { severity: 'error', rule: 'pack-json-syntax', file: 'pack.json', line: 3, message: 'unexpected end of file' },
  },
  {
    name: 'displayName missing',
    mutate: writeJson((j) => delete j['displayName']),
    expect: { severity: 'error', rule: 'pack-json-schema', file: 'pack.json', path: 'displayName', line: 1, message: 'required field "displayName" is missing' },
  },
  {
    name: 'version missing',
    mutate: writeJson((j) => delete j['version']),
    expect: { severity: 'error', rule: 'pack-json-schema', file: 'pack.json', path: 'version', message: 'e.g. "1.0.0"' },
  },
  {
    name: 'layer not in the enum',
    mutate: writeJson((j) => (j['layer'] = 'addons')),
    expect: {
      severity: 'error',
      rule: 'pack-json-schema',
      file: 'pack.json',
      path: 'layer',
      line: 17,
      column: 12,
      message: 'must be one of kernel, os, k8s, cni, csi, addon (found "addons")',
    },
  },
  {
    name: 'dependency with a bad layer',
    mutate: writeJson((j) => (dependency(j)['layer'] = 'kubernetes')),
    expect: {
      severity: 'error',
      rule: 'pack-json-schema',
      file: 'pack.json',
      path: 'constraints.dependencies[0].layer',
      line: 24,
      column: 18,
      message: 'must be one of kernel, os, k8s, cni, csi, addon',
    },
  },
  {
    name: 'dependency without packName',
    mutate: writeJson((j) => delete dependency(j)['packName']),
    expect: { severity: 'error', rule: 'pack-json-schema', file: 'pack.json', path: 'constraints.dependencies[0].packName', line: 22, message: 'required field "packName" is missing' },
  },
  {
    // Palette serves such packs (pack-central has one); pack-central's pack-schema.json requires the field.
    name: 'dependency without type',
    mutate: writeJson((j) => delete dependency(j)['type']),
    expect: { severity: 'warning', rule: 'dependency-type-missing', file: 'pack.json', path: 'constraints.dependencies[0].type', message: 'pack-central\'s schema requires it' },
  },
  {
    name: 'dependency with an unknown type',
    mutate: writeJson((j) => (dependency(j)['type'] = 'mandatory')),
    expect: { severity: 'error', rule: 'pack-json-schema', file: 'pack.json', path: 'constraints.dependencies[0].type', message: 'must be one of required, optional, notSupported, upgrade' },
  },
  {
    name: 'resource with an unknown type',
    mutate: writeJson((j) => (resource(j)['type'] = 'gpu')),
    expect: { severity: 'error', rule: 'pack-json-schema', file: 'pack.json', path: 'constraints.resources[0].type', message: 'must be one of cpu, memory, diskSize' },
  },
  {
    name: 'resource minLimit written as a string',
    mutate: writeJson((j) => (resource(j)['minLimit'] = '100')),
    expect: { severity: 'error', rule: 'pack-json-schema', file: 'pack.json', path: 'constraints.resources[0].minLimit', line: 33, message: 'must be a number (found a string)' },
  },
  {
    name: 'resource component with a bad scheduleType',
    mutate: writeJson((j) => ((resource(j)['components'] as Record<string, unknown>[])[0]!['scheduleType'] = 'controlplane')),
    expect: { severity: 'error', rule: 'pack-json-schema', file: 'pack.json', path: 'constraints.resources[0].components[0].scheduleType', message: 'all, master, worker, control-plane' },
  },
  {
    name: 'annotation value that is not a string',
    mutate: writeJson((j) => ((j['annotations'] as Record<string, unknown>)['ingressSupported'] = true)),
    expect: { severity: 'error', rule: 'pack-json-schema', file: 'pack.json', path: 'annotations.ingressSupported', line: 6, message: 'must be a string (found a boolean); put it in double quotes: "true"' },
  },
  {
    name: 'pack.json holding an array',
    mutate: (dir) => putFile(dir, 'pack.json', '[]\n'),
    expect: { severity: 'error', rule: 'pack-json-schema', file: 'pack.json', line: 1, message: 'must be an object (found an array)' },
  },
  {
    name: 'version with +build metadata (not an OCI tag)',
    mutate: writeJson((j) => (j['version'] = '1.0.0+build.5')),
    expect: { severity: 'error', rule: 'version-not-oci-tag', file: 'pack.json', path: 'version', line: 19, message: '"+" is not allowed' },
  },
  {
    name: 'version with a leading v',
    mutate: writeJson((j) => (j['version'] = 'v1.0.0')),
    expect: { severity: 'warning', rule: 'version-leading-v', file: 'pack.json', path: 'version', line: 19, message: 'use "1.0.0"' },
  },
  {
    name: 'version with four numeric parts (Palette cannot order it)',
    mutate: writeJson((j) => (j['version'] = '1.2.3.4')),
    expect: {
      severity: 'warning',
      rule: 'version-not-semver',
      file: 'pack.json',
      path: 'version',
      line: 19,
      message: 'version "1.2.3.4" is not a semantic version Palette can order (more than three numeric parts); Palette and its Terraform provider read versions as MAJOR[.MINOR[.PATCH]][-PRERELEASE], so use e.g. "1.2.3"',
    },
  },
  {
    name: 'version with a leading zero in a numeric prerelease identifier',
    mutate: writeJson((j) => (j['version'] = '1.0.0-rc.01')),
    expect: { severity: 'warning', rule: 'version-not-semver', file: 'pack.json', path: 'version', message: '(the numeric prerelease identifier "01" has a leading zero)' },
  },
  {
    // Palette's reader (Masterminds semver) reads each numeric part into a uint64.
    name: 'version with a number past 2^64-1',
    mutate: writeJson((j) => (j['version'] = '18446744073709551616.0.0')),
    expect: { severity: 'warning', rule: 'version-not-semver', file: 'pack.json', path: 'version', message: '(the number 18446744073709551616 is larger than 18446744073709551615, the largest it reads)' },
  },
  {
    // pack-central's `case v*` is lowercase; Palette's reader takes only a lowercase v too.
    name: 'version with an uppercase V',
    mutate: writeJson((j) => (j['version'] = 'V1.0.0')),
    expect: { severity: 'warning', rule: 'version-not-semver', file: 'pack.json', path: 'version', message: 'not of the form MAJOR[.MINOR[.PATCH]][-PRERELEASE]' },
  },
  {
    name: 'name with uppercase letters',
    mutate: writeJson((j) => (j['name'] = 'Web_App')),
    expect: { severity: 'error', rule: 'name-not-oci', file: 'pack.json', path: 'name', line: 18, message: 'use lowercase: "web_app"' },
  },
  {
    name: 'name with a slash',
    mutate: writeJson((j) => (j['name'] = 'team/web')),
    expect: { severity: 'error', rule: 'name-not-oci', file: 'pack.json', path: 'name', message: 'single OCI repository path component' },
  },
  {
    name: 'addon without addonType',
    mutate: writeJson((j) => delete j['addonType']),
    expect: { severity: 'warning', rule: 'addon-type-missing', file: 'pack.json', path: 'addonType', message: 'set it (e.g. "monitoring"' },
  },
  {
    name: 'unknown cloud type',
    mutate: writeJson((j) => (j['cloudTypes'] = ['all', 'awz'])),
    expect: { severity: 'warning', rule: 'cloud-type-unknown', file: 'pack.json', path: 'cloudTypes[1]', line: 9, message: 'cloud type "awz" is not one pack-central\'s schema lists (all, aws' },
  },
  {
    name: 'huge number in pack.json',
    // Raw text: JSON.stringify cannot write 1e400.
    mutate: (dir) => putFile(dir, 'pack.json', packJsonWith(() => undefined).replace('"minLimit": 100', '"minLimit": 1e400')),
    expect: { severity: 'error', rule: 'pack-json-number', file: 'pack.json', path: 'constraints.resources[0].minLimit', line: 33, message: 'too large to represent' },
  },
  {
    name: 'duplicate key in pack.json',
    mutate: (dir) =>
      putFile(dir, 'pack.json', packJsonWith(() => undefined).replace('"name": "web",', '"name": "web",\n  "name": "web2",')),
    expect: { severity: 'warning', rule: 'pack-json-duplicate-key', file: 'pack.json', path: 'name', line: 19, column: 3, message: '"name" appears more than once' },
  },
  {
    // Go's encoding/json matches "NAME" to the name field too, and keeps the later value (review27's finding).
    name: 'keys differing only in case in pack.json',
    mutate: (dir) => putFile(dir, 'pack.json', packJsonWith(() => undefined).replace('"name": "web",', '"name": "web",\n  "NAME": "other",')),
    expect: { severity: 'warning', rule: 'pack-json-duplicate-key', file: 'pack.json', path: 'NAME', line: 19, message: '"NAME" and "name" differ only in case: a Go reader of pack.json (encoding/json) matches keys to its fields case-insensitively and keeps the later one\'s value' },
  },
  {
    name: 'pack.json with a byte-order mark',
    mutate: (dir) => putFile(dir, 'pack.json', `\ufeff${packJsonWith(() => undefined)}`),
    expect: { severity: 'error', rule: 'pack-json-syntax', file: 'pack.json', line: 1, message: 'byte-order mark' },
  },
  {
    name: 'values.yaml missing',
    mutate: removed('values.yaml'),
    expect: { severity: 'error', rule: 'values-missing', file: 'values.yaml', message: 'every pack needs one' },
  },
  {
    name: 'values.yaml that is not YAML',
    mutate: (dir) => putFile(dir, 'values.yaml', 'pack:\n  namespace: [web\n  content: {}\n'),
    expect: { severity: 'error', rule: 'yaml-syntax', file: 'values.yaml', line: 2, message: 'not valid YAML' },
  },
  {
    name: 'values.yaml with a duplicate key',
    mutate: (dir) => putFile(dir, 'values.yaml', 'pack:\n  namespace: web\n  namespace: other\n  content:\n    images:\n      - image: ghcr.io/example/web:1.0.0\n'),
    expect: { severity: 'warning', rule: 'yaml-duplicate-key', file: 'values.yaml', line: 3, column: 3, message: 'key "namespace" is set twice in pack (first on line 2); Helm and Palette keep only the last one' },
  },
  {
    // sigs.k8s.io/yaml (Helm's reader of values) cannot turn .inf/.nan into JSON: "json: unsupported value: +Inf".
    name: 'values.yaml with a .inf value',
    mutate: (dir) => putFile(dir, 'values.yaml', VALID_VALUES.replace('    replicas: 1', '    replicas: 1\n    timeout: -.Inf')),
    expect: { severity: 'warning', rule: 'values-not-json', file: 'values.yaml', path: 'charts.web.timeout', line: 10, column: 5, message: 'charts.web.timeout is .inf or .nan, which sigs.k8s.io/yaml cannot turn into JSON ("json: unsupported value"): Helm refuses such values if they reach a chart' },
  },
  {
    // go-yaml v2 reads an integer key past int64 as a uint64: sigs.k8s.io/yaml "unsupported map key of type: uint64".
    name: 'values.yaml with a key past the int64 range',
    mutate: (dir) => putFile(dir, 'values.yaml', VALID_VALUES.replace('    replicas: 1', '    replicas: 1\n    ids:\n      18446744073709551615: max')),
    expect: { severity: 'warning', rule: 'values-not-json', file: 'values.yaml', path: 'charts.web.ids["18446744073709551615"]', line: 11, column: 7, message: 'the key charts.web.ids["18446744073709551615"] is an integer past the int64 range, which Go\'s YAML reader reads as a uint64' },
  },
  {
    // go-yaml reads a nil key; sigs.k8s.io/yaml "unsupported map key of type: <nil>" (Palette's reader of the pack's files is not public).
    name: 'values.yaml with a null key',
    mutate: (dir) => putFile(dir, 'values.yaml', VALID_VALUES.replace('    replicas: 1', '    replicas: 1\n    ~: none')),
    expect: { severity: 'warning', rule: 'values-not-json', file: 'values.yaml', path: 'charts.web["~"]', line: 10, column: 5, message: 'the key charts.web["~"] is null (~, null or nothing before the colon)' },
  },
  {
    name: 'presets.yaml with a null key',
    mutate: (dir) => putFile(dir, 'presets.yaml', 'presets:\n  - name: a\n    null: b\n'),
    expect: { severity: 'warning', rule: 'values-not-json', file: 'presets.yaml', path: 'presets[0].null', line: 3, column: 5, message: '("unsupported map key of type: <nil>")' },
  },
  {
    // Go's Unmarshal reads the first document only: here it is empty, and the values are never read.
    name: 'values.yaml whose first document is empty',
    mutate: (dir) => putFile(dir, 'values.yaml', `---\n---\n${VALID_VALUES}`),
    expect: { severity: 'warning', rule: 'values-first-document-empty', file: 'values.yaml', line: 1, message: 'the first YAML document is empty (two --- lines before the values?); Helm reads only the first document' },
  },
  {
    name: 'values.yaml holding a list',
    mutate: (dir) => putFile(dir, 'values.yaml', '- pack\n- charts\n'),
    expect: { severity: 'error', rule: 'values-not-mapping', file: 'values.yaml', message: 'not a list' },
  },
  {
    name: 'values.yaml with a tab',
    mutate: (dir) => putFile(dir, 'values.yaml', `pack:\n  namespace: web\t# the namespace\n  content:\n    images:\n      - image: ghcr.io/example/web:1.0.0\n`),
    expect: { severity: 'warning', rule: 'values-tabs', file: 'values.yaml', line: 2, column: 17, message: 'use spaces' },
  },
  {
    name: 'values.yaml indented by 3 spaces',
    mutate: (dir) => putFile(dir, 'values.yaml', 'pack:\n   namespace: web\n   content:\n      images:\n         - image: ghcr.io/example/web:1.0.0\n'),
    expect: { severity: 'warning', rule: 'values-indentation', file: 'values.yaml', line: 2, message: 'indented by 3 spaces' },
  },
  {
    name: 'values.yaml without pack.content.images',
    mutate: (dir) => putFile(dir, 'values.yaml', 'pack:\n  namespace: web\n'),
    expect: { severity: 'warning', rule: 'values-images-missing', file: 'values.yaml', path: 'pack.content.images', line: 1, message: 'list every container image' },
  },
  {
    name: 'values.yaml with an empty pack.content.images list',
    mutate: (dir) => putFile(dir, 'values.yaml', 'pack:\n  namespace: web\n  content:\n    images: []\n'),
    expect: { severity: 'warning', rule: 'values-images-missing', file: 'values.yaml', path: 'pack.content.images', line: 4, column: 5, message: 'pack-central fails addon packs whose list is empty ("Image sources size is 0")' },
  },
  {
    name: 'values.yaml with an image entry that has no image:',
    mutate: (dir) => putFile(dir, 'values.yaml', 'pack:\n  namespace: web\n  content:\n    images:\n      - image: ghcr.io/example/web:1.0.0\n      - name: sidecar\n'),
    expect: { severity: 'warning', rule: 'values-image-entry', file: 'values.yaml', path: 'pack.content.images[1]', message: 'entry 1 has no `image:`' },
  },
  {
    name: 'values.yaml with an image entry that is no image reference (a line break and a table row in it)',
    mutate: (dir) =>
      putFile(dir, 'values.yaml', 'pack:\n  namespace: web\n  content:\n    images:\n      - image: ghcr.io/example/web:1.0.0\n      - image: "ghcr.io/x/y:1\\r## heading\\r- [x](https://example.com) | col"\n'),
    expect: { severity: 'warning', rule: 'values-image-reference', file: 'values.yaml', path: 'pack.content.images[1]', line: 4, message: 'entry 1 image "ghcr.io/x/y:1\\r## heading\\r- [x](https://example.com) | col" is no container image reference' },
  },
  {
    name: 'values.yaml with an image whose repository is in capitals',
    mutate: (dir) => putFile(dir, 'values.yaml', 'pack:\n  namespace: web\n  content:\n    images:\n      - image: ghcr.io/Example/Web:1.0.0\n'),
    expect: { severity: 'warning', rule: 'values-image-reference', file: 'values.yaml', path: 'pack.content.images[0]', message: 'entry 0 image "ghcr.io/Example/Web:1.0.0" is no container image reference' },
  },
  // pack-central rules (spectrocloud/pack-central validator/validate-packs.sh, validate-values.sh, pack-schema.json).
  {
    name: 'values.yaml with a line of three spaces',
    mutate: (dir) => putFile(dir, 'values.yaml', `${VALID_VALUES}   \n`),
    expect: { severity: 'warning', rule: 'values-indentation', file: 'values.yaml', line: 14, message: 'a line of 3 spaces; indent by a multiple of 2' },
  },
  {
    name: 'values.yaml with keys after manifests.calico at a lower indentation',
    mutate: (dir) => putFile(dir, 'values.yaml', VALID_VALUES.replace('manifests:\n  extra:\n    message: hello\n', 'manifests:\n  calico:\n    x: 1\n  extra:\n    message: hello\n')),
    expect: { severity: 'warning', rule: 'values-calico-indentation', file: 'values.yaml', line: 14, message: "indented by 2 spaces after the calico: on line 12; pack-central's validate-values.sh wants every line after calico: indented by at least 4" },
    alsoRules: ['deep-values-unknown-manifest'],
  },
  {
    name: 'pack.json with a version starting with v but no digit',
    mutate: writeJson((j) => (j['version'] = 'vnext')),
    expect: { severity: 'warning', rule: 'version-leading-v', file: 'pack.json', path: 'version', message: 'pack-central rejects that' },
    alsoRules: ['version-not-semver'],
  },
  {
    name: 'pack.json with eol that is not a string',
    mutate: writeJson((j) => (j['eol'] = 2027)),
    expect: { severity: 'error', rule: 'pack-json-schema', file: 'pack.json', path: 'eol', message: 'string' },
  },
  {
    name: 'pack.json with cloudType custom',
    mutate: writeJson((j) => (j['cloudType'] = 'custom')),
    expect: { severity: 'warning', rule: 'cloud-type-unknown', file: 'pack.json', path: 'cloudType', message: 'allows "custom" only in cloudTypes' },
  },
  {
    name: 'pack.json with scheduleType control-plane',
    mutate: writeJson((j) => (j['constraints'] = { resources: [{ type: 'cpu', minLimit: 1, components: [{ scheduleType: 'control-plane' }] }] })),
    expect: { severity: 'warning', rule: 'schedule-type-control-plane', file: 'pack.json', path: 'constraints.resources[0].components[0].scheduleType', message: 'use "master"' },
  },
  {
    // Spectro's pack structure table lists logo.png as optional; pack-central's CI requires it.
    name: 'logo.png missing',
    mutate: removed('logo.png'),
    expect: { severity: 'warning', rule: 'logo-missing', file: 'logo.png', message: "missing; Palette's pack structure lists the logo as optional, but pack-central requires it: add the logo Palette shows for the pack, as a PNG file named logo.png" },
  },
  misnamed('logo named logo.PNG', 'logo.png', 'logo.PNG', 'warning', 'logo-missing', 'Palette and pack-central look for logo.png exactly'),
  // pack-central's outcold-26.04.4 carries readme.md.
  misnamed('README named readme.md', 'README.md', 'readme.md', 'warning', 'readme-missing', 'pack-central requires README.md exactly'),
  misnamed('values named values.yml', 'values.yaml', 'values.yml', 'error', 'values-missing', 'Palette reads only values.yaml'),
  misnamed('pack.json named Pack.json', 'pack.json', 'Pack.json', 'error', 'pack-json-missing', 'Palette reads only pack.json'),
  // A warning: Palette serves the file and browsers show it; pack-central only checks that it exists.
  notPng('logo.png that is a JPEG', Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46, 0, 1]), 'warning', 'a JPEG image named logo.png; browsers still show it, but convert it to a real PNG, e.g. `magick logo.png PNG:logo.png`'),
  notPng('logo.png that is an SVG', '<svg xmlns="http://www.w3.org/2000/svg"/>\n', 'warning', "it does not start with the PNG signature (it looks like an SVG); Palette would show a broken image as the pack's logo (pack-central checks only that logo.png exists): convert it to PNG"),
  notPng('logo.png that is empty', '', 'warning', 'it is empty; Palette would show a broken image'),
  {
    name: 'a manifest listed as café.yaml (composed, NFC), on disk decomposed (NFD, as HFS+ writes it)',
    mutate: async (dir) => {
      await putFile(dir, 'pack.json', packJsonWith((json) => (json['kubeManifests'] = ['manifests/caf\u00e9.yaml'])));
      await rename(join(dir, 'manifests/extra.yaml'), join(dir, 'manifests/cafe\u0301.yaml'));
    },
    expect: { severity: 'error', rule: 'manifest-missing', file: 'pack.json', path: 'kubeManifests[0]', message: 'found "manifests/cafe\u0301.yaml" instead, the same letters written as other Unicode characters (decomposed (NFD) on disk, composed (NFC) in pack.json' },
    alsoRules: ['deep-values-unknown-manifest'],
  },
  {
    name: 'README.md that is a folder',
    mutate: folderInstead('README.md'),
    expect: { severity: 'warning', rule: 'readme-missing', file: 'README.md', message: 'a directory, not a file, so Palette shows no README' },
  },
  {
    name: 'README.md missing',
    mutate: removed('README.md'),
    expect: { severity: 'warning', rule: 'readme-missing', file: 'README.md', message: 'add one' },
  },
  {
    name: 'chart archive missing',
    mutate: removed('charts/web-1.0.0.tgz'),
    expect: { severity: 'error', rule: 'chart-missing', file: 'pack.json', path: 'charts[0]', line: 11, message: '"charts/web-1.0.0.tgz" does not exist in the pack' },
  },
  {
    // pack-central's haproxy-unified-gateway-1.0.1: the archive listed, the chart beside it unpacked.
    name: 'chart archive missing, the chart unpacked in a folder beside it',
    mutate: async (dir) => {
      await rm(join(dir, 'charts/web-1.0.0.tgz'));
      await putFile(dir, 'charts/web/Chart.yaml', 'apiVersion: v2\nname: web\nversion: 1.0.0\n');
      await putFile(dir, 'charts/web/values.yaml', 'replicas: 1\n');
    },
    expect: {
      severity: 'error',
      rule: 'chart-missing',
      file: 'pack.json',
      path: 'charts[0]',
      line: 11,
      message:
        'chart archive "charts/web-1.0.0.tgz" does not exist in the pack; the chart is there unpacked, as folder "charts/web/" (Chart.yaml: web 1.0.0), but Palette installs only the chart archives pack.json lists: package it with `helm package charts/web -d charts`',
    },
  },
  {
    name: 'chart archive missing, the unpacked chart of another version beside it',
    mutate: replaced('charts/web-1.0.0.tgz', 'charts/web/Chart.yaml', () => 'apiVersion: v2\nname: web\nversion: 1.0.1\n'),
    expect: { severity: 'error', rule: 'chart-missing', file: 'pack.json', path: 'charts[0]', message: '(Chart.yaml: web 1.0.1), but Palette installs only the chart archives pack.json lists: package it with `helm package charts/web -d charts`, then list "charts/web-1.0.1.tgz" (the file it writes) in pack.json' },
  },
  {
    // Palette installs each listed chart as the release <pack>-<chart name>: one name, one release.
    name: 'two chart archives holding charts of one name',
    mutate: async (dir) => {
      await putFile(dir, 'charts/web-2.0.0.tgz', await tgz({ 'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 2.0.0\n', 'web/values.yaml': 'replicas: 1\n' }));
      await writeJson((json) => (json['charts'] = ['charts/web-1.0.0.tgz', 'charts/web-2.0.0.tgz']))(dir);
    },
    expect: {
      severity: 'error',
      rule: 'chart-name-twice',
      file: 'pack.json',
      path: 'charts[1]',
      line: 12,
      message: 'chart archive "charts/web-2.0.0.tgz" holds chart web, as "charts/web-1.0.0.tgz" (charts[0]) does: Palette installs each chart pack.json lists as one Helm release, named after the pack and the chart\'s name',
    },
  },
  {
    // nvidia-network-operator 25.7.0 and 25.10.0 in pack-central (">= 1.21.0"; 26.1.0 made it ">= 1.21.0-0").
    name: "a chart whose kubeVersion takes no pre-release cluster version (EKS's, GKE's)",
    mutate: async (dir) => putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ 'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\nkubeVersion: ">= 1.21.0"\n', 'web/values.yaml': 'replicas: 1\n' })),
    expect: {
      severity: 'warning',
      rule: 'chart-kube-version-prerelease',
      file: 'charts/web-1.0.0.tgz',
      message: 'the chart\'s kubeVersion ">= 1.21.0" has no pre-release part, so Helm\'s install refuses every cluster whose Kubernetes version has one, as EKS and GKE report theirs',
    },
  },
  {
    // Palette creates the pack's namespace; the Kubernetes API takes only a lowercase RFC 1123 label.
    name: 'pack.namespace that is no Kubernetes namespace name',
    mutate: async (dir) => putFile(dir, 'values.yaml', VALID_VALUES.replace('  namespace: web\n', '  namespace: Web_App\n')),
    expect: { severity: 'error', rule: 'values-namespace-invalid', file: 'values.yaml', path: 'pack.namespace', line: 2, message: 'pack.namespace "Web_App" is no name Kubernetes takes for a namespace' },
  },
  {
    // The name Palette installs the chart as (docs: releaseNameOverride); Helm's ValidateReleaseName refuses it.
    name: 'pack.releaseNameOverride naming no Helm release name',
    mutate: async (dir) => putFile(dir, 'values.yaml', VALID_VALUES.replace('  namespace: web\n', `  namespace: web\n  releaseNameOverride:\n    web: ${'w'.repeat(54)}\n`)),
    expect: { severity: 'error', rule: 'values-release-name-invalid', file: 'values.yaml', path: 'pack.releaseNameOverride.web', line: 4, message: `pack.releaseNameOverride.web "${'w'.repeat(54)}" is no Helm release name` },
  },
  {
    // The same file however written: read once, warned once.
    name: 'one chart archive listed twice',
    mutate: writeJson((json) => (json['charts'] = ['charts/web-1.0.0.tgz', './charts/web-1.0.0.tgz'])),
    expect: { severity: 'warning', rule: 'chart-listed-twice', file: 'pack.json', path: 'charts[1]', line: 12, message: 'chart archive "./charts/web-1.0.0.tgz" is listed already, as "charts/web-1.0.0.tgz" (charts[0]):' },
  },
  {
    name: 'chart archive missing, an archive of another version beside it',
    mutate: replaced('charts/web-1.0.0.tgz', 'charts/web-1.0.1.tgz', () => tgz({ 'web/Chart.yaml': 'name: web\nversion: 1.0.1\n' })),
    expect: { severity: 'error', rule: 'chart-missing', file: 'pack.json', path: 'charts[0]', message: 'does not exist in the pack; found "charts/web-1.0.1.tgz": list that file in pack.json, or add "charts/web-1.0.0.tgz"' },
  },
  {
    // Written on macOS (case-insensitive), published from Linux where Palette reads it too.
    name: 'chart archive named in another case than in pack.json',
    mutate: replaced('charts/web-1.0.0.tgz', 'charts/Web-1.0.0.tgz', () => tgz({ 'web/Chart.yaml': 'name: web\nversion: 1.0.0\n' })),
    expect: { severity: 'error', rule: 'chart-missing', file: 'pack.json', path: 'charts[0]', message: 'found "charts/Web-1.0.0.tgz" instead (names must match exactly, case included, where Palette reads the pack)' },
  },
  {
    name: 'manifest named in another case and with .yml instead of the .yaml in pack.json',
    mutate: replaced('manifests/extra.yaml', 'manifests/Extra.yml', () => 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n'),
    expect: { severity: 'error', rule: 'manifest-missing', file: 'pack.json', path: 'kubeManifests[0]', message: '"manifests/extra.yaml" does not exist in the pack; found "manifests/Extra.yml" instead' },
  },
  {
    name: 'chart path leaving the pack with ..',
    mutate: async (dir) => {
      await putFile(join(dir, '..'), 'elsewhere.tgz', await tgz({ 'web/Chart.yaml': 'name: web\n' }));
      await putFile(dir, 'pack.json', packJsonWith((j) => (j['charts'] = ['../elsewhere.tgz'])));
    },
    expect: { severity: 'error', rule: 'path-outside-pack', file: 'pack.json', path: 'charts[0]', message: 'points outside the pack folder' },
  },
  {
    name: 'chart symlink pointing outside the pack',
    mutate: async (dir) => {
      await putFile(join(dir, '..'), 'elsewhere.tgz', await tgz({ 'web/Chart.yaml': 'name: web\n' }));
      await rm(join(dir, 'charts/web-1.0.0.tgz'));
      await symlink(join(dir, '..', 'elsewhere.tgz'), join(dir, 'charts/web-1.0.0.tgz'));
    },
    expect: { severity: 'error', rule: 'path-outside-pack', file: 'pack.json', path: 'charts[0]', message: 'points outside the pack folder' },
  },
  {
    name: 'chart archive that is a symlink loop',
    mutate: linkInstead('charts/web-1.0.0.tgz', 'web-1.0.0.tgz'),
    expect: { severity: 'error', rule: 'chart-missing', file: 'pack.json', path: 'charts[0]', message: 'chart archive "charts/web-1.0.0.tgz" is a symlink loop (it never leads to a file); replace it with the real file' },
    alsoRules: ['file-not-archivable'],
  },
  {
    name: 'values.yaml that is a symlink loop',
    mutate: linkInstead('values.yaml', 'values.yaml'),
    expect: { severity: 'error', rule: 'values-missing', file: 'values.yaml', message: 'a symlink loop (it never leads to a file); replace it with the real file' },
    alsoRules: ['file-not-archivable'],
  },
  {
    name: 'logo.png that is a dangling symlink',
    mutate: linkInstead('logo.png', 'gone.png'),
    expect: { severity: 'warning', rule: 'logo-missing', file: 'logo.png', message: 'a symlink to a file that does not exist; replace it with the real file' },
    alsoRules: ['file-not-archivable'],
  },
  {
    name: 'chart directory listed instead of its archive',
    mutate: async (dir) => {
      await putFile(dir, 'charts/web/Chart.yaml', 'name: web\n');
      await putFile(dir, 'pack.json', packJsonWith((j) => (j['charts'] = ['charts/web'])));
    },
    expect: { severity: 'error', rule: 'not-a-file', file: 'pack.json', path: 'charts[0]', message: 'helm package charts/web' },
  },
  chartArchive('chart archive without Chart.yaml at its top', { 'web/values.yaml': 'a: 1\n', 'web/sub/Chart.yaml': 'name: sub\n' }, { severity: 'error', rule: 'chart-no-chart-yaml', message: 'Helm refuses this chart archive ("Chart.yaml file is missing"); its Chart.yaml is one folder too deep (web/sub/Chart.yaml)' }),
  // Helm drops the first path component of every entry (pkg/chart/loader/archive.go): ./web/Chart.yaml reads as web/Chart.yaml.
  chartArchive('chart archive with ./web/Chart.yaml', { './web/Chart.yaml': 'name: web\nversion: 1.0.0\n' }, { severity: 'error', rule: 'chart-no-chart-yaml', message: 'its Chart.yaml is one folder too deep (./web/Chart.yaml); Helm drops the first folder of every entry' }),
  chartArchive('chart archive with Chart.yaml at the archive root', { 'Chart.yaml': 'name: web\nversion: 1.0.0\n' }, { severity: 'error', rule: 'chart-refused-by-helm', message: 'Helm refuses this chart archive ("chart illegally contains content outside the base directory: "Chart.yaml"")' }),
  chartArchive('chart archive whose Chart.yaml has no version (Helm refuses to load it)', { 'web/Chart.yaml': 'apiVersion: v2\nname: web\n' }, {
    severity: 'error',
    rule: 'chart-metadata-invalid',
    message: 'charts/web-1.0.0.tgz/Chart.yaml: Helm refuses this chart ("validation: chart.metadata.version is required"); fix Chart.yaml (`helm lint` reports the same)',
  }),
  {
    name: 'chart archive holding a file over Helm\'s 5 MiB per-file limit',
    mutate: async (dir) => putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ 'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\n', 'web/crds/big.yaml': Buffer.alloc(5 * 1024 * 1024 + 1, 0x61) })),
    expect: {
      severity: 'warning',
      rule: 'chart-file-too-large-for-helm',
      file: 'charts/web-1.0.0.tgz',
      message: 'charts/web-1.0.0.tgz:web/crds/big.yaml is 5.0 MiB; Helm 3.17.3 and later refuse a chart holding a file over 5.0 MiB',
    },
  },
  {
    // helm/helm pkg/action CheckDependencies: each dependency's name against the subcharts' Chart.yaml names (not aliases or file names).
    name: 'chart archive whose Chart.yaml lists a dependency that is not vendored (helm dependency build not run)',
    mutate: async (dir) =>
      putFile(
        dir,
        'charts/web-1.0.0.tgz',
        await tgz({
          'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\ndependencies:\n- name: redis\n  version: 17.0.0\n  alias: cache\n  repository: https://charts.example.com\n- name: lib\n  version: 0.1.0\n- name: redis\n  version: 17.0.0\n  alias: queue\n',
          'web/charts/lib-renamed.tgz': await tgz({ 'lib/Chart.yaml': 'apiVersion: v2\nname: lib\nversion: 0.1.0\n' }),
        }),
      ),
    expect: {
      severity: 'warning',
      rule: 'chart-dependency-missing',
      file: 'charts/web-1.0.0.tgz',
      message: 'the chart depends on "redis" 17.0.0, not in the archive\'s charts/ folder: `helm install` and `helm template` refuse the chart ("found in Chart.yaml, but missing in charts/ directory: redis, redis") and an installer that does not check leaves it out; run `helm dependency build <chart-dir>`, then package the chart again',
    },
  },
  {
    name: 'apiVersion v1 chart archive whose requirements.yaml lists dependencies that are not vendored',
    mutate: async (dir) =>
      putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ 'web/Chart.yaml': 'apiVersion: v1\nname: web\nversion: 1.0.0\n', 'web/requirements.yaml': 'dependencies:\n- name: a\n- name: b\n  version: 2.0.0\n' })),
    expect: { severity: 'warning', rule: 'chart-dependency-missing', file: 'charts/web-1.0.0.tgz', message: 'the chart depends on "a", "b" 2.0.0, not in the archive\'s charts/ folder: `helm install` and `helm template` refuse the chart ("found in Chart.yaml, but missing in charts/ directory: a, b") and an installer that does not check leaves them out' },
  },
  {
    // sigs.k8s.io/yaml hands an unquoted number to a string field as Go writes it: 1.10 is "1.1".
    name: 'apiVersion v1 chart archive whose requirements.yaml gives a version as an unquoted number',
    mutate: async (dir) =>
      putFile(
        dir,
        'charts/web-1.0.0.tgz',
        await tgz({ 'web/Chart.yaml': 'apiVersion: v1\nname: web\nversion: 1.0.0\n', 'web/requirements.yaml': 'dependencies:\n- name: lib\n  version: 1.10\n', 'web/charts/lib/Chart.yaml': 'apiVersion: v2\nname: lib\nversion: "1.10"\n' }),
      ),
    expect: { severity: 'warning', rule: 'chart-yaml-number', file: 'charts/web-1.0.0.tgz', message: 'requirements.yaml: dependencies[0].version: 1.10 is a YAML number, which Helm reads as "1.1": quote it (dependencies[0].version: "1.10") so Helm reads what is written' },
  },
  chartArchive("chart archive whose subchart's Chart.yaml gives its version as an unquoted number", { 'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\n', 'web/charts/lib/Chart.yaml': 'apiVersion: v2\nname: lib\nversion: 1.10\n' }, { severity: 'warning', rule: 'chart-yaml-number', message: 'charts/lib/Chart.yaml: version: 1.10 is a YAML number, which Helm reads as "1.1": quote it (version: "1.10") so Helm reads what is written' }),
  // Helm 3's CLI refuses it (cmd/helm install.go checkIfInstallable); its Go library renders only the `_` partials.
  chartArchive('chart archive holding a library chart', { 'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\ntype: library\n', 'web/templates/_helpers.tpl': '{{- define "web.name" -}}web{{- end -}}\n' }, { severity: 'warning', rule: 'chart-library', message: 'chart "web" is a library chart (type: library): `helm install` refuses it ("library charts are not installable") and an installer using Helm\'s Go library installs none of its resources' }),
  // The hint names the file as pack.json does, not by the path the pack was read from.
  chartArchive('chart archive whose Chart.yaml is a list', { 'web/Chart.yaml': '- name: web\n' }, { severity: 'error', rule: 'chart-metadata-invalid', message: 'charts/web-1.0.0.tgz/Chart.yaml: not a YAML mapping; fix charts/web-1.0.0.tgz/Chart.yaml' }),
  {
    name: 'chart archive that is not gzip',
    mutate: (dir) => putFile(dir, 'charts/web-1.0.0.tgz', 'this is not an archive\n'),
    expect: { severity: 'error', rule: 'chart-unreadable', file: 'charts/web-1.0.0.tgz', message: "not a gzip'd tar archive (incorrect header check)" },
  },
  {
    name: 'logo.png that is a Git LFS pointer (a clone without the LFS content)',
    mutate: (dir) => putFile(dir, 'logo.png', 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 1432\n'),
    expect: { severity: 'warning', rule: 'logo-not-png', file: 'logo.png', message: "a Git LFS pointer file, not the image: the checkout did not fetch the content Git LFS tracks, so Palette would show a broken image as the pack's logo: fetch the content (`git lfs pull`" },
  },
  {
    name: 'a chart listed with Windows folder separators (charts\\web-1.0.0.tgz)',
    mutate: (dir) => putFile(dir, 'pack.json', packJsonWith((json) => (json['charts'] = ['charts\\web-1.0.0.tgz']))),
    expect: {
      severity: 'error',
      rule: 'chart-missing',
      file: 'pack.json',
      path: 'charts[0]',
      message: 'chart archive "charts\\web-1.0.0.tgz" does not exist in the pack; "charts/web-1.0.0.tgz" is there: write the path with / (Palette reads the pack on Linux, where \\ is a character of a file name, not a folder separator as on Windows)',
    },
  },
  {
    name: 'manifest saved as UTF-16 (PowerShell 5 `>`), which Palette applies as UTF-8 text',
    mutate: (dir) => putFile(dir, 'manifests/extra.yaml', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('kind: ConfigMap\ndata:\n  message: "{{ .Values.message }}"\n', 'utf16le')])),
    expect: { severity: 'error', rule: 'file-not-utf8', file: 'manifests/extra.yaml', message: "UTF-16 text (it starts with a UTF-16 byte-order mark, as Windows PowerShell 5's `>` and `Out-File` write it); Palette renders a manifest as UTF-8 text and applies its YAML, where UTF-16's NUL bytes are control characters Go's YAML reader refuses, so the pack fails when it is deployed" },
  },
  {
    name: 'chart archive compressed twice (gzip run on a .tgz)',
    mutate: async (dir) => putFile(dir, 'charts/web-1.0.0.tgz', gzipSync(await tgz({ 'web/Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\n' }))),
    expect: { severity: 'error', rule: 'chart-unreadable', file: 'charts/web-1.0.0.tgz', message: "): it is gzip-compressed twice (a .tgz run through gzip again); a chart archive is a gzip-compressed tar as `helm package` writes it: decompress it once" },
  },
  {
    name: 'manifest missing',
    mutate: removed('manifests/extra.yaml'),
    expect: { severity: 'error', rule: 'manifest-missing', file: 'pack.json', path: 'kubeManifests[0]', line: 14, message: '"manifests/extra.yaml" does not exist' },
  },
  {
    name: 'manifest given as an absolute path',
    mutate: writeJson((j) => (j['kubeManifests'] = ['/etc/hosts'])),
    expect: { severity: 'error', rule: 'path-outside-pack', file: 'pack.json', path: 'kubeManifests[0]', message: 'use a relative path' },
  },
  {
    name: 'manifest path with a NUL byte',
    mutate: writeJson((j) => (j['kubeManifests'] = ['manifests/extra.yaml\u0000.txt'])),
    expect: { severity: 'error', rule: 'manifest-missing', file: 'pack.json', path: 'kubeManifests[0]', message: 'does not exist' },
  },
  {
    name: 'schema.yaml that is not YAML',
    mutate: (dir) => putFile(dir, 'schema.yaml', 'pack.namespace:\n  schema: "{{ required }}\n'),
    expect: { severity: 'error', rule: 'yaml-syntax', file: 'schema.yaml', message: 'not valid YAML' },
  },
  {
    name: 'presets.yaml with a duplicate key',
    mutate: (dir) => putFile(dir, 'presets.yaml', 'presets:\n  - name: a\n    name: b\n'),
    expect: { severity: 'warning', rule: 'yaml-duplicate-key', file: 'presets.yaml', line: 3, message: 'key "name" is set twice in presets[0]' },
  },
  {
    name: 'pack.json that is a directory',
    mutate: folderInstead('pack.json'),
    expect: { severity: 'error', rule: 'not-a-file', file: 'pack.json', message: 'a directory, not a file' },
  },
  {
    name: 'values.yaml that is not UTF-8',
    mutate: (dir) => putFile(dir, 'values.yaml', Buffer.from([0x70, 0x61, 0x63, 0x6b, 0x3a, 0x20, 0xff, 0xfe, 0x0a])),
    expect: { severity: 'error', rule: 'file-not-utf8', file: 'values.yaml', message: 'save it as UTF-8' },
  },
];

/**
 * Findings of this validator, leaving out the deep checks (deep-checks.ts, tested on their own): a
 * broken case here may rightly also upset a values-vs-chart comparison.
 */
function ownFindings(findings: Finding[]): Finding[] {
  return findings.filter((f) => !f.rule.startsWith('deep-'));
}

function matches(f: Finding, e: Expected): boolean {
  return (
    f.severity === e.severity &&
    f.rule === e.rule &&
    f.file === e.file &&
    (e.path === undefined || f.path === e.path) &&
    (e.line === undefined || f.line === e.line) &&
    (e.column === undefined || f.column === e.column) &&
    f.message.includes(e.message)
  );
}

describe('validatePack', () => {
  it('passes the valid base pack with no findings at all', async () => {
    const report = await validatePack(await freshPack(), { strict: true });
    expect(report.findings).toEqual([]);
    expect(report).toMatchObject({ pack: { name: 'web', version: '1.0.0' }, errors: 0, warnings: 0, passed: true });
  });

  it('has at least 25 broken-pack cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });

  describe.each(cases)('$name', (c) => {
    it(`reports ${c.expect.severity} ${c.expect.rule}`, async () => {
      const dir = await freshPack();
      await c.mutate(dir);
      const report = await validatePack(dir);
      const found = report.findings.find((f) => matches(f, c.expect));
      expect(found, `expected ${JSON.stringify(c.expect)} among\n${JSON.stringify(report.findings, null, 2)}`).toBeDefined();
      // Nothing else goes wrong: one breakage, one finding (plus the ones it rightly causes).
      const allowed = new Set([c.expect.rule, ...(c.alsoRules ?? [])]);
      expect(ownFindings(report.findings).filter((f) => !allowed.has(f.rule))).toEqual([]);
      if (c.expect.severity === 'error') {
        expect(report.passed).toBe(false);
      } else {
        expect(report.errors).toBe(0);
        expect(report.passed).toBe(true);
        expect((await validatePack(dir, { strict: true })).passed).toBe(false);
      }
    });
  });
});

describe('validatePack accepts what real packs do', () => {
  it('accepts a chart archive whose entries start with ./ (Helm loads it), reading it once', async () => {
    const dir = await freshPack();
    await putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ './Chart.yaml': 'apiVersion: v2\nname: web\nversion: 1.0.0\n', './values.yaml': 'replicas: 1\n', './templates/d.yaml': '{{ .Values.replicas }}\n' }));
    const report = await validatePack(dir, { strict: true });
    expect(report.findings).toEqual([]);
    expect(report.passed).toBe(true);
  });

  it('allows unknown top-level keys, a chart symlink inside the pack, merge keys, and odd indentation inside block scalars with a warning', async () => {
    const dir = await freshPack();
    await putFile(dir, 'pack.json', packJsonWith((j) => Object.assign(j, { commit_msg: 'bump', kubeVersion: '>=1.25', readme: 'x' })));
    await rm(join(dir, 'charts/web-1.0.0.tgz'));
    await putFile(dir, 'vendor/web-1.0.0.tgz', await tgz({ 'web/Chart.yaml': 'name: web\nversion: 1.0.0\n' }));
    await symlink('../vendor/web-1.0.0.tgz', join(dir, 'charts/web-1.0.0.tgz'));
    await putFile(
      dir,
      'values.yaml',
      [
        'defaults: &defaults',
        '  replicas: 1',
        'pack:',
        '  namespace: web',
        '  content:',
        '    images:',
        '      - image: ghcr.io/example/web:1.0.0',
        'charts:',
        '  web:',
        '    <<: *defaults',
        '    script: |',
        '       echo "three spaces in a block scalar are content"',
        '    note: "a quoted string that goes',
        '       on to the next line"',
        '',
      ].join('\n'),
    );
    // YAML and Palette accept the odd indentation inside the two multi-line values; pack-central's
    // validate-values.sh checks every line, so --strict fails with warnings that say so.
    const report = await validatePack(dir);
    expect(report.errors).toBe(0);
    expect(report.passed).toBe(true);
    expect(ownFindings(report.findings).map((f) => `${f.rule} ${f.line}: ${f.message}`)).toEqual([
      'values-indentation 12: indented by 7 spaces; indent by a multiple of 2 (pack-central rejects odd indentation) (inside a multi-line value, where YAML allows it, but pack-central checks every line)',
      'values-indentation 14: indented by 7 spaces; indent by a multiple of 2 (pack-central rejects odd indentation) (inside a multi-line value, where YAML allows it, but pack-central checks every line)',
    ]);
    expect((await validatePack(dir, { strict: true })).passed).toBe(false);
  });

  it.each(['1.5', '26.02.1', '0.30.0-5.5.2026', '2.0.1-up.1', '1.2-5', '100.2410.0', '7'])(
    'takes version %s as Palette does (its semver reader orders it), without a warning',
    async (version) => {
      const dir = await freshPack();
      await putFile(dir, 'pack.json', packJsonWith((j) => (j['version'] = version)));
      const report = await validatePack(dir, { strict: true });
      expect(ownFindings(report.findings)).toEqual([]);
      expect(report.pack).toEqual({ name: 'web', version });
    },
  );

  it("accepts a kubeVersion with a pre-release part, or without one in a pack for clouds that report none (vSphere, edge)", async () => {
    for (const [kubeVersion, cloudTypes] of [['>= 1.21.0-0', ['all']], ['^1.10.0-0', ['eks']], ['>= 1.21.0', ['vsphere', 'edge-native']]] as const) {
      const dir = await freshPack();
      await putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ 'web/Chart.yaml': `apiVersion: v2\nname: web\nversion: 1.0.0\nkubeVersion: "${kubeVersion}"\n`, 'web/values.yaml': 'replicas: 1\n' }));
      await putFile(dir, 'pack.json', packJsonWith((j) => (j['cloudTypes'] = cloudTypes)));
      const report = await validatePack(dir, { strict: true });
      expect(ownFindings(report.findings), kubeVersion).toEqual([]);
    }
  });

  it('accepts a pack.namespace set by a Palette macro, 63 characters long or not judged, and release names Helm takes or not judged', async () => {
    // Not judged: empty or blank (a default), null, a number, spaces around a good name (Palette may trim them).
    for (const namespace of ['"cluster-{{ .spectro.system.cluster.uid }}"', 'a'.repeat(63), 'web-1', '""', '"  "', '~', '123', '" web "']) {
      const dir = await freshPack();
      // With release names Helm takes (53 characters, dots) or not judged (a macro, empty, null, a number, spaces around).
      const releases = `  releaseNameOverride:\n    web: ${'r'.repeat(53)}\n    api: api.v2\n    db: "{{ .spectro.var.db }}"\n    a: ""\n    b: ~\n    c: 123\n    d: " web-b "\n`;
      await putFile(dir, 'values.yaml', VALID_VALUES.replace('  namespace: web\n', `  namespace: ${namespace}\n${releases}`));
      const report = await validatePack(dir, { strict: true });
      expect(ownFindings(report.findings), namespace).toEqual([]);
    }
  });

  it('accepts an OS pack with a comment-only values.yaml and no image list', async () => {
    const dir = await freshPack();
    await putFile(dir, 'pack.json', packJsonWith((j) => Object.assign(j, { layer: 'os', charts: [], kubeManifests: [] })));
    await putFile(dir, 'values.yaml', '# nothing to configure\n');
    const report = await validatePack(dir, { strict: true });
    expect(ownFindings(report.findings)).toEqual([]);
  });
});

describe('hostile pack input', () => {
  const billionLaughs = (): string => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      lines.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    return `${lines.join('\n')}\n`;
  };

  it('refuses a billion-laughs alias bomb in values.yaml with a finding naming the line', async () => {
    const dir = await freshPack();
    await putFile(dir, 'values.yaml', billionLaughs());
    const report = await validatePack(dir);
    const bomb = report.findings.find((f) => f.rule === 'yaml-alias-bomb');
    // Line 4 is where Go's share of alias-expanded decodes passes 99% (over 100 of them, 1000 decodes in all):
    // go-yaml v2.4.0 "document contains excessive aliasing"; nothing was expanded.
    expect(bomb).toMatchObject({ severity: 'error', file: 'values.yaml', line: 4 });
    expect(bomb?.message).toContain('alias bomb');
    expect(report.passed).toBe(false);
  });

  it('refuses the same bomb in schema.yaml and presets.yaml', async () => {
    const dir = await freshPack();
    await putFile(dir, 'schema.yaml', billionLaughs());
    await putFile(dir, 'presets.yaml', billionLaughs());
    const report = await validatePack(dir);
    expect(report.findings.filter((f) => f.rule === 'yaml-alias-bomb').map((f) => f.file)).toEqual(['schema.yaml', 'presets.yaml']);
  });

  it('refuses deeply nested YAML and JSON without overflowing the stack', async () => {
    const dir = await freshPack();
    await putFile(dir, 'values.yaml', `${'['.repeat(5000)}${']'.repeat(5000)}\n`);
    await putFile(dir, 'pack.json', `${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    const report = await validatePack(dir);
    expect(report.findings.find((f) => f.rule === 'yaml-too-deep')).toMatchObject({ severity: 'error', file: 'values.yaml', line: 1 });
    expect(report.findings.find((f) => f.rule === 'pack-json-too-deep')).toMatchObject({ severity: 'error', file: 'pack.json', line: 1, column: 65 });
  });

  it('refuses pack.json and values.yaml over the size limit without reading them', async () => {
    const dir = await freshPack();
    // Sparse files: the size is what matters, and the disk stays empty.
    await truncate(join(dir, 'values.yaml'), MAX_PACK_TEXT_BYTES + 1);
    await truncate(join(dir, 'pack.json'), 64 * 1024 * 1024);
    const report = await validatePack(dir);
    const tooLarge = report.findings.filter((f) => f.rule === 'file-too-large');
    expect(tooLarge.map((f) => f.file).sort()).toEqual(['pack.json', 'values.yaml']);
    expect(tooLarge.find((f) => f.file === 'pack.json')?.message).toContain('64.0 MiB, the limit is 4.0 MiB');
  });

  it('warns of integers past 2^53 that Go still reads as int64, and refuses those past int64', async () => {
    const dir = await freshPack();
    await putFile(dir, 'pack.json', packJsonWith(() => undefined).replace('"minLimit": 100', '"minLimit": 9007199254740993'));
    const report = await validatePack(dir);
    expect(report.errors).toBe(0);
    expect(report.findings.find((f) => f.rule === 'pack-json-number')).toMatchObject({
      severity: 'warning',
      path: 'constraints.resources[0].minLimit',
      line: 33,
      message: expect.stringContaining('integer 9007199254740993 is beyond 2^53-1: a reader that keeps numbers as float64') as unknown,
    });
    await putFile(dir, 'pack.json', packJsonWith(() => undefined).replace('"minLimit": 100', '"minLimit": 9223372036854775808'));
    expect((await validatePack(dir)).findings.find((f) => f.rule === 'pack-json-number')?.severity).toBe('error');
  });

  it('reads a pack.json that is not UTF-8 as Go does (each bad byte a U+FFFD), with a warning where the first one is', async () => {
    const dir = await freshPack();
    // Windows-1252 "é" (0xE9) in displayName, as an editor saving in the system code page writes it.
    const text = packJsonWith((json) => (json['displayName'] = 'Web caf\u00e9'));
    await putFile(dir, 'pack.json', Buffer.from(text, 'latin1'));
    const report = await validatePack(dir);
    expect(report.errors).toBe(0);
    expect(report.passed).toBe(true);
    expect(report.pack).toEqual({ name: 'web', version: '1.0.0' });
    const line = text.split('\n').findIndex((l) => l.includes('caf')) + 1;
    expect(report.findings.filter((f) => f.severity !== 'info')).toEqual([
      expect.objectContaining({ severity: 'warning', rule: 'pack-json-not-utf8', file: 'pack.json', line, column: text.split('\n')[line - 1]!.indexOf('\u00e9') + 1 }),
    ]);
    expect((await loadPack(dir)).json.displayName).toBe('Web caf\ufffd');
    // Outside a string a bad byte is a syntax error, in Go as here; a UTF-16 pack.json is refused with what it is.
    await putFile(dir, 'pack.json', Buffer.concat([Buffer.from('{"name": "web",'), Buffer.from([0xe9]), Buffer.from('}')]));
    expect((await validatePack(dir)).findings.map((f) => f.rule)).toContain('pack-json-syntax');
    await putFile(dir, 'pack.json', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]));
    expect((await validatePack(dir)).findings.find((f) => f.file === 'pack.json')).toMatchObject({ severity: 'error', rule: 'pack-json-syntax', message: expect.stringContaining('is UTF-16 text') as unknown });
  });

  it('reports integers beyond 2^53 in pack.json', async () => {
    const dir = await freshPack();
    await putFile(dir, 'pack.json', packJsonWith(() => undefined).replace('"minLimit": 100', '"minLimit": 123456789012345678901234567890'));
    const report = await validatePack(dir);
    expect(report.findings.find((f) => f.rule === 'pack-json-number')).toMatchObject({
      severity: 'error',
      path: 'constraints.resources[0].minLimit',
      line: 33,
    });
  });

  it('does not hang on a named pipe where values.yaml should be', async () => {
    const dir = await freshPack();
    await rm(join(dir, 'values.yaml'));
    try {
      await makeFifo(join(dir, 'values.yaml'));
    } catch {
      console.warn('mkfifo is not available; skipping the FIFO case');
      return;
    }
    const report = await validatePack(dir);
    expect(report.findings.find((f) => f.file === 'values.yaml')).toMatchObject({ severity: 'error', rule: 'not-a-file', message: expect.stringContaining('named pipe') });
  });

  // Looking for the chart unpacked beside a missing archive read the folder through its links: six links
  // of a subchart folder to itself made that walk go on for ever (validate never ended).
  it('ends, naming the loop, when a missing chart archive sits beside an unpacked chart folder full of symlink loops', async () => {
    const dir = await freshPack();
    await rm(join(dir, 'charts/web-1.0.0.tgz'));
    await putFile(dir, 'charts/web/Chart.yaml', 'apiVersion: v2\nname: web\nversion: 1.0.0\n');
    await mkdir(join(dir, 'charts/web/charts/sub'), { recursive: true });
    for (const i of [1, 2, 3, 4, 5, 6]) await symlink('.', join(dir, `charts/web/charts/sub/l${i}`));
    const report = await validatePack(dir);
    // (The archive walk's file-not-archivable for the loop is validate-folder's, checked in the e2e tests.)
    expect(report.findings.map((f) => [f.rule, f.file])).toEqual([['chart-missing', 'pack.json']]);
  });

  it('refuses a pack folder that is a symlink loop as such, not as missing', async () => {
    const dir = join(root, `case-${++counter}`);
    await mkdir(dir);
    await symlink('loop', join(dir, 'loop'));
    const err = await validatePack(join(dir, 'loop')).catch((e: unknown) => e);
    expect(isPackpubError(err, 'USAGE')).toBe(true);
    expect((err as Error).message).toBe(`pack folder "${join(dir, 'loop')}" is a symlink loop`);
    // push and validate of many packs find them first
    const found = await discoverPacks(['loop'], { cwd: dir }).catch((e: unknown) => e);
    expect(isPackpubError(found, 'USAGE')).toBe(true);
    expect((found as Error).message).toBe('loop is a symlink loop');
  });

  it('refuses a chart archive that inflates past Helm\'s 100 MiB limit', async () => {
    const dir = await freshPack();
    await putFile(dir, 'charts/web-1.0.0.tgz', await zeroBombTgz(101 * 1024 * 1024));
    const report = await validatePack(dir);
    expect(report.findings.find((f) => f.rule === 'chart-too-large')).toMatchObject({ severity: 'error', file: 'charts/web-1.0.0.tgz', message: expect.stringContaining('100 MiB') });
  });
});

describe('loadPack', () => {
  it('returns the identity of a valid pack, with the real folder path', async () => {
    const dir = await freshPack();
    const pack = await loadPack(join(dir, '..', 'pack'));
    expect(pack).toMatchObject({ dir, folderName: 'pack', name: 'web', version: '1.0.0' });
    expect(pack.json.layer).toBe('addon');
  });

  it('throws PACK_INVALID with the position when pack.json is not JSON', async () => {
    const dir = await freshPack();
    await writeFile(join(dir, 'pack.json'), '{\n  "name": "web"\n  "version": "1.0.0"\n}\n');
    const err = await loadPack(dir).catch((e: unknown) => e);
    expect(isPackpubError(err, 'PACK_INVALID')).toBe(true);
    expect((err as Error).message).toContain('pack.json:3:3: not valid JSON');
    expect((err as { hint?: string }).hint).toContain('packpub validate');
  });

  it('throws PACK_INVALID when version is absent, and USAGE when the folder does not exist', async () => {
    const dir = await freshPack();
    await putFile(dir, 'pack.json', packJsonWith((j) => delete j['version']));
    await expect(loadPack(dir)).rejects.toMatchObject({ code: 'PACK_INVALID', message: expect.stringContaining('"version" is missing') });
    await expect(loadPack(join(root, 'no-such-folder'))).rejects.toMatchObject({ code: 'USAGE' });
    await expect(validatePack(join(dir, 'pack.json'))).rejects.toMatchObject({ code: 'USAGE', message: expect.stringContaining('is not a folder') });
  });
});
