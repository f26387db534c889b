import { describe, expect, it } from 'vitest';
import { causeLine, failureCauses } from '../../../src/cli/ci-output/causes.js';
import { escapeProperty, markdownCell, workflowCommand } from '../../../src/cli/ci-output/github.js';
import { escapeData } from '../../../src/cli/io.js';
import { junitXml, xmlEscape } from '../../../src/cli/ci-output/junit.js';
import { summarize, type PackResult } from '../../../src/operations/push-report.js';

const failed = (name: string, target: string, code: string, message: string): PackResult => ({
  dir: `/p/${name}`,
  name,
  version: '1.0.0',
  target,
  reference: `h:5000/b/spectro-packs/archive/${name}:1.0.0`,
  status: 'failed',
  uploadedBytes: 0,
  durationMs: 5,
  error: { code, message, hint: 'check the password' },
});

describe('workflow command escaping (GitHub Docs: data escapes % CR LF; properties also : and ,)', () => {
  it.each([
    ['100%', '100%25', '100%25'],
    ['a\r\nb', 'a%0D%0Ab', 'a%0D%0Ab'],
    ['x: y, z', 'x: y, z', 'x%3A y%2C z'],
    ['%0A', '%250A', '%250A'],
  ])('%j', (input, data, property) => {
    expect(escapeData(input)).toBe(data);
    expect(escapeProperty(input)).toBe(property);
  });

  it('builds a command with escaped properties and message, leaving out absent ones', () => {
    expect(workflowCommand('error', { file: 'packs/a,b/pack.json', line: 3, col: undefined, title: 'x:y' }, 'bad\nvalue 50%')).toBe(
      '::error file=packs/a%2Cb/pack.json,line=3,title=x%3Ay::bad%0Avalue 50%25',
    );
    expect(workflowCommand('warning', {}, 'w')).toBe('::warning::w');
  });
});

describe('markdown and XML cells', () => {
  it('escapes table-breaking and markup characters', () => {
    expect(markdownCell('a|b <script> *x* `c` [l](u) & \\ \nnext')).toBe('a\\|b &lt;script&gt; \\*x\\* \\`c\\` \\[l\\](u) &amp; \\\\ <br>next');
  });

  it('escapes XML attributes and drops characters XML cannot hold', () => {
    expect(xmlEscape('<a b="c" d=\'e\'>&\n\u0001')).toBe('&lt;a b=&quot;c&quot; d=&apos;e&apos;&gt;&amp;&#10;\ufffd');
  });
});

describe('one cause, one line', () => {
  it('groups a target-wide error across packs, keeping the cause rather than the "not attempted" wrapper', () => {
    const results = [
      failed('a', 'registry h:5000/b', 'NETWORK', 'connection refused by h:5000'),
      ...['b', 'c', 'd', 'e'].map((n) => failed(n, 'registry h:5000/b', 'NETWORK', 'not attempted: registry h:5000/b failed earlier in this run (connection refused by h:5000)')),
      failed('f', 'registry other:1/b', 'NETWORK', 'connection refused by other:1'),
      { ...failed('g', 'registry h:5000/b', 'CONFLICT', 'differs'), status: 'conflict' as const },
    ];
    const causes = failureCauses(results);
    expect(causes.map((c) => c.kind)).toEqual(['target', 'pack', 'pack']);
    const first = causes[0];
    if (first?.kind !== 'target') throw new Error('expected a target cause');
    expect(causeLine(first)).toBe('FAILED registry h:5000/b: connection refused by h:5000 (stopped 5 packs: a:1.0.0, b:1.0.0, c:1.0.0 and 2 more)');
    expect(first.hint).toBe('check the password');
  });

  it('keeps AUTH refusals of different repositories apart but joins the same refusal for every pack', () => {
    const same = ['a', 'b'].map((n) => failed(n, 't', 'AUTH', `credentials rejected or no push permission on b/spectro-packs/archive/${n}`));
    const causes = failureCauses([...same, failed('c', 't', 'AUTH', 'credentials rejected or no push permission on other/repo')]);
    expect(causes.map((c) => (c.kind === 'pack' ? c.result.name : c.results.length))).toEqual([2, 'c']);
  });

  it('says the invalid-pack gate once, counting packs (not results) over several targets', () => {
    const held = (name: string, target: string): PackResult => ({ ...failed(name, target, 'PACK_INVALID', 'not pushed because other packs are invalid') });
    const invalid: PackResult = { dir: '/p/x', status: 'invalid', uploadedBytes: 0, durationMs: 0, error: { code: 'PACK_INVALID', message: '1 error(s)' } };
    const causes = failureCauses([invalid, held('a', 't1'), held('a', 't2'), held('b', 't1'), held('b', 't2')]);
    expect(causes).toHaveLength(2);
    const gate = causes[1];
    if (gate?.kind !== 'held-back') throw new Error('expected the gate');
    expect(causeLine(gate)).toBe('2 valid packs not pushed because 1 is invalid; pass --continue-on-error to push them');
  });
});

describe('JUnit report', () => {
  it('has one test case per pack and target; an invalid pack counts for each target', () => {
    const invalid: PackResult = { dir: '/p/x', name: 'x', version: '1', status: 'invalid', uploadedBytes: 0, durationMs: 0, error: { code: 'PACK_INVALID', message: '1 error(s)' } };
    const ok = (target: string): PackResult => ({ dir: '/p/y', name: 'y', version: '1', target, status: 'published', uploadedBytes: 1, durationMs: 1500 });
    const results = [invalid, ok('t1'), ok('t2')];
    const xml = junitXml({ target: 't1, t2', results, summary: summarize(results), durationMs: 2000, aborted: false }, { targets: ['t1', 't2'], started: new Date('2026-01-02T03:04:05.678Z') });
    expect(xml).toContain('<testsuites name="packpub push" tests="4" failures="2" errors="0" time="2.000">');
    expect(xml).toContain('<testsuite name="t1" tests="2" failures="1" errors="0" skipped="0" time="1.500" timestamp="2026-01-02T03:04:05" hostname="localhost">');
    expect(xml.match(/<testcase name="x:1"/g)).toHaveLength(2);
  });
});
