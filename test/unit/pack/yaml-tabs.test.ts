import { describe, expect, it } from 'vitest';
import { checkYamlText } from '../../../src/pack/yaml-source.js';

/*
 * Tabs at the start of a line, judged as go-yaml v2.4.0 (Helm 3) judges them: every expected verdict
 * and message below is what it gave for the same text (scannerc.go yaml_parser_scan_to_next_token,
 * yaml_parser_scan_plain_scalar, yaml_parser_scan_block_scalar_breaks).
 */
const T = '\t';

const refused: Array<{ name: string; text: string; line: number; message: string }> = [
  { name: 'a line holding only a tab between two keys', text: `a: 1\n${T}\nb: 2\n`, line: 2, message: 'found a tab character that violates indentation' },
  { name: 'a tab-only line left of a nested plain value', text: `a:\n  b: 1\n  ${T}\n  c: 2\n`, line: 3, message: 'found a tab character that violates indentation' },
  { name: 'a tab before a comment after a value', text: `a: 1\n${T}# d\nb: 2\n`, line: 2, message: 'found a tab character that violates indentation' },
  { name: 'a tab-only line after a quoted value', text: `a: "x"\n  ${T}\nb: 2\n`, line: 2, message: 'found character that cannot start any token' },
  { name: 'a tab-only line after a flow list', text: `a: [x]\n ${T}\nb: 2\n`, line: 2, message: 'found character that cannot start any token' },
  { name: 'a tab-only line after a comment line', text: `# c\n${T}\na: 1\n`, line: 2, message: 'found character that cannot start any token' },
  { name: 'a tab-only first line', text: `${T}\na: 1\n`, line: 1, message: 'found character that cannot start any token' },
  { name: 'a tab after a list dash', text: `- ${T}a\n`, line: 1, message: 'found character that cannot start any token' },
  { name: 'a tab right after a nested list dash', text: `- a\n- -${T}b\n`, line: 2, message: 'found character that cannot start any token' },
  { name: 'a tab after an explicit key indicator', text: `?${T}x\n: y\n`, line: 1, message: 'found character that cannot start any token' },
  { name: 'a tab-only last line', text: `a: 1\n${T}`, line: 2, message: 'found a tab character that violates indentation' },
  { name: 'a tab in the indentation of a block scalar', text: `d: |\n ${T}line1\n  more\n`, line: 2, message: 'found a tab character where an indentation space is expected' },
  { name: 'a tab right after the indentation of a folded block scalar\'s first line', text: `f: >-\n  ${T}g h\n  i\n`, line: 2, message: 'found a tab character where an indentation space is expected' },
];

const accepted: Array<{ name: string; text: string; value: unknown }> = [
  { name: 'a tab after the colon of a key', text: `a:${T}b\n`, value: { a: 'b' } },
  { name: 'a tab before a comment on the same line', text: `a: b${T}# c\n`, value: { a: 'b' } },
  { name: 'a tab at the end of a line', text: `a: 1${T}\nb: 2\n`, value: { a: 1, b: 2 } },
  { name: 'spaces then a tab, right of a plain value\'s indentation', text: `a: 1\n  ${T}\nb: 2\n`, value: { a: 1, b: 2 } },
  { name: 'a tab-only line right of a nested plain value\'s indentation', text: `a:\n  b: 1\n   ${T}\n  c: 2\n`, value: { a: { b: 1, c: 2 } } },
  { name: 'tabs in a flow list', text: `a: [${T}b]\n`, value: { a: ['b'] } },
  { name: 'a tab-only line inside a quoted value', text: `c: 'p\n${T}\n  q'\n`, value: { c: 'p\nq' } },
  { name: 'a tab leading a quoted value\'s line', text: `a: "x\n${T}y"\n`, value: { a: 'x y' } },
  { name: 'a tab inside a block scalar, right of its indentation', text: `a: |\n  x\n  ${T}\n   ${T}y\n`, value: { a: `x\n${T}\n ${T}y\n` } },
  { name: 'dashes and a tab inside a plain value\'s continuation line', text: `- a\n - -${T} b\n`, value: [`a - -${T} b`] },
  { name: 'a tab before the colon of a key', text: `a:\n  b${T}: 1\n`, value: { a: { b: 1 } } },
];

describe("tabs at the start of a line, as Go's YAML reader judges them", () => {
  it.each(refused)('refused: $name', ({ text, line, message }) => {
    const check = checkYamlText(text, 'values.yaml');
    expect(check.ok).toBe(false);
    expect(check.findings).toEqual([expect.objectContaining({ severity: 'error', rule: 'yaml-syntax', line })]);
    expect(check.findings[0]?.message).toContain(message);
  });

  it.each(accepted)('accepted: $name', ({ text, value }) => {
    const check = checkYamlText(text, 'values.yaml');
    expect(check.findings.filter((f) => f.severity === 'error')).toEqual([]);
    expect(check.documents[0]).toEqual(value);
  });

  it('a tab only a later document holds is a warning, as Helm reads only the first', () => {
    const check = checkYamlText(`a: 1\n---\nb: 2\n${T}\nc: 3\n`, 'values.yaml');
    expect(check.ok).toBe(true);
    expect(check.findings).toEqual([expect.objectContaining({ severity: 'warning', rule: 'yaml-syntax', line: 4 })]);
  });
});
