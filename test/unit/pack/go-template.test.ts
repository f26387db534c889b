import { describe, expect, it } from 'vitest';
import { goTemplateParseError, goTemplateRead } from '../../../src/pack/go-template.js';

/*
 * Templates as Go's text/template parser reads them (Helm parses every file of a chart's templates/ before it
 * renders any): what every Go and Helm version refuses, and forms real charts use that it reads.
 */

const REFUSED: Array<[string, string, number, string]> = [
  // Go tells it at the text's end (Go 1.19: "template: x:3: unclosed action started at x:2").
  ['unclosed action', 'a\n{{ .Values.x\n', 3, 'unclosed action started at line 2'],
  // Go parses tokens as they are lexed: an unknown function before a bad character is told first (Go 1.19 checked).
  // A lexer error on another line than the action's {{ (Go 1.19: "template: x:2: bad character U+002D '-' in action started at x:1").
  ['bad character in an action over lines', '{{ quote\n.a-b }}', 2, "bad character U+002D '-' in action started at line 1 (a key holding"],
  // Go shows the token itself (lex.go item.String; Go 1.19 checked): quoted, cut to 10 characters, <.> and <nil>.
  ['a value after break', '{{ range .a }}{{ break 1 }}{{ end }}', 1, 'unexpected "1" in {{break}}'],
  ['a field after end', '{{ if .a }}{{ end .b.c }}', 1, 'unexpected ".b" in end'],
  ['a long string after end', '{{ if .a }}{{ end "a long string here" }}', 1, 'unexpected "\\"a long st"... in end'],
  ['dot as a define name', '{{ define "a" . }}{{ end }}', 1, 'unexpected <.> in define clause'],
  ['unknown function before a bad character', '{{ foo .a-b }}', 1, 'function "foo" not defined'],
  ['unclosed comment', '{{/* note', 1, 'unclosed comment'],
  ['comment then text', '{{/* note */ x }}', 1, 'comment ends before closing delimiter'],
  ['unterminated string', '{{ "a\n" }}', 1, 'unterminated quoted string'],
  ['unterminated raw string', '{{ `a', 1, 'unterminated raw quoted string'],
  ['unclosed paren', '{{ (len .a }}', 1, 'unclosed left paren'],
  ['extra paren', '{{ len .a) }}', 1, 'unexpected right paren'],
  ['dash in a key', '{{ .Values.my-key }}', 1, `bad character U+002D '-' (a key holding "-" is read with index: {{ index .Values "my-key" }})`],
  ['unquoted quantity', '{{ default 10Gi .x }}', 1, 'bad number syntax: "10G" (10Gi is read as a number: quote it, "10Gi")'],
  ['a lone minus', '{{ sub 3 - 1 }}', 1, 'illegal number syntax: "-"'],
  ['no-break space', '{{\u00a0.x }}', 1, "unrecognized character in action: U+00A0 '\u00a0'"],
  ['regex escape', '{{ regexMatch "\\d+" .x }}', 1, 'invalid syntax: the string "\\d+" holds the escape \\d'],
  ['end alone', 'x\n{{- end }}', 2, 'unexpected {{end}}'],
  // Go tells the line its text ends on (the EOF token's), as Helm prints it; the opening line follows its words.
  ['if never ended', '{{ if .a }}\n{{ range .b }}{{ end }}', 2, 'unexpected EOF: the {{if}} of line 1 is never closed with {{end}}'],
  // What Go knows only at the `}}` is told at the `}}`'s line (Go 1.19 checked: template: x:3: unexpected {{end}}).
  ['end alone over lines', '{{\nend\n}}', 3, 'unexpected {{end}}'],
  ['second else over lines', '{{ if .a }}{{ else }}{{\nelse\n}}{{ end }}', 3, 'expected end; found {{else}}'],
  ['if without a value over lines', '{{ if\n}}{{ end }}', 2, 'missing value for if'],
  ['two else', '{{ if .a }}{{ else }}{{ else }}{{ end }}', 1, 'expected end; found {{else}}'],
  ['else in define', '{{ define "x" }}{{ else }}{{ end }}', 1, 'unexpected {{else}} in define clause'],
  // Go reads a block's body as a template of its own and names the line of the block's `}}` (Go 1.19 checked).
  ['else in block', '{{ block "x" .\n}}\n{{ else }}{{ end }}', 2, 'unexpected {{else}} in block clause'],
  ['nested define', '{{ if .a }}{{ define "x" }}{{ end }}{{ end }}', 1, 'unexpected <define> in command'],
  ['define without a quoted name', '{{ define x }}{{ end }}', 1, 'in define clause: the name must be a quoted string'],
  ['empty action', '{{ }}', 1, 'missing value for command'],
  ['if without a value', '{{ if }}{{ end }}', 1, 'missing value for if'],
  ['leading pipe', '{{ | quote }}', 1, 'unexpected "|" in command'],
  ['break outside range', '{{ if .a }}{{ break }}{{ end }}', 1, '{{break}} outside {{range}}'],
  ['undefined variable', '{{ $a := 1 }}{{ define "x" }}{{ $a }}{{ end }}', 1, 'undefined variable "$a"'],
  ['variable out of scope', '{{ if .a }}{{ $b := 1 }}{{ end }}{{ $b }}', 1, 'undefined variable "$b"'],
  // Go's checkPipeline, told at the `)` or `}}` ending the pipeline (Go 1.6 and every later version).
  ['a string piped into', '{{ .Values.x | "y" }}', 1, 'non executable command in pipeline stage 2 (after a "|" comes a function'],
  ['dot as a third stage, over lines', '{{ .a | quote\n| .\n}}', 3, 'non executable command in pipeline stage 3'],
  ['a number in a parenthesized pipeline', '{{ print (.a | 1)\n}}', 1, 'non executable command in pipeline stage 2'],
  ['nil and true as stages', '{{ $x := .a | true | nil }}', 1, 'non executable command in pipeline stage 2'],
  ['function no Helm defines', '{{ toYml .a }}', 1, 'function "toYml" not defined'],
  // One Parse call (one file) holds a name's define or block once, bar those holding only space (parse.go add).
  ['a name defined twice in one file', '{{ define "a" }}x{{ end }}\n{{ define "a" }}\ny{{ end }}', 3, 'multiple definition of template "a" (the {{define}} of line 1 defines it too'],
  ['a block over a define', '{{ define "a" }}{{ .x }}{{ end }}{{ block "a" . }}q{{ end }}', 1, 'multiple definition of template "a" (the {{define}} of line 1'],
  ['sprig env, which Helm removes', '{{ expandenv "$HOME" }}', 1, 'function "expandenv" not defined'],
];

const READ = [
  '{{- /* comment */ -}}{{/* one */}}{{- /* two */}}',
  '{{ .Values.a | quote | }}',
  '{{ "}}" }}{{ `raw\n}}` }}{{ \'x\' }}',
  '{{ -1 }} {{ +2 }} {{ 0x1F }} {{ 1e3 }} {{ 1_000 }} {{ .5 }} {{ 0b101 }} {{ 1.5i }}',
  '{{ range $i, $v := .a }}{{ if $i }}{{ break }}{{ end }}{{ continue }}{{ end }}',
  '{{ if .a }}a{{ else if .b }}b{{ else }}c{{ end }}{{ with .a }}{{ else with .b }}{{ end }}{{ range .a }}{{ else }}{{ end }}',
  '{{ $x := 1 }}{{ $x = 2 }}{{ $x }}{{ $ }}{{ $.Values.a }}',
  '{{ define "a" }}{{ $ }}{{ end }}{{ template "a" . }}{{ template "a" }}{{ block "b" . }}{{ . }}{{ end }}',
  '{{ define "c" }} \n {{/* c */}}{{ end }}{{ define "c" }}x{{ end }}{{ define "d" }}y{{ end }}{{ define "d" }}\t{{- end }}',
  '{{ (index .a 0).b }}{{ len (list 1 2) }}{{ include "a" . | nindent 4 }}{{ tpl .a . }}{{ lookup "v1" "Pod" "" "" }}',
  '{{ mustToYaml .a }}{{ toYamlPretty .a }}{{ fromYamlArray .a }}{{ durationSeconds "1m" }}{{ nil }}{{ true }}',
  '{{ "\\n\\t\\\\ \\x41 \\u00e9 \\U0001F600 \\101" }}',
  '{{- .a -}}\n{{\n  .a\n}}{{ .a -}} {{- .b}}',
  '{{ .Values.café }}{{ $été := 1 }}{{ $été }}',
  'text with }} and { { and {{ "{{" }}',
  '{{ . | quote }}{{ "x" | quote }}{{ 1 | add 2 }}{{ .a.b | default .c }}{{ .a | $.f }}{{ .a | (print) }}{{ $x := . | quote }}',
  // Deeper and longer than the arrays it starts with.
  `{{ ${'('.repeat(40)}1${')'.repeat(40)} }}{{ ${Array.from({ length: 600 }, () => 'quote').join(' ')} }}`,
];

describe('goTemplateParseError', () => {
  it.each(REFUSED)('%s: refused at its line', (_name, text, line, says) => {
    const refused = goTemplateParseError(text);
    expect(refused?.line).toBe(line);
    expect(refused?.message).toContain(says);
  });

  it('reads the forms real charts use', () => {
    expect(READ.filter((text) => goTemplateParseError(text) !== undefined)).toEqual([]);
  });

  // A large ASCII template is read as its bytes in windows per action: the same verdicts, at the same line,
  // also for an action longer than the first window (a raw string of 5,000 characters).
  it('reads a large template given as bytes as it reads its string', () => {
    const long = `{{ \`${'x'.repeat(5000)}\` }}\n`;
    const bodies = [...READ.map((t) => `${t}\n`), long];
    // Each copy's defines renamed: one text defines a name once (Go refuses a second define of it).
    const base = Array.from({ length: 400 }, (_, i) => (bodies[i % bodies.length] as string).replace(/(define|block) "/g, `$1 "${i}.`)).join('');
    for (const [, tail, line] of [['', '', 0], ...REFUSED] as Array<[string, string, number]>) {
      const text = base + tail;
      const fromBytes = goTemplateParseError(Buffer.from(text, 'latin1'));
      expect(fromBytes).toEqual(goTemplateParseError(text));
      if (tail !== '') expect(fromBytes?.line).toBe(base.split('\n').length - 1 + line);
    }
  });

  // The bytes are made strings 64 KiB at a time, cut after the last `}}` in them: an action holding a `}}` of its own
  // in a string across that cut is read again in a window from its `{{`; then a verdict after it.
  it('reads an action whose string holds }} across a window cut as its string', () => {
    for (const shift of [-12, -6, -3, -1, 0, 1, 4]) {
      const filler = '{{ .a }}\n'.repeat(Math.floor((65536 - 20 + shift) / 9));
      for (const tail of ['', '{{ end }}', '{{ .Values.my-key }}']) {
        const text = `${filler}{{ print "}}${' '.repeat(40)}" }}\n${'{{ .b }}\n'.repeat(100)}${tail}`;
        expect(goTemplateRead(Buffer.from(text, 'latin1'))).toEqual(goTemplateRead(text));
      }
    }
  });
});

describe('goTemplateRead', () => {
  // What every render runs by literal name: top-level include/template, not inside a block, not behind and/or.
  it('gives the names defined and the templates run whatever the values, with their lines', () => {
    const text = [
      '{{- define "web.name" -}}{{ include "web.inner" . }}{{- end }}',
      '{{ block "web.block" . }}{{ end }}',
      'name: {{ include "web.name" . | quote }}',
      '{{ template "web.tpl" . }}{{ include (print "web." "dyn") . }}{{ include "web/templates/cm.yaml" . }}',
      '{{ if .Values.a }}{{ include "web.cond" . }}{{ end }}{{ or .Values.b (include "web.or" .) }}{{ include "a\\\\b" . }}',
    ].join('\n');
    expect(goTemplateRead(text)).toEqual({
      bodies: new Map([['web.name', { runs: ['web.inner'] }]]),
      defines: ['web.name', 'web.block'],
      emptyDefines: ['web.block'],
      runs: [
        { name: 'web.name', line: 3 },
        { name: 'web.tpl', line: 4 },
      ],
    });
  });
});

describe('goTemplateRead runs in if/with/range pipelines', () => {
  // The pipeline of an if/with/range at the top level (of the text, of a define) runs whenever its context does.
  it('counts the templates they run by literal name', () => {
    const read = goTemplateRead('{{ if include "web.enabled" . }}{{ include "web.in" . }}{{ end }}\n{{ define "web.d" }}{{ with include "web.w" . }}{{ end }}{{ end }}');
    expect(read.runs).toEqual([{ name: 'web.enabled', line: 1 }]);
    expect(read.bodies).toEqual(new Map([['web.d', { runs: ['web.w'] }]]));
  });
});

describe('goTemplateRead emptyDefines', () => {
  // Go's parse.IsEmptyTree: a body of space and comments only; any action or other text fills it (a block fills the define holding it).
  it('names the defines holding nothing but space', () => {
    const text = '{{ define "e" }} \n\t{{/* c */}} {{- end }}{{ define "f" }}{{ if .a }}{{ end }}{{ end }}{{ define "g" }}{{ block "h" . }} {{ end }}{{ end }}{{ define "i" }}\u00a0\u2028{{ end }}{{ define "j" }}\ufeff{{ end }}';
    expect(goTemplateRead(text).emptyDefines).toEqual(['e', 'h', 'i']);
  });
});

describe('goTemplateRead miscall', () => {
  // text/template exec evalCall checks a call's number of arguments when it runs: at a template's top level, always.
  it.each<[string, { name: string; want: number; got: number; line: number; atLeast?: true; piped?: true } | undefined]>([
    ['a: 1\nlabels: {{- include "web.labels" | nindent 4 }}', { name: 'include', want: 2, got: 1, line: 2 }],
    ['{{ toYaml .Values.a | indent }}', { name: 'indent', want: 2, got: 1, line: 1 }],
    ['{{ required .Values.a }}', { name: 'required', want: 2, got: 1, line: 1 }],
    ['{{ print toYaml }}', { name: 'toYaml', want: 1, got: 0, line: 1 }],
    ['{{ .a | trunc 63 | trimSuffix }}', { name: 'trimSuffix', want: 2, got: 1, line: 1 }],
    // sprig's fixed-arity functions (the same in sprig v3.0.0 and v3.3.0); a function named as an argument is called with none.
    ['{{ .Values.csv | split }}', { name: 'split', want: 2, got: 1, line: 1 }],
    ['{{ ternary "a" "b" }}', { name: 'ternary', want: 3, got: 2, line: 1 }],
    ['{{ get .Values "a" "b" }}', { name: 'get', want: 2, got: 3, line: 1 }],
    ['{{ list first }}', { name: 'first', want: 1, got: 0, line: 1 }],
    ['{{ .Values.a | ternary "x" "y" }}{{ split "," .Values.x }}{{ toString .Values.x | quote }}{{ default (int .Values.a) 3 }}{{ .Values.l | join "," }}', undefined],
    // Variadic functions with fixed parameters (Go's printf, index, eq; sprig's default, merge, round, ...): fewer stop it too.
    ['{{ printf }}', { name: 'printf', want: 1, got: 0, atLeast: true, line: 1 }],
    ['{{ .Values.cpu | round }}', { name: 'round', want: 2, got: 1, atLeast: true, piped: true, line: 1 }],
    ['{{ toYaml (merge) }}', { name: 'merge', want: 1, got: 0, atLeast: true, line: 1 }],
    ['{{ list default }}', { name: 'default', want: 1, got: 0, atLeast: true, line: 1 }],
    ['{{ printf "%s" .a }}{{ "x" | printf }}{{ .a | default }}{{ index .a }}{{ round 1.5 0 }}{{ .a | round 2 }}{{ print }}{{ list }}{{ dict | merge (dict) }}', undefined],
    // An if/with/range pipeline at the top level is evaluated on every render too (an else if's only when reached).
    ['{{ if include "x" }}{{ end }}', { name: 'include', want: 2, got: 1, line: 1 }],
    ['a: 1\n{{- range $i, $v := splitList .Values.csv }}{{ $v }}{{ end }}', { name: 'splitList', want: 2, got: 1, line: 2 }],
    ['{{ if .a }}{{ else if include "x" }}{{ end }}{{ if .a }}{{ with include "x" }}{{ end }}{{ end }}{{ if or .a (include "x") }}{{ end }}', undefined],
    // Helm's fail stops the render whatever it is given (want -1); its arguments are evaluated first, so also as one.
    ['kind: x\n{{ default (fail "retired: use example.com/charts") .Values.a }}', { name: 'fail', want: -1, got: 1, line: 2 }],
    ['{{ if .Values.old }}{{ fail "old" }}{{ end }}{{ or .Values.a (fail "a") }}', undefined],
    // Right: a value piped in is the last argument; a parenthesized pipeline is one; chains are one operand.
    ['{{ include "x" . | nindent 4 }}{{ .Values.a | toYaml | nindent 4 }}{{ .Values.a | required "m" }}', undefined],
    ['{{ include "a" (dict "a" 1) }}{{ include "a" $.Values.x }}{{ tpl (index .Values "a").b . }}{{ $x := include "a" . }}', undefined],
    ['{{ include "a" . | trunc 63 | trimSuffix "-" }}{{ lookup "v1" "Pod" "" "" }}{{ len .a | not }}{{include "x" .}}', undefined],
    // Not on every render: inside a block or define, or behind and/or.
    ['{{ if .a }}{{ include "x" }}{{ end }}{{ define "q" }}{{ include "x" }}{{ end }}{{ and .a (include "x") }}', undefined],
  ])('%s', (text, miscall) => {
    expect(goTemplateRead(text).miscall).toEqual(miscall);
    // A large ASCII template is read as its bytes, in windows: the same call found, lines counted from the top.
    const filler = '{{ .a }}\n'.repeat(20_000);
    expect(goTemplateRead(Buffer.from(filler + text, 'latin1')).miscall).toEqual(miscall === undefined ? undefined : { ...miscall, line: miscall.line + 20_000 });
  });
});

describe('goTemplateRead bodies', () => {
  // What each define's own top level does whatever the values: its first wrong call, the templates it runs there.
  it('gives per define the first wrong call and the templates run at its top level', () => {
    const text = [
      '{{- define "web.selectorLabels" -}}app: web{{- end }}',
      '{{- define "web.labels" -}}',
      '{{ include "web.selectorLabels" }}',
      '{{ template "web.extra" . }}',
      '{{- if .Values.a }}{{ include "web.cond" . }}{{ toYaml }}{{ end }}',
      '{{- end }}',
      '{{- define "web.ok" -}}{{ include "web.labels" . | nindent 2 }}{{ and .a (include "web.skip") }}{{- end }}',
    ].join('\n');
    expect(goTemplateRead(text).bodies).toEqual(
      new Map([
        ['web.labels', { miscall: { name: 'include', want: 2, got: 1, line: 3 }, runs: ['web.selectorLabels', 'web.extra'] }],
        ['web.ok', { runs: ['web.labels'] }],
      ]),
    );
  });
});
