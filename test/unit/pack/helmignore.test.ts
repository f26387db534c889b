import { symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packChartDirectory } from '../../../src/archive/chart-package.js';
import { ChartError, readChart } from '../../../src/pack/chart.js';
import { goMatch, parseHelmIgnore } from '../../../src/pack/helmignore.js';
import { failure } from '../../support/errors.js';
import { tgzNames, writeTgz, writeFiles as put } from '../../support/files.js';
import { setup } from '../../support/stage.js';

/*
 * .helmignore as Helm's directory loader applies it. Every expected value below came from a throwaway Go
 * program running Helm's pkg/ignore rules over Go's filepath.Match (with its check of the whole pattern),
 * which also agreed with helmignore.ts on 40,000 random patterns and 20,000 random rule files (not committed).
 */

const w = setup(async (stack) => ({ work: await stack.tempDir('packpub-helmignore-') }));

describe("Go's filepath.Match", () => {
  it.each([
    ['*.lock', 'Chart.lock', true],
    ['*', 'a/b', false],
    ['a/*', 'a/b', true],
    ['a/*', 'a/b/c', false],
    ['[a-c]x', 'bx', true],
    ['[^a-c]x', 'dx', true],
    ['[^a-c]x', 'bx', false],
    ['\\*x', '*x', true],
    ['a?c', 'a/c', false],
    ['[/]', '/', true],
    ['x*[', 'abc', 'bad'],
    ['a[', 'a', 'bad'],
    ['[]a]', ']', 'bad'],
    ['[-a]', 'a', 'bad'],
    ['a\\', 'a', 'bad'],
    ['*b*', 'abc', true],
    ['é?', 'éa', true],
  ] as const)('%s on %s: %s', (pattern, name, expected) => {
    expect(goMatch([...pattern], [...name])).toBe(expected);
  });
});

describe('.helmignore rules', () => {
  it.each([
    ['Chart.lock', [['Chart.lock', false], ['charts/sub/Chart.lock', false], ['Chart.lock', true]], [true, true, true]],
    ['/Chart.lock', [['Chart.lock', false], ['charts/sub/Chart.lock', false]], [true, false]],
    ['charts/sub/Chart.lock', [['charts/sub/Chart.lock', false], ['Chart.lock', false]], [true, false]],
    ['locks/', [['locks', true], ['locks', false], ['a/locks', true]], [true, false, true]],
    // Helm's `!`: everything the rule does not match is ignored (Chart.yaml too), not a re-inclusion.
    ['!templates', [['Chart.yaml', false], ['templates', true], ['a/templates', true]], [true, false, false]],
    ['!templates/', [['templates', true], ['templates/x.yaml', false], ['other', true]], [false, true, true]],
    // Helm's own rule, templates/.?*: dot files right under the top chart's templates/.
    ['', [['templates/.hidden', false], ['templates/a/.hidden', false], ['charts/s/templates/.x', false], ['templates/.', false], ['.helmignore', false]], [true, false, false, false, false]],
    ['\uFEFF# c\n  *.bak  \r\nsecrets/', [['x.bak', false], ['secrets', true], ['secrets', false], ['# c', false]], [true, true, false, false]],
  ] as const)('%j', (text, paths, expected) => {
    const rules = parseHelmIgnore(text);
    expect(paths.map(([path, dir]) => rules.ignores(path, dir))).toEqual(expected);
  });

  it('refuses what Helm refuses: ** and malformed patterns', () => {
    expect(() => parseHelmIgnore('a/**')).toThrow('double-star (**) syntax is not supported');
    expect(() => parseHelmIgnore('ok\n[')).toThrow('rule "[": syntax error in pattern');
  });
});

const CHART = 'apiVersion: v2\nname: web\nversion: 1.0.0\n';
/** A Chart.lock Helm's loader cannot read (its `generated` is not RFC 3339): it refuses a chart that loads it. */
const BAD_LOCK = 'dependencies: []\ndigest: sha256:00\ngenerated: "2024-01-31"\n';

describe('an unpacked chart: what .helmignore lists is neither read nor checked (Helm does not load it)', () => {
  it('a Chart.lock Helm cannot read, listed in .helmignore: the chart reads and packs; not listed: refused', async () => {
    const listed = join(w.work, 'listed');
    await put(listed, { 'Chart.yaml': CHART, 'Chart.lock': BAD_LOCK, '.helmignore': '*.lock\n' });
    expect((await readChart(listed)).name).toBe('web');
    const out = join(w.work, 'listed.tgz');
    await packChartDirectory(listed, out);
    expect((await readChart(out)).name).toBe('web');

    const unlisted = join(w.work, 'unlisted');
    await put(unlisted, { 'Chart.yaml': CHART, 'Chart.lock': BAD_LOCK });
    const err = await failure(readChart(unlisted));
    expect(err.message).toContain('cannot load Chart.lock');
  });

  it("subchart folders are matched by their path from the top chart; a subchart's own .helmignore is an ordinary file", async () => {
    // A chart with subchart folder charts/db holding a Chart.lock Helm cannot read, and one .helmignore file.
    const withDb = async (name: string, helmignore: Record<string, string>) => {
      const dir = join(w.work, name);
      await put(dir, { 'Chart.yaml': CHART, 'charts/db/Chart.yaml': 'apiVersion: v2\nname: db\nversion: 0.1.0\n', 'charts/db/Chart.lock': BAD_LOCK, ...helmignore });
      return readChart(dir);
    };
    expect((await withDb('by-top', { '.helmignore': 'charts/db/Chart.lock\n' })).subcharts.map((s) => s.name)).toEqual(['db']);
    expect((await failure(withDb('by-own', { 'charts/db/.helmignore': 'Chart.lock\n' }))).message).toContain('charts/db/Chart.lock');

    // A subchart folder or archive listed in .helmignore is not loaded at all.
    const gone = join(w.work, 'gone');
    await put(gone, { 'Chart.yaml': CHART, '.helmignore': 'db/\ncache-*.tgz\n', 'charts/db/Chart.yaml': 'not: [a chart', 'charts/db/Chart.lock': BAD_LOCK });
    await writeTgz(join(gone, 'charts/cache-1.0.0.tgz'), { 'cache/Chart.yaml': 'apiVersion: v2\nname: cache\nversion: 1.0.0\n', 'cache/Chart.lock': BAD_LOCK });
    expect((await readChart(gone)).subcharts).toEqual([]);
  });

  it('values.yaml and templates listed in .helmignore are not read', async () => {
    const dir = join(w.work, 'values-ignored');
    await put(dir, { 'Chart.yaml': CHART, 'values.yaml': 'a: [unclosed\n', 'templates/x.yaml': '{{ .Values.shown }}', 'templates/old/y.yaml': '{{ .Values.hidden }}', '.helmignore': 'values.yaml\ntemplates/old/\n' });
    const chart = await readChart(dir);
    expect(chart.valuesText).toBe('');
    expect(chart.templateValuePaths).toEqual([['shown']]);
  });

  it('refuses what Helm refuses: Chart.yaml listed in .helmignore, a ** rule', async () => {
    const noChart = join(w.work, 'no-chart');
    await put(noChart, { 'Chart.yaml': CHART, '.helmignore': 'Chart.*\n' });
    const err = await failure(readChart(noChart));
    expect(err).toBeInstanceOf(ChartError);
    expect(err.message).toBe(`${noChart}: Chart.yaml is listed in .helmignore, so Helm does not load it (Helm: "Chart.yaml file is missing")`);

    const star = join(w.work, 'double-star');
    await put(star, { 'Chart.yaml': CHART, '.helmignore': 'docs/**\n' });
    expect((await failure(readChart(star))).message).toBe(
      `${join(star, '.helmignore')}: rule "docs/**": double-star (**) syntax is not supported, so Helm refuses to load the chart`,
    );
  });

  it('packing leaves out what Helm leaves out: its templates/.?* rule, ignored folders, an ignored symlink out of the chart', async () => {
    const dir = join(w.work, 'pack-rules');
    await put(dir, { 'Chart.yaml': CHART, 'templates/.notes': 'x', 'templates/a.yaml': 'kind: A\n', 'docs/a.md': 'a', 'keep.md': 'k', '.helmignore': 'docs/\nlink\n' });
    await symlink('/etc/hostname', join(dir, 'link'));
    const out = join(w.work, 'pack-rules.tgz');
    await packChartDirectory(dir, out);
    expect(await tgzNames(out)).toEqual(['web/.helmignore', 'web/Chart.yaml', 'web/keep.md', 'web/templates/a.yaml']);
  });
});

describe('a chart archive: .helmignore inside it is not applied (Helm: "not evaluated when reading out of an archive")', () => {
  it('a Chart.lock Helm cannot read is refused even when the archive lists it in .helmignore', async () => {
    const file = join(w.work, 'archived.tgz');
    await writeTgz(file, { 'web/Chart.yaml': CHART, 'web/.helmignore': 'Chart.lock\n', 'web/Chart.lock': BAD_LOCK });
    expect((await failure(readChart(file))).message).toContain('cannot load Chart.lock');
  });
});
