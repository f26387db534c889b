import { rename, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { putFile, tgz } from '../support/files.js';
import { CHART_FILES, VALID_VALUES, packJsonWith, writeValidPack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * Verdicts on packs as they once were in spectrocloud/pack-central's history (every distinct pack folder of
 * every branch and pull request, 2023-2026): each case is a small pack with the one thing that made that
 * folder pass or fail, named after the real one. The refusals are ones Palette, Helm or pack-central's own CI
 * refuse too (the folder was fixed in a later commit, as said per case); the warnings are right for the
 * real packs they were seen on. One `validate --json` run over all of them, as a user checks a whole tree.
 */

/** The AppleDouble file macOS tar writes beside each file with extended attributes (`._name`). */
const APPLE_DOUBLE = Buffer.concat([Buffer.from([0, 5, 22, 7, 0, 2, 0, 0]), Buffer.from('Mac OS X        '), Buffer.alloc(16)]);

/** packs/heartbeat/heartbeat-1.0.0/ (a valid pack) with packs/heartbeat/latest -> heartbeat-1.0.0, in place of the case's pack. */
async function twoLevelLayout(dir: string): Promise<void> {
  await rm(dir, { recursive: true });
  await writeValidPack(join(dir, 'heartbeat', 'heartbeat-1.0.0'));
  await symlink('heartbeat-1.0.0', join(dir, 'heartbeat', 'latest'));
}

interface Case {
  name: string;
  /** Folder validated, relative to the case's folder (default: the case's folder itself). */
  target?: string;
  change: (dir: string) => Promise<void>;
  /** Errors as `rule: part of the message`, in the order validate reports them. */
  errors?: string[];
  /** Warnings as `rule: part of the message`. */
  warnings?: string[];
}

const CASES: Case[] = [
  {
    // nvidia-network-operator-25.7.0 and 25.10.0 (on main): the chart's kubeVersion ">= 1.21.0" refuses EKS and
    // GKE clusters (v1.29.4-eks-036c24b is a pre-release to Helm); NVIDIA's 26.1.0 chart wrote ">= 1.21.0-0".
    name: 'a chart whose kubeVersion has no pre-release part, in a pack for all clouds',
    change: async (dir) => putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ ...CHART_FILES, 'web/Chart.yaml': "apiVersion: v2\nname: web\nversion: 1.0.0\nkubeVersion: '>= 1.21.0'\n" })),
    warnings: [
      'chart-kube-version-prerelease: the chart\'s kubeVersion ">= 1.21.0" has no pre-release part, so Helm\'s install refuses every cluster whose Kubernetes version has one, as EKS and GKE report theirs (on EKS: "chart requires kubeVersion: >= 1.21.0 which is incompatible with Kubernetes v1.29.4-eks-036c24b"); give each version in it a -0 pre-release (">= 1.21.0-0" for ">= 1.21.0"), then rebuild the archive, or leave all, eks and gke out of pack.json\'s cloudTypes',
    ],
  },
  {
    // nvidia-network-operator-26.1.0, the fix.
    name: 'a chart whose kubeVersion has a pre-release part',
    change: async (dir) => putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ ...CHART_FILES, 'web/Chart.yaml': "apiVersion: v2\nname: web\nversion: 1.0.0\nkubeVersion: '>= 1.21.0-0'\n" })),
  },
  {
    // karpenter-1.4.0 (2025, a branch; the pack as merged has archives made without the extra entries).
    name: 'a chart archive made on macOS, with an AppleDouble `._web` entry beside the chart folder',
    change: async (dir) => putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ '._web': APPLE_DOUBLE, ...CHART_FILES, 'web/._Chart.yaml': APPLE_DOUBLE })),
    // Helm, pkg/chart/loader/archive/archive.go: the entry name without its first folder is "", cleaned to ".".
    errors: ['chart-refused-by-helm: Helm refuses this chart archive ("chart illegally contains content outside the base directory: "._web"")'],
  },
  {
    // karpenter-1.4.0 again: its second chart (karpenter-crd) was fine, and values.yaml held charts.karpenter
    // for the refused one: no "charts.web does not match any chart" (it does: the one refused) on top.
    name: 'two charts, one refused, values for both',
    change: async (dir) => {
      await putFile(dir, 'charts/web-1.0.0.tgz', await tgz({ '._web': APPLE_DOUBLE, ...CHART_FILES }));
      await putFile(dir, 'charts/web-crd-1.0.0.tgz', await tgz({ 'web-crd/Chart.yaml': 'apiVersion: v2\nname: web-crd\nversion: 1.0.0\n', 'web-crd/values.yaml': 'install: true\n' }));
      await putFile(dir, 'pack.json', packJsonWith((json) => (json['charts'] = ['charts/web-1.0.0.tgz', 'charts/web-crd-1.0.0.tgz'])));
      await putFile(dir, 'values.yaml', VALID_VALUES.replace('charts:\n', 'charts:\n  web-crd:\n    install: true\n'));
    },
    errors: ['chart-refused-by-helm: Helm refuses this chart archive ("chart illegally contains content outside the base directory: "._web"")'],
    warnings: [],
  },
  {
    // trident-operator-24.10.0 (2024, on main for 2 weeks; "fixed issues with pack.json (#103)" listed the .tar.gz).
    name: 'pack.json lists charts/web-1.0.0.tgz, the pack holds charts/web-1.0.0.tar.gz',
    change: (dir) => rename(join(dir, 'charts/web-1.0.0.tgz'), join(dir, 'charts/web-1.0.0.tar.gz')),
    errors: ['chart-missing: chart archive "charts/web-1.0.0.tgz" does not exist in the pack; found "charts/web-1.0.0.tar.gz": list that file in pack.json, or add "charts/web-1.0.0.tgz"'],
  },
  {
    // The fix of the case above: any archive name is fine when pack.json lists it.
    name: 'pack.json lists charts/web-1.0.0.tar.gz and the pack holds it',
    change: async (dir) => {
      await rename(join(dir, 'charts/web-1.0.0.tgz'), join(dir, 'charts/web-1.0.0.tar.gz'));
      await putFile(dir, 'pack.json', packJsonWith((json) => (json['charts'] = ['charts/web-1.0.0.tar.gz'])));
    },
  },
  {
    // nvidia-dra-driver-25.8.1 (2026, on main for a month until "Add missing sections (#195)").
    name: 'a pack.json holding only addonType, annotations and constraints',
    change: (dir) =>
      putFile(dir, 'pack.json', packJsonWith((json) => {
        for (const key of Object.keys(json)) if (!['addonType', 'annotations', 'constraints'].includes(key)) delete json[key];
      })),
    errors: [
      'pack-json-schema: required field "name" is missing',
      'pack-json-schema: required field "displayName" is missing',
      'pack-json-schema: required field "version" is missing',
      'pack-json-schema: required field "layer" is missing',
    ],
  },
  {
    // appdynamics-collector-1.12.622 (2023, a branch; pack-central's schema requires layer and type).
    name: 'a dependency without its layer',
    change: (dir) =>
      putFile(dir, 'pack.json', packJsonWith((json) => {
        json['constraints'] = { dependencies: [{ packName: 'appdynamics-operator', minVersion: '1.13.146', maxVersion: '', type: 'required' }] };
      })),
    errors: ['pack-json-schema: required field "layer" is missing; add it, e.g. one of kernel, os, k8s, cni, csi, addon'],
  },
  {
    // heartbeat, tick, hipster... (2023): packs/<name>/<name>-<version>/ with a `latest` link beside.
    name: 'the parent folder of the old two-level layout',
    target: 'heartbeat',
    change: twoLevelLayout,
    errors: [
      'pack-json-missing: missing; every pack needs one (name, displayName, version, layer). Is this the pack folder?',
      'values-missing: missing',
    ],
    // Palette's pack structure lists the logo as optional (pack-central requires it: a warning).
    warnings: ['logo-missing: missing', 'readme-missing: missing'],
  },
  {
    name: 'a pack folder of the old two-level layout',
    target: 'heartbeat/heartbeat-1.0.0',
    change: twoLevelLayout,
  },
  {
    // nodered-4.0.3 (2024, a branch).
    name: 'packs.json instead of pack.json',
    change: (dir) => rename(join(dir, 'pack.json'), join(dir, 'packs.json')),
    errors: ['pack-json-missing: missing; every pack needs one'],
  },
  {
    // archivista-0.7.0 (2024, on main for 2 days until "add archivista 0.8.0 (#102)" added the archive).
    name: 'the chart listed as an archive, shipped only as a folder of another version',
    change: async (dir) => {
      await rm(join(dir, 'charts/web-1.0.0.tgz'));
      await putFile(dir, 'charts/web/Chart.yaml', 'apiVersion: v2\nname: web\nversion: 0.9.0\n');
      await putFile(dir, 'charts/web/values.yaml', 'replicas: 1\n');
    },
    errors: [
      'chart-missing: chart archive "charts/web-1.0.0.tgz" does not exist in the pack; the chart is there unpacked, as folder "charts/web/" (Chart.yaml: web 0.9.0), but Palette installs only the chart archives pack.json lists: package it with `helm package charts/web -d charts`, then list "charts/web-0.9.0.tgz" (the file it writes) in pack.json',
    ],
  },
  {
    // elastic-stack 0.10.0 to 0.18.0 (on main): `charts.elasticsearch` where the chart's values are under charts.eck-stack.
    name: 'a preset removing a path no value or preset has',
    change: (dir) => putFile(dir, 'presets.yaml', 'presets:\n  - name: small\n    displayName: Small\n    group: Size\n    remove:\n      - charts.webb\n    add: |\n      charts:\n        web:\n          replicas: 2\n'),
    warnings: ["deep-presets-remove-missing: presets[0].remove names charts.webb, which neither values.yaml nor any preset's `add` has, so removing it does nothing"],
  },
  {
    // dell-csm-operator-1.11.0 (on main): `- iamge: quay.io/...` among the images.
    name: 'an image entry with its key misspelt',
    change: (dir) => putFile(dir, 'values.yaml', VALID_VALUES.replace('      - image: ghcr.io/example/web:1.0.0\n', '      - image: ghcr.io/example/web:1.0.0\n      - iamge: ghcr.io/example/web-init:1.0.0\n')),
    warnings: ['values-image-entry: entry 1 has no `image:`'],
  },
  {
    // kubecost-1.103.3 (2023): a line of 5 spaces; pack-central's validate-values.sh counts its indentation too.
    name: 'a blank line of 5 spaces in values.yaml',
    change: (dir) => putFile(dir, 'values.yaml', VALID_VALUES.replace('\ncharts:\n', '\n     \ncharts:\n')),
    warnings: ['values-indentation: a line of 5 spaces'],
  },
];

interface Report {
  dir: string;
  findings: Array<{ severity: string; rule: string; message: string }>;
  passed: boolean;
}

describe('packs from pack-central history', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-e2e-history-');
    const targets: string[] = [];
    for (const [i, c] of CASES.entries()) {
      const dir = join(root, `case-${i}`);
      await writeValidPack(dir);
      await c.change(dir);
      targets.push(c.target === undefined ? dir : join(dir, c.target));
    }
    const run = await runCli(['validate', ...targets, '--json'], { env: { NO_COLOR: '1' } });
    return { targets, run, reports: JSON.parse(run.stdout) as Report[] };
  });

  it('validate exits 1 (some are refused) and reports every folder once, in the order given', () => {
    expect(w.run.code).toBe(1);
    expect(w.reports.map((r) => r.dir)).toEqual(w.targets);
  });

  it.each(CASES.map((c, i) => ({ ...c, i })))('$name', ({ i, errors = [], warnings }) => {
    const report = w.reports[i]!;
    const brief = (severity: string) => report.findings.filter((f) => f.severity === severity).map((f) => `${f.rule}: ${f.message}`);
    expect(report.passed).toBe(errors.length === 0);
    const found = brief('error');
    expect(found).toHaveLength(errors.length);
    errors.forEach((e, k) => expect(found[k]).toContain(e));
    // Warnings: the listed ones are there; a passing case without any listed has none.
    const warned = brief('warning');
    if (warnings === undefined) {
      if (errors.length === 0) expect(warned).toEqual([]);
    } else {
      expect(warned).toHaveLength(warnings.length);
      warnings.forEach((e, k) => expect(warned[k]).toContain(e));
    }
  });
});
