import { describe, expect, it } from 'vitest';
import { eachValuesReferencePath } from '../../../src/pack/template-refs.js';

/*
 * review (s20): a5804d1 follows `$v := .Values` by searching the whole template once more per such variable
 * (two regular expressions each). A template of many such assignments made validate quadratic: a chart archive
 * of 158 KB (one 1 MB template of 40,000 `{{- $vN := .Values }}` lines) took 38 s of CPU to validate, 0.2 s
 * before a5804d1; at the 4 MiB a template may have, minutes per template. The reads must be found in time
 * linear in the text: 32,000 variables (~800 KB) well under the bound below (linear: ~50 ms here).
 */

describe('reads through variables set to .Values are found in linear time', () => {
  it('32,000 variables, each read once', () => {
    const n = 32_000;
    let text = '';
    for (let i = 0; i < n; i++) text += `{{- $v${i} := .Values }}{{ $v${i}.key${i % 7} }}\n`;
    const started = process.cpuUsage();
    const paths = new Set<string>();
    eachValuesReferencePath(text, (path) => paths.add(path), 1_000_000);
    const cpu = process.cpuUsage(started);
    expect([...paths].sort()).toEqual(['key0', 'key1', 'key2', 'key3', 'key4', 'key5', 'key6']);
    // Generous: two orders of magnitude above a linear scan, an order below what the per-variable search takes.
    expect((cpu.user + cpu.system) / 1000).toBeLessThan(3_000);
  });
});
