import { createRequire } from 'node:module';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { COMMAND_MODULES, loadCommands } from '../../../src/cli/commands/index.js';
import { type CliIo, escapeData } from '../../../src/cli/io.js';
import { confirm, stdinIsTty } from '../../../src/cli/prompt.js';
import { copyAnnotations, deleteAnnotations, escapeProperty, markdownCell, workflowCommand, annotations, stepSummary } from '../../../src/cli/ci-output/github.js';
import type { CopyReport } from '../../../src/operations/copy-report.js';
import type { DeleteReport } from '../../../src/operations/delete.js';
import type { Args, CliContext } from '../../../src/cli/context.js';
import { withPackTarget, withTarget } from '../../../src/cli/target-command.js';
import { PackpubError } from '../../../src/errors.js';
import { OciLayoutStore } from '../../../src/targets/oci-layout.js';
import { tempDir } from '../../support/files.js';
import { causeLine, failureCauses, type PaletteOutcome } from '../../../src/cli/ci-output/causes.js';
import { junitXml, xmlEscape } from '../../../src/cli/ci-output/junit.js';
import { summarize, type PackResult, type PushReport } from '../../../src/operations/push-report.js';

/*
 * The tests of src/cli/'s smaller modules, a describe per module (each was a test file of its own): each test file
 * costs vitest ~15-30 ms of CPU whatever its size (requests between worker and main process, test/per-file-
 * setup.ts).
 */

describe('commands-index', () => {
  /*
   * main() registers only the command named first, loading it by name from COMMAND_MODULES: a name that
   * loaded another command's module would run the wrong command, or refuse a valid one.
   */
  describe('the command modules by name', () => {
    it('each name loads the command of that name; all of them, in help order, are what loadCommands gives', async () => {
      const specs = await loadCommands();
      const first = (command: string | string[]): string => (Array.isArray(command) ? command[0] : command)?.split(' ')[0] ?? '';
      expect(specs.map((s) => first(s.command))).toEqual(COMMAND_MODULES.map(([name]) => name));
      for (const [name, load] of COMMAND_MODULES) expect(first((await load()).command)).toBe(name);
      expect(new Set(COMMAND_MODULES.map(([name]) => name)).size).toBe(COMMAND_MODULES.length);
    });
  });
});

describe('v8-flags', () => {
  interface V8Flags {
    runFlags(validating: boolean, v8?: string): { flags: string[]; undo: string[] };
    startFlags(validating: boolean): string[];
    workerFlags(v8?: string): string[];
  }
  const { runFlags, startFlags, workerFlags } = createRequire(import.meta.url)('../../../bin/v8-flags.cjs') as V8Flags;

  /*
   * bin/v8-flags.cjs: V8 prints "Error: unrecognized flag" for a flag it does not have (and ignores the rest of that
   * string), so each flag is set only on a V8 that has it. Which V8 has which flag was read from `node --v8-options`
   * of Node 20.20 (V8 11.3), 21.7 (11.8), 22.23 (12.4), 24.22 (13.6) and 26.12 (14.6);
   * test/e2e/node-releases.test.ts runs the CLI on 22, 24 and 26 and asserts an empty standard error.
   */
  describe('the V8 flags of a run, by the V8 of the Node running it', () => {
    it("Node 20's V8 (11.3), where they were measured: the tuning flags, set back to V8's defaults by one string", () => {
      expect(runFlags(false, '11.3.244.8-node.38')).toEqual({
        flags: ['--liftoff-only', '--interrupt-budget=270336', '--semi-space-growth-factor=1'],
        undo: ['--no-liftoff-only --wasm-tier-up --wasm-dynamic-tiering --interrupt-budget=67584 --semi-space-growth-factor=2'],
      });
      expect(runFlags(true, '11.3.244.8-node.38')).toEqual({
        flags: ['--liftoff-only', '--interrupt-budget=540672', '--semi-space-growth-factor=1', '--no-use-osr'],
        undo: ['--no-liftoff-only --wasm-tier-up --wasm-dynamic-tiering --interrupt-budget=67584 --semi-space-growth-factor=2 --use-osr'],
      });
      expect(workerFlags('11.3.244.8-node.23')).toEqual(['--liftoff-only', '--interrupt-budget=540672']);
    });

    it.each(['11.8.172.17-node.20', '12.4.254.21-node.57', '13.6.233.17-node.63', '14.6.202.34-node.40'])('V8 %s (no --interrupt-budget): --liftoff-only alone', (v8) => {
      for (const validating of [false, true]) expect(runFlags(validating, v8)).toEqual({ flags: ['--liftoff-only'], undo: ['--no-liftoff-only --wasm-tier-up --wasm-dynamic-tiering'] });
      expect(workerFlags(v8)).toEqual(['--liftoff-only']);
    });

    it("before validate's first worker starts, on every V8 (each has the flag): its workers compile hot functions on their own thread; a push sets none", () => {
      expect(startFlags(true)).toEqual(['--no-concurrent-recompilation']);
      expect(startFlags(false)).toEqual([]);
    });
  });
});

describe('prompt', () => {
  /* The confirmation delete asks on a terminal (the real terminal is in test/e2e/delete.test.ts): default No. */

  function io(answer: string[] | undefined, tty = true): { io: CliIo; asked: () => string } {
    const stderr = new PassThrough();
    const chunks: Buffer[] = [];
    stderr.on('data', (c: Buffer) => chunks.push(c));
    const stdin = answer === undefined ? new PassThrough() : Readable.from(answer.map((a) => Buffer.from(a)));
    Object.assign(stdin, { isTTY: tty });
    return { io: { stdout: new PassThrough(), stderr, stdin, env: {}, cwd: '.' }, asked: () => Buffer.concat(chunks).toString('utf8') };
  }

  describe('confirm', () => {
    it.each([
      ['y\n', true],
      ['YES\n', true],
      [' yes \n', true],
      ['\n', false],
      ['n\n', false],
      ['yep\n', false],
    ])('%j -> %s', async (answer, expected) => {
      const t = io([answer]);
      expect(await confirm(t.io, 'Delete 1 version(s)?')).toBe(expected);
      expect(t.asked()).toContain('Delete 1 version(s)? [y/N] ');
    });

    it('input that ends without an answer is a no', async () => {
      expect(await confirm(io([]).io, 'Delete?')).toBe(false);
    });

    it('asks only when stdin is a terminal and --no-tty is not given', () => {
      expect(stdinIsTty(io([], true).io)).toBe(true);
      expect(stdinIsTty(io([], false).io)).toBe(false);
      expect(stdinIsTty({ ...io([], true).io, noTty: true })).toBe(false);
    });
  });
});

describe('annotation-limit-no-summary', () => {
  /*
   * GitHub shows 10 annotations of a kind per step: past them, the last annotation says where the others are. push and
   * validate write a job summary listing every failure; copy and delete write none, yet their last annotation sent the
   * reader to "the job summary". Now it names the log alone for them (push's wording: test/e2e/annotation-limit.test.ts).
   */

  const versions = Array.from({ length: 13 }, (_, i) => `1.0.${i}`);

  describe('past 10 errors, a run that writes no job summary', () => {
    it('copy: the last annotation points to the log only', () => {
      const report: CopyReport = {
        from: 'registry a.example/src',
        to: 'registry b.example/dst',
        results: versions.map((version) => ({
          name: 'web',
          version,
          source: `a.example/src/spectro-packs/archive/web:${version}`,
          destination: `b.example/dst/spectro-packs/archive/web:${version}`,
          status: 'failed',
          copiedBytes: 0,
          durationMs: 1,
          error: { code: 'NETWORK', message: 'connection reset' },
        })),
        summary: { total: 13, copied: 0, unchanged: 0, overwritten: 0, skipped: 0, conflict: 0, failed: 13, planned: 0, copiedBytes: 0 },
        durationMs: 13,
        aborted: false,
      };
      const errors = copyAnnotations(report).filter((l) => l.startsWith('::error'));
      expect(errors).toHaveLength(10);
      expect(errors.at(-1)).toBe('::error title=packpub copy::4 more errors are not annotated (GitHub shows 10 per step): they are in the log above');
    });

    it('delete: the last annotation points to the log only', () => {
      const report: DeleteReport = {
        target: 'registry b.example/dst',
        dryRun: false,
        ignoreMissing: false,
        results: versions.map((version) => ({ name: 'web', version, reference: `b.example/dst/spectro-packs/archive/web:${version}`, status: 'missing', error: { code: 'NOT_FOUND', message: 'no such version' } })),
        summary: { total: 13, deleted: 0, untagged: 0, planned: 0, missing: 13, refused: 0, failed: 0, cancelled: 0 },
        durationMs: 13,
      };
      const errors = deleteAnnotations(report, false).filter((l) => l.startsWith('::error'));
      expect(errors).toHaveLength(10);
      expect(errors.at(-1)).toBe('::error title=packpub delete::4 more errors are not annotated (GitHub shows 10 per step): they are in the log above');
    });
  });
});

describe('target-command', () => {
  /*
   * The skeleton of the one-target commands (list, inspect, pull, tag, delete): the target the flags or the
   * reference name is opened, handed over, and closed whatever happens; a contradictory reference opens nothing.
   */

  let root: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir: root, cleanup } = await tempDir('packpub-target-command-')));
  afterAll(async () => cleanup());
  afterEach(() => vi.restoreAllMocks());

  function context(): CliContext {
    return { io: { stdout: new PassThrough(), stderr: new PassThrough(), stdin: Readable.from([]), env: { HOME: root }, cwd: root }, exitCode: 0 };
  }

  const args = (extra: Record<string, unknown>): Args => ({ _: [], $0: 'packpub', ...extra }) as Args;

  describe('withTarget', () => {
    it('opens the target the flags name, returns what the command returns, and closes the target', async () => {
      const close = vi.spyOn(OciLayoutStore.prototype, 'close');
      const seen: string[] = [];
      const code = await withTarget(args({ ociLayout: `${root}/layout` }), context(), async (target) => {
        seen.push(target.display);
        expect(close).not.toHaveBeenCalled();
        return 7;
      });
      expect(code).toBe(7);
      expect(seen).toEqual([`oci-layout ${root}/layout`]);
      expect(close).toHaveBeenCalledTimes(1);
    });

    it('closes the target when the operation throws, and lets the error through to main()', async () => {
      const close = vi.spyOn(OciLayoutStore.prototype, 'close');
      const failure = new PackpubError('NOT_FOUND', 'no such pack');
      await expect(withTarget(args({ ociLayout: `${root}/layout` }), context(), () => Promise.reject(failure))).rejects.toBe(failure);
      expect(close).toHaveBeenCalledTimes(1);
    });
  });

  describe('withPackTarget', () => {
    it('lets a full oci: reference choose the target and hands over the pack reference', async () => {
      const seen: unknown[] = [];
      await withPackTarget(args({ ref: `oci:${root}/other/spectro-packs/archive/nginx:1.2.3` }), context(), async (target, ref) => {
        seen.push(target.display, ref);
      });
      expect(seen).toEqual([`oci-layout ${root}/other`, { name: 'nginx', version: '1.2.3' }]);
    });

    it('refuses a reference that names another target than the flag, before opening anything', async () => {
      const close = vi.spyOn(OciLayoutStore.prototype, 'close');
      const run = vi.fn(async () => 0);
      const err = await withPackTarget(args({ ref: `oci:${root}/other/spectro-packs/archive/nginx:1.2.3`, ociLayout: `${root}/layout` }), context(), run).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PackpubError);
      expect((err as PackpubError).code).toBe('USAGE');
      expect((err as PackpubError).message).toContain('names another target');
      expect(run).not.toHaveBeenCalled();
      expect(close).not.toHaveBeenCalled();
    });
  });
});

describe('ci-output', () => {
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
});

describe('ci-output-palette', () => {
  /*
   * push --palette-sync exits 3 when Palette does not list a published pack. The CI outputs knew only the push:
   * the job summary said "succeeded" and the JUnit report had no failure while the job failed with exit code 3.
   */

  const published: PackResult = {
    dir: '/w/packs/a',
    name: 'a',
    version: '1.0.0',
    target: 'registry h:5000/b',
    reference: 'h:5000/b/spectro-packs/archive/a:1.0.0',
    status: 'published',
    digest: `sha256:${'1'.repeat(64)}`,
    size: 600,
    uploadedBytes: 600,
    durationMs: 12,
  };
  const report: PushReport = { target: 'registry h:5000/b', results: [published], summary: summarize([published]), durationMs: 20, aborted: false };
  const registry = { uid: 'r1', name: 'h-b', scope: 'tenant', endpoint: 'https://h:5000', baseContentPath: 'b', isSyncSupported: true } as never;
  const target = (status: 'visible' | 'published-not-visible', pack: Record<string, unknown>): PaletteOutcome => ({
    status,
    targets: [{ target: 'h:5000/b', status, registry, forced: false, sync: { outcome: status === 'visible' ? 'success' : 'failed', message: "Palette's sync of h-b failed: manifest unknown" }, packs: [{ name: 'a', version: '1.0.0', ...pack } as never], durationMs: 5 }],
  });
  const notVisible = target('published-not-visible', { status: 'not-visible', reason: "Palette's sync of h-b failed: manifest unknown" });
  const visible = target('visible', { status: 'visible', packUid: 'u-1' });
  const options = { targets: ['registry h:5000/b'], started: new Date('2026-01-01T00:00:00Z'), hostname: 'ci' };

  describe('the Palette step in the CI outputs', () => {
    it('a pack Palette does not list: the summary does not say succeeded, an error annotation, a failing JUnit case', () => {
      const summary = stepSummary(report, notVisible);
      expect(summary.split('\n')[0]).toBe('### packpub push: published, not visible in Palette');
      expect(summary).toContain("**Palette:** not every pack is visible\n- a:1.0.0 (h:5000/b): not visible in Palette: Palette's sync of h-b failed: manifest unknown\n");
      expect(annotations(report, '/w', notVisible).at(-1)).toBe("::error title=packpub palette::a:1.0.0 (h:5000/b): not visible in Palette: Palette's sync of h-b failed: manifest unknown");
      const xml = junitXml(report, { ...options, palette: notVisible });
      expect(xml).toContain('<testsuites name="packpub push" tests="2" failures="1" errors="0" time="0.020">');
      expect(xml).toContain(
        // The suite's time is the wait for Palette (the target's durationMs, 5 ms): was 0 whatever the wait.
        '  <testsuite name="Palette" tests="1" failures="1" errors="0" skipped="0" time="0.005" timestamp="2026-01-01T00:00:00" hostname="ci">\n' +
          '    <testcase name="a:1.0.0" classname="palette h:5000/b" time="0.000">\n' +
          '      <failure message="not visible in Palette: Palette&apos;s sync of h-b failed: manifest unknown" type="PALETTE_NOT_VISIBLE">',
      );
    });

    it('an error that stopped the sync fails one case named for the step', () => {
      const error: PaletteOutcome = { status: 'error', error: { code: 'AUTH', message: 'Palette rejected the API key', hint: 'check SPECTROCLOUD_APIKEY' } };
      expect(stepSummary(report, error).split('\n')[0]).toBe('### packpub push: published, Palette sync failed');
      expect(stepSummary(report, error)).toContain('- Palette sync stopped: Palette rejected the API key (check SPECTROCLOUD\\_APIKEY)\n');
      const xml = junitXml(report, { ...options, palette: error });
      expect(xml).toContain('<testcase name="palette sync" classname="palette" time="0.000">\n      <failure message="Palette sync stopped: Palette rejected the API key" type="AUTH">');
    });

    it('an error after some packs were confirmed: the summary and the JUnit report keep them (was: the error alone)', () => {
      const b = { name: 'b', version: '2.0.0', status: 'not-visible', reason: 'not confirmed: Palette answered 503 to read pack b after 6 attempts' };
      const kept = target('published-not-visible', { status: 'visible', packUid: 'u-1' });
      const first = kept.status === 'error' ? undefined : kept.targets[0];
      const stopped: PaletteOutcome = {
        status: 'error',
        error: { code: 'PALETTE', message: 'Palette answered 503 to read pack b after 6 attempts' },
        targets: first === undefined ? [] : [{ ...first, sync: { outcome: 'success' }, packs: [...first.packs, b as never] }],
      };
      const summary = stepSummary(report, stopped);
      expect(summary).toContain('- Palette sync stopped: Palette answered 503 to read pack b after 6 attempts\n');
      expect(summary).toContain('- (h:5000/b): before the error, Palette was seen to list 1 of the 2 versions asked for (a:1.0.0); the others are not confirmed\n');
      // Stopped by an interrupt (exit 130): said so, not "the error".
      const interrupted: PaletteOutcome = { ...stopped, error: { code: 'ABORTED', message: 'interrupted while Palette was asked' } };
      expect(stepSummary(report, interrupted)).toContain('- (h:5000/b): before the interrupt, Palette was seen to list 1 of the 2 versions asked for (a:1.0.0); the others are not confirmed\n');
      // A target with no version to confirm (an empty base path) has nothing to say it of.
      const none: PaletteOutcome = { ...stopped, targets: first === undefined ? [] : [{ ...first, packs: [] }] };
      expect(stepSummary(report, none)).not.toContain('before the error');
      const xml = junitXml(report, { ...options, palette: stopped });
      expect(xml).toContain('<testsuite name="Palette" tests="3" failures="2"');
      expect(xml).toContain('<testcase name="a:1.0.0" classname="palette h:5000/b" time="0.000">\n      <system-out>visible in Palette (packUid u-1)</system-out>');
      expect(xml).toContain('<testcase name="b:2.0.0" classname="palette h:5000/b" time="0.000">\n      <failure message="not visible in Palette: not confirmed: Palette answered 503 to read pack b after 6 attempts" type="PALETTE">');
    });

    it('every pack visible: succeeded, no annotation, a passing case', () => {
      expect(stepSummary(report, visible).split('\n')[0]).toBe('### packpub push: succeeded');
      expect(stepSummary(report, visible)).toContain('**Palette:** every pack is visible\n');
      expect(annotations(report, '/w', visible)).toEqual([]);
      const xml = junitXml(report, { ...options, palette: visible });
      expect(xml).toContain('<testsuites name="packpub push" tests="2" failures="0"');
      expect(xml).toContain('<system-out>visible in Palette (packUid u-1)</system-out>');
    });
  });
});
