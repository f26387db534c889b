import { describe, expect, it } from 'vitest';
import { expectPushRefusedInvalid, expectRun, validateThenPushCase } from '../support/cli.js';
import { tgz } from '../support/files.js';
import { writeWebChartPerCase } from '../support/packs.js';
import { layoutHoldings } from '../support/registry-reader.js';
import { setup } from '../support/stage.js';

/*
 * A subchart template Go's template parser refuses (`default 10Gi`: a number followed by letters). Helm parses the
 * templates of every subchart ProcessDependencies keeps, with the chart's own, before it renders any (helm/helm
 * pkg/engine render, recAllTpls; a library chart's partials only, isTemplateValid), and never a disabled
 * subchart's: the verdict follows the values Palette installs with (the chart's values.yaml, the pack's
 * charts.web over it).
 */
const BROKEN = 'kind: ConfigMap\ndata:\n  size: {{ .Values.size | default 10Gi }}\n';
const GO_SAYS = 'bad number syntax: "10G" (10Gi is read as a number: quote it, "10Gi")';
const REDIS_CHART = 'apiVersion: v2\nname: redis\nversion: 1.2.0\n';
/** web's Chart.yaml with one dependency on redis, `more` its alias / condition / tags lines. */
const webChart = (more: string): string => `apiVersion: v2\nname: web\nversion: 1.0.0\ndependencies:\n- name: redis\n  version: 1.x\n${more}`;
const gated = { 'web/Chart.yaml': webChart('  condition: redis.enabled\n') };
const on = { ...gated, 'web/values.yaml': 'replicas: 1\nredis:\n  enabled: true\n' };

interface Case {
  name: string;
  chart: Record<string, string | Buffer>;
  /** The subchart's files, as web/charts/redis/<file> (else inside web/charts/redis-1.2.0.tgz). */
  folder?: Record<string, string>;
  values?: string;
  /** validate's error: the subchart as named, Helm's file name for it. */
  refused?: { sub: string; helm: string };
  /** The warning's way to turn the subchart on. */
  warns?: string;
}

const CASES: Case[] = [
  { name: 'no condition, subchart as a nested .tgz', chart: { 'web/Chart.yaml': webChart('') }, refused: { sub: 'redis', helm: 'web/charts/redis/templates/cm.yaml' } },
  { name: 'condition true in the chart values, subchart folder', chart: on, folder: {}, refused: { sub: 'redis', helm: 'web/charts/redis/templates/cm.yaml' } },
  // ProcessDependencies renames an aliased subchart: Helm names the file under the alias.
  { name: 'an alias', chart: { 'web/Chart.yaml': webChart('  alias: cache\n') }, refused: { sub: 'cache', helm: 'web/charts/cache/templates/cm.yaml' } },
  { name: 'condition false in the chart, the pack turns it on', chart: { ...gated, 'web/values.yaml': 'replicas: 1\nredis:\n  enabled: false\n' }, values: '    redis:\n      enabled: true\n', refused: { sub: 'redis', helm: 'web/charts/redis/templates/cm.yaml' } },
  { name: 'condition true in the chart, the pack turns it off', chart: on, values: '    redis:\n      enabled: false\n', warns: 'charts.web.redis.enabled' },
  { name: 'condition false in the chart values', chart: { ...gated, 'web/values.yaml': 'replicas: 1\nredis:\n  enabled: false\n' }, folder: {}, warns: 'charts.web.redis.enabled' },
  // A library chart's templates other than partials are never parsed; its partials are.
  { name: 'a library subchart, non-partial template', chart: { 'web/Chart.yaml': webChart('') }, folder: { 'Chart.yaml': `${REDIS_CHART}type: library\n` } },
  {
    name: 'a library subchart, partial',
    chart: { 'web/Chart.yaml': webChart('') },
    folder: { 'Chart.yaml': `${REDIS_CHART}type: library\n`, 'templates/cm.yaml': 'kind: ConfigMap\n', 'templates/_cm.tpl': BROKEN },
    refused: { sub: 'redis', helm: 'web/charts/redis/templates/_cm.tpl' },
  },
];

describe('a subchart template Go refuses', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-e2e-subtpl-');
    const nested = await tgz({ 'redis/Chart.yaml': REDIS_CHART, 'redis/templates/cm.yaml': BROKEN });
    await writeWebChartPerCase(root, CASES, (c) => {
      if (c.folder === undefined) return { ...c.chart, 'web/charts/redis-1.2.0.tgz': nested };
      const folder = Object.entries({ 'Chart.yaml': REDIS_CHART, 'templates/cm.yaml': BROKEN, ...c.folder }).map(([file, text]) => [`web/charts/redis/${file}`, text]);
      return { ...c.chart, ...Object.fromEntries(folder) };
    });
    return { root };
  });

  it.each(CASES.map((c, i) => ({ ...c, i })))('$name', async ({ i, refused, warns }) => {
    const { dir, layout, validate, push } = await validateThenPushCase(w.root, i);
    if (refused !== undefined) {
      const file = refused.helm.slice(refused.helm.indexOf('/templates/') + 1);
      expectRun(validate, {
        code: 1,
        stdout: [
          `${dir}: web:1.0.0 FAILED\n`,
          `  error   charts/web-1.0.0.tgz: Helm cannot install this chart with the values as published: its subchart ${refused.sub} is enabled (no condition or tag in the chart's values with the pack's charts.web over them leaves it out), and Go's template parser refuses the subchart's ${file}, line 3: ${GO_SAYS} (Helm: "parse error at (${refused.helm}:3): ...")`,
          `or, if the pack does not need subchart ${refused.sub}, turn it off in values.yaml (its condition)`,
          '0 passed, 1 failed (1 error, 0 warnings)',
        ],
      });
      await expectPushRefusedInvalid(push, layout);
      return;
    }
    if (warns !== undefined) {
      expectRun(validate, {
        code: 0,
        stdout: [
          `${dir}: web:1.0.0 OK\n`,
          `  warning charts/web-1.0.0.tgz: Helm cannot install this chart once its subchart redis is enabled: Go's template parser refuses the subchart's templates/cm.yaml, line 3: ${GO_SAYS}, and Helm parses the templates of every enabled subchart before it renders any.`,
          `but a user can turn it on (${warns}) in Palette's values editor;`,
          '1 passed, 0 failed (0 errors, 1 warning)',
        ],
      });
    } else {
      expectRun(validate, { code: 0, stdout: [`${dir}: web:1.0.0 OK\n`, '1 passed, 0 failed (0 errors, 0 warnings)'] });
    }
    // The pack installs as published: push publishes it.
    expect(push.code).toBe(0);
    const held = await layoutHoldings(layout);
    expect(held.problems).toEqual([]);
    expect([...held.tags.keys()]).toEqual(['spectro-packs/archive/web:1.0.0']);
  });
});

/*
 * A subchart template (not a partial) that runs, on every render, a template no file of the chart defines (a
 * subchart renamed after `helm create`): Helm renders every template of an enabled subchart (a library's partials
 * only) with the one namespace of the whole chart, so the install stops there; a disabled one is never rendered.
 */
const RUNS_UNDEFINED = 'kind: ConfigMap\nmetadata:\n  name: {{ include "redis.fullname" . }}\n';
const UNDEFINED_CASES: Array<{ name: string; chart: Record<string, string>; refused?: boolean; warns?: string }> = [
  { name: 'an enabled subchart: refused', chart: { 'web/Chart.yaml': webChart(''), 'web/charts/redis/templates/_helpers.tpl': '{{- define "cache.fullname" -}}x{{- end }}\n' }, refused: true },
  { name: 'a disabled subchart: a warning', chart: { ...gated, 'web/values.yaml': 'replicas: 1\nredis:\n  enabled: false\n' }, warns: 'charts.web.redis.enabled' },
  // Defined by the parent chart (the subchart uses its parent's helpers, as vendored subcharts do): found.
  { name: "the parent's define", chart: { 'web/Chart.yaml': webChart(''), 'web/templates/_helpers.tpl': '{{- define "redis.fullname" -}}x{{- end }}\n' } },
  // A library chart's templates other than partials are never rendered.
  { name: 'a library subchart', chart: { 'web/Chart.yaml': webChart(''), 'web/charts/redis/Chart.yaml': `${REDIS_CHART}type: library\n` } },
];

describe('a subchart template running a template no file defines', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-e2e-subrun-');
    await writeWebChartPerCase(root, UNDEFINED_CASES, (c) => ({ 'web/charts/redis/Chart.yaml': REDIS_CHART, 'web/charts/redis/templates/cm.yaml': RUNS_UNDEFINED, ...c.chart }));
    return { root };
  });

  it.each(UNDEFINED_CASES.map((c, i) => ({ ...c, i })))('$name', async ({ i, refused, warns }) => {
    const { layout, validate, push } = await validateThenPushCase(w.root, i);
    const runs = `the subchart's templates/cm.yaml runs the template "redis.fullname" (line 3) on every render, which no template of the chart or of its subcharts defines`;
    if (refused === true) {
      expectRun(validate, {
        code: 1,
        stdout: [
          `  error   charts/web-1.0.0.tgz: Helm cannot install this chart with the values as published: its subchart redis is enabled (no condition or tag in the chart's values with the pack's charts.web over them leaves it out), and ${runs}, so every install stops there (Helm: "error calling include: template: no template "redis.fullname" associated with template "gotpl"")`,
          '0 passed, 1 failed (1 error, 0 warnings)',
        ],
      });
      await expectPushRefusedInvalid(push, layout);
      return;
    }
    const warning = `  warning charts/web-1.0.0.tgz: Helm cannot install this chart once its subchart redis is enabled: ${runs}`;
    expectRun(validate, { code: 0, stdout: warns === undefined ? ['1 passed, 0 failed (0 errors, 0 warnings)'] : [warning, `turn it on (${warns})`, '1 passed, 0 failed (0 errors, 1 warning)'] });
    expect(push.code).toBe(0);
    expect([...(await layoutHoldings(layout)).tags.keys()]).toEqual(['spectro-packs/archive/web:1.0.0']);
  });
});

/*
 * A subchart template that fails every render whatever the values (a README.md left in templates/, a call with the
 * wrong number of arguments at its top level), as the top chart's are refused: an enabled subchart's refuses the
 * pack, a disabled one's is a warning (a library chart renders none).
 */
/** web, redis (enabled) running "common.labels", and a library common in web/charts and in redis/charts: the wrong call in web's copy (`inParent`) or in redis's. */
function commonCopies(inParent: boolean): Record<string, string> {
  const common = 'apiVersion: v2\nname: common\nversion: 2.0.0\ntype: library\n';
  const wrong = '{{- define "common.labels" -}}\n{{ include "common.name" }}\n{{- end }}\n{{- define "common.name" -}}web{{- end }}\n';
  const right = '{{- define "common.labels" -}}\napp: {{ include "common.name" . }}\n{{- end }}\n{{- define "common.name" -}}web{{- end }}\n';
  return {
    'web/Chart.yaml': webChart(''),
    'web/charts/common/Chart.yaml': common,
    'web/charts/common/templates/_labels.tpl': inParent ? wrong : right,
    'web/charts/redis/charts/common/Chart.yaml': common,
    'web/charts/redis/charts/common/templates/_labels.tpl': inParent ? right : wrong,
    'web/charts/redis/templates/cm.yaml': 'kind: ConfigMap\nmetadata:\n  labels: {{ include "common.labels" . | nindent 4 }}\n',
  };
}

const FAILS_CASES: Array<{ name: string; chart: Record<string, string>; says?: string; warns?: string }> = [
  { name: 'an enabled subchart with a README.md among its templates: refused', chart: { 'web/Chart.yaml': webChart(''), 'web/charts/redis/templates/README.md': '# Redis\n\nprose\n' }, says: `the subchart's templates/README.md holds no template action, so every render outputs it as it is, and Helm reads that as Kubernetes objects: the document at line 1 is a string, not a Kubernetes object` },
  { name: 'a disabled subchart calling include without its context: a warning', chart: { ...gated, 'web/values.yaml': 'replicas: 1\nredis:\n  enabled: false\n', 'web/charts/redis/templates/cm.yaml': 'kind: ConfigMap\nmetadata:\n  labels: {{ include "redis.labels" | nindent 4 }}\n', 'web/charts/redis/templates/_h.tpl': '{{- define "redis.labels" -}}a: b{{- end }}\n' }, warns: `the subchart's templates/cm.yaml calls include with 1 argument (line 3) on every render, and include takes 2.` },
  // Its helpers are followed as the top chart's are: a define run at the template's top level that makes the wrong call at its own.
  {
    name: 'an enabled subchart whose template runs a helper calling include without its context: refused',
    chart: {
      'web/Chart.yaml': webChart(''),
      'web/charts/redis/templates/cm.yaml': 'kind: ConfigMap\nmetadata:\n  labels: {{ include "redis.labels" . | nindent 4 }}\n',
      'web/charts/redis/templates/_h.tpl': '{{- define "redis.selector" -}}app: redis{{- end }}\n{{- define "redis.labels" -}}\n{{ include "redis.selector" }}\n{{- end }}\n',
    },
    says: `the subchart's templates/cm.yaml runs the template "redis.labels" (line 3) on every render; it (templates/_h.tpl) calls include with 1 argument (line 3), and include takes 2`,
  },
  // Helm executes a subchart's NOTES.txt too (its output is dropped unless --render-subchart-notes), and fails on its error.
  { name: 'an enabled subchart whose NOTES.txt calls include without its context: refused', chart: { 'web/Chart.yaml': webChart(''), 'web/charts/redis/templates/NOTES.txt': 'Redis is at {{ include "redis.host" | quote }}\n', 'web/charts/redis/templates/_h.tpl': '{{- define "redis.host" -}}redis{{- end }}\n' }, says: `the subchart's templates/NOTES.txt calls include with 1 argument (line 1) on every render, and include takes 2` },
  { name: 'a library subchart', chart: { 'web/Chart.yaml': webChart(''), 'web/charts/redis/Chart.yaml': `${REDIS_CHART}type: library\n`, 'web/charts/redis/templates/README.md': '# Redis\n' } },
  // Two copies of a library define the helper (bitnami charts vendor common in the chart and in each subchart): Helm's
  // render keeps the one with the fewest `/` in its name, web/charts/common's, for redis's template too.
  { name: "an enabled subchart running a helper two library copies define, the parent's copy (which Helm keeps) calling include without its context: refused", chart: commonCopies(true), says: `the subchart's templates/cm.yaml runs the template "common.labels" (line 3) on every render; it (templates/_labels.tpl of common) calls include with 1 argument (line 2), and include takes 2` },
  { name: "the same with the subchart's own copy calling include without its context: Helm never runs it", chart: commonCopies(false) },
];

describe('a subchart template that fails every render', () => {
  const w = setup(async (stack) => {
    const root = await stack.tempDir('packpub-e2e-subfails-');
    await writeWebChartPerCase(root, FAILS_CASES, (c) => ({ 'web/charts/redis/Chart.yaml': REDIS_CHART, ...c.chart }));
    return { root };
  });

  it.each(FAILS_CASES.map((c, i) => ({ ...c, i })))('$name', async ({ i, says, warns }) => {
    const { layout, validate, push } = await validateThenPushCase(w.root, i);
    if (says !== undefined) {
      expectRun(validate, {
        code: 1,
        stdout: [`  error   charts/web-1.0.0.tgz: Helm cannot install this chart with the values as published: its subchart redis is enabled (no condition or tag in the chart's values with the pack's charts.web over them leaves it out), and ${says}, so every install stops there.`, '0 passed, 1 failed (1 error, 0 warnings)'],
      });
      await expectPushRefusedInvalid(push, layout);
      return;
    }
    const warning = `  warning charts/web-1.0.0.tgz: Helm cannot install this chart once its subchart redis is enabled: ${warns ?? ''}`;
    expectRun(validate, { code: 0, stdout: warns === undefined ? ['1 passed, 0 failed (0 errors, 0 warnings)'] : [warning, 'turn it on (charts.web.redis.enabled)', '1 passed, 0 failed (0 errors, 1 warning)'] });
    expect(push.code).toBe(0);
    expect([...(await layoutHoldings(layout)).tags.keys()]).toEqual(['spectro-packs/archive/web:1.0.0']);
  });
});
