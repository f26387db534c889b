import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deepCheckPack } from '../../src/pack/deep-checks.js';

/*
 * The real packs in ../shared/corpus/packs (not part of this repository). Each is deep-checked as
 * published, and each Helm pack again with its chart values wrapped one level too deep, which must be
 * flagged with the nesting that fixes it.
 */
const CORPUS = fileURLToPath(new URL('../../../shared/corpus/packs', import.meta.url));
const present = existsSync(CORPUS);
if (!present) console.warn(`corpus deep checks skipped: ${CORPUS} is absent (it lives beside the repository, not in it)`);

interface CorpusPack {
  folder: string;
  dir: string;
  packJson: Record<string, unknown>;
  valuesText: string;
}

async function loadCorpus(): Promise<CorpusPack[]> {
  const folders = (await readdir(CORPUS)).sort();
  return Promise.all(
    folders.map(async (folder) => {
      const dir = join(CORPUS, folder);
      return {
        folder,
        dir,
        packJson: JSON.parse(await readFile(join(dir, 'pack.json'), 'utf8')) as Record<string, unknown>,
        valuesText: await readFile(join(dir, 'values.yaml'), 'utf8'),
      };
    }),
  );
}

/** The chart key of each Helm pack (its Chart.yaml name), as read from its values.yaml. */
const HELM_PACKS: Record<string, string> = {
  'appdynamics-collector-1.13.684': 'appdynamics-collectors',
  'cks-trivy-0.4.12': 'trivy',
  'crossplane-2.3.0': 'crossplane',
  'nvidia-nvsentinel-v1.1.0': 'nvsentinel',
  'vast-block-2.6.5': 'vastblock',
};

/** `charts.<key>:` and everything below it moved one level deeper, under a repeated `<key>:`. */
function wrapChartValues(text: string, key: string): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l, i) => l === `  ${key}:` && lines.slice(0, i).some((p) => p === 'charts:'));
  if (start === -1) throw new Error(`no "  ${key}:" under charts: in the corpus values`);
  const out = [...lines.slice(0, start + 1), `    ${key}:`];
  let i = start + 1;
  for (; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const indent = line.length - line.trimStart().length;
    if (line.trim() !== '' && !line.trimStart().startsWith('#') && indent < 4) break;
    out.push(line === '' ? '' : `  ${line}`);
  }
  return [...out, ...lines.slice(i)].join('\n');
}

describe.skipIf(!present)('deep checks on the real packs', () => {
  it('finds nothing to fix in any corpus pack as published', async () => {
    const packs = await loadCorpus();
    const results: Record<string, string[]> = {};
    for (const p of packs) {
      const findings = await deepCheckPack({ dir: p.dir, packJson: p.packJson, valuesText: p.valuesText });
      results[p.folder] = findings.map((f) => `${f.severity} ${f.rule} ${f.file}:${f.line ?? ''} ${f.path ?? ''}`);
    }
    // Every key these packs set exists in their charts' values or templates, and every
    // .Values reference of the manifest packs is defined (hello-universe 1.2.0 through its presets).
    expect(results).toEqual(Object.fromEntries(packs.map((p) => [p.folder, []])));
    expect(Object.keys(HELM_PACKS).every((folder) => folder in results)).toBe(true);
  });

  it.each(Object.entries(HELM_PACKS))('flags %s with its chart values one level too deep', async (folder, key) => {
    const pack = (await loadCorpus()).find((p) => p.folder === folder);
    expect(pack).toBeDefined();
    if (pack === undefined) return;
    expect(pack.packJson['charts']).toBeDefined();
    const findings = await deepCheckPack({ dir: pack.dir, packJson: pack.packJson, valuesText: wrapChartValues(pack.valuesText, key) });
    const expectedLine = pack.valuesText.split('\n').findIndex((l) => l === `  ${key}:`) + 2;
    expect(findings.map((f) => ({ rule: f.rule, path: f.path, line: f.line }))).toEqual([{ rule: 'deep-values-nesting', path: `charts.${key}.${key}`, line: expectedLine }]);
    // trivy's chart has a `trivy:` key of its own, so there the block is "misplaced", elsewhere an unknown wrapper.
    expect(findings[0]?.message).toMatch(new RegExp(`nested one level too deep; move them up to charts\\.${key.replace(/[.-]/g, '\\$&')}\\b`));
  });

  it('flags the crossplane pack with its replica count written directly under charts', async () => {
    const pack = (await loadCorpus()).find((p) => p.folder === 'crossplane-2.3.0');
    if (pack === undefined) throw new Error('crossplane-2.3.0 is missing from the corpus');
    const valuesText = pack.valuesText.replace('charts:\n', 'charts:\n  replicas: 2\n');
    const findings = await deepCheckPack({ dir: pack.dir, packJson: pack.packJson, valuesText });
    expect(findings.map((f) => f.message)).toEqual([
      'charts.replicas is not a chart of this pack: it is nested one level too shallow; did you mean charts.crossplane.replicas?',
    ]);
  });
});
