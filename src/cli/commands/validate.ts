import { fstatSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Finding } from '../../pack/findings.js';
import type { ValidationReport } from '../../pack/validate.js';
import type { CommandSpec } from '../context.js';
import { EXIT_FAILURE, EXIT_OK, printable, renderError, useColor, userPath, writeLine, type CliIo } from '../io.js';
import { declareFlags, refuseEmptyPackFolders, VALIDATE_GROUPS, type OwnFlags } from '../target-flags.js';
import type { PlaceInPack } from '../own-files.js';

/** `  error   pack.json:12:5 constraints.dependencies[0].layer: must be one of ...` */
export function formatFinding(f: Finding): string {
  const where = f.line === undefined ? f.file : f.column === undefined ? `${f.file}:${f.line}` : `${f.file}:${f.line}:${f.column}`;
  const subject = f.path === undefined ? `${where}:` : `${where} ${f.path}:`;
  // A finding quotes the pack's own text (a chart path, a key, a value): a line break and "::error::..." in it
  // printed a line the GitHub runner took as an annotation; shown as printable() shows a registry's text.
  return printable(`  ${f.severity.padEnd(7)} ${subject} ${f.message}`);
}

/** Whether file descriptor `fd` is a regular file (standard output or error sent to one); nothing loaded for pipes and terminals. */
function isFileAt(fd: number): boolean {
  try {
    return fstatSync(fd).isFile();
  } catch {
    return false;
  }
}

/** A folder's real path; the path itself when it has none (missing: refused below, as typed). */
function realOrResolved(path: string): string {
  try {
    return realpathSync.native(path);
  } catch {
    return path;
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function renderHuman(io: CliIo, shown: string[], reports: ValidationReport[], strict: boolean): void {
  const color = useColor(io, 'stdout');
  const paint = (code: string, text: string): string => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  reports.forEach((report, i) => {
    // pack.json's name and version too: a line break or carriage return in them (a pack of a fork's pull request) made
    // the rest of the line one the GitHub runner read as a workflow command (it ends lines at CR too).
    const id = report.pack === undefined ? '' : ` ${printable(`${report.pack.name}:${report.pack.version}`)}`;
    const verdict = report.passed ? paint('32', 'OK') : paint('31', 'FAILED');
    // The folder as named (a glob's match: a folder of the repository) as printable() shows it: a line break and
    // "::error::..." in its name printed a line the GitHub runner took as a workflow command.
    writeLine(io.stdout, `${printable(shown[i] ?? report.dir)}:${id} ${verdict}`);
    for (const f of report.findings) writeLine(io.stdout, formatFinding(f));
  });
  const failed = reports.filter((r) => !r.passed).length;
  const errors = reports.reduce((n, r) => n + r.errors, 0);
  const warnings = reports.reduce((n, r) => n + r.warnings, 0);
  writeLine(io.stdout);
  writeLine(
    io.stdout,
    `${plural(reports.length, 'pack')} checked: ${reports.length - failed} passed, ${failed} failed (${plural(errors, 'error')}, ${plural(warnings, 'warning')}${strict && warnings > 0 ? ', warnings fail with --strict' : ''})`,
  );
}

const VALIDATE_FLAGS: OwnFlags = {
  positionals: { 'pack-dir': { type: 'string', array: true, describe: 'Pack folders (each holds a pack.json)' } },
  options: {
    strict: { type: 'boolean', default: false, describe: 'Fail on warnings too' },
    junit: { type: 'string', describe: 'Also write a JUnit XML report to FILE (one test case per pack, failing where it does not pass; a run refused: one error case saying why). Its folder must exist' },
  },
  examples: [
    ['packpub validate examples/hello-helm', 'Check one pack'],
    ['packpub validate --check-images examples/hello-helm', 'Also check that every listed image exists on its registry'],
    ['packpub validate --strict --json packs/*', 'Check many packs, as JSON, failing on warnings'],
  ],
};

export const validateCommand: CommandSpec = {
  command: 'validate <pack-dir...>',
  describe: 'Check pack folders against what Palette and pack-central expect, and every file against what push can archive; every finding says how to fix it',
  builder: (y) => declareFlags(y, VALIDATE_GROUPS, VALIDATE_FLAGS),
  run: async (args, ctx) => {
    const given = (args['packDir'] as string[]).map(String);
    refuseEmptyPackFolders('validate', given);
    // One pack named twice (`packs/*/ packs/changed/`, a folder and a link to it) is checked once, as push takes it:
    // it was reported (and annotated) once per name, "3 packs checked" for one.
    const seen = new Set<string>();
    const shown = given.filter((dir) => {
      const key = realOrResolved(resolve(ctx.io.cwd, dir));
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    const strict = args['strict'] === true;
    const started = new Date();
    const json = args['json'] === true;
    const junit = args['junit'] === undefined ? undefined : String(args['junit']);
    // As push: a JUnit report that cannot be written is refused before anything is checked.
    const refuseInPacks = async (places: PlaceInPack[], junitThere: boolean): Promise<void> => {
      if (places.length === 0) return;
      const found = await (await import('../own-files.js')).firstPlaceInPacks(shown.map((dir) => resolve(ctx.io.cwd, dir)), places, 'push');
      if (found === undefined) return;
      // No refusal report is written into the pack either.
      if (junitThere) await (await import('../ci-output/index.js')).reportRefusal(ctx.io, 'validate', undefined, found.refusal, started);
      throw found.refusal;
    };
    if (junit !== undefined) {
      // --junit inside a pack folder validated (`cd pack && packpub validate . --junit junit.xml`, then push): the report
      // was left in the pack, the push after it published it inside the archive, and the next run's report (another
      // time in it) made the unchanged pack a CONFLICT. Refused as push refuses it, no report written there.
      const path = resolve(ctx.io.cwd, userPath(ctx.io, junit));
      await refuseInPacks([{ path, what: 'the JUnit report', fix: 'give --junit a path outside the pack (e.g. ../junit.xml)', file: true }], true);
      await (await import('../ci-output/index.js')).checkJunitPath(ctx.io, junit);
    }
    // Standard output or error sent to a file in a pack validated (`validate . --json > report.json`): left there, the push
    // after it published it inside the archive, exit 0. Refused as push refuses it (Linux: found through /proc).
    if (ctx.io.stdout === process.stdout && [1, 2].some(isFileAt)) await refuseInPacks((await import('../own-files.js')).redirectedOutputs(ctx.io), false);
    // Loaded here, not at the top: other commands should not pay for the validator's imports.
    const { loadValidator, startValidation } = await import('../../operations/validate-pool.js');
    // This thread's validator first, while the workers bin started ahead load their built-ins: its code is
    // compiled under the V8 flags of every such run (bin sets them once the workers are taken and loaded).
    await loadValidator();
    // Packs are checked on every core (worker threads and this one); the reports keep the order of the arguments.
    // The workers start now (when the packs are worth one: MIN_WORK_FOR_WORKERS): they load the validator
    // while this thread checks the folders.
    const dirs = shown.map((dir) => resolve(ctx.io.cwd, dir));
    const crew = startValidation(dirs);
    try {
      const { checkPackDir, useBlockingReads } = await import('../../pack/files.js');
      // This thread has nothing else to do meanwhile: it validates too, one worker fewer to start, and reads
      // pack files with blocking calls, which cost far less CPU than thread-pool round trips (issue 16).
      useBlockingReads();
      // Check every folder first: a missing one is a usage error (exit 2) before anything is validated.
      for (const dir of shown) await checkPackDir(resolve(ctx.io.cwd, dir), dir);
      // The workers stop once the last report is in; the output does not wait for them (awaited below).
      const reports = await crew.run(dirs, { strict });
      if (args['checkImages'] === true) {
        const { ImageChecker } = await import('../../operations/check-images.js');
        const checker = new ImageChecker({ env: ctx.io.env });
        try {
          for (const report of reports) {
            const found = await checker.findings(report.dir);
            report.findings.push(...found);
            report.errors += found.filter((f) => f.severity === 'error').length;
            report.warnings += found.filter((f) => f.severity === 'warning').length;
            report.passed = report.errors === 0 && (!strict || report.warnings === 0);
          }
        } finally {
          await checker.close();
        }
      }
      if (json) writeLine(ctx.io.stdout, JSON.stringify(reports, null, 2));
      else renderHuman(ctx.io, shown, reports, strict);
      const passed = reports.every((r) => r.passed);
      // In CI (GitHub annotations and job summary, --junit, stderr lines beside --json for packs that failed):
      // loaded only when there is something to write (a plain or passing --json run pays nothing, issue 16).
      const ci = { machine: json, ...(junit === undefined ? {} : { junit }) };
      if (ctx.io.env['GITHUB_ACTIONS'] === 'true' || (json && !passed) || junit !== undefined) {
        const { writeValidateCiOutputs } = await import('../ci-output/index.js');
        // A JUnit report that cannot be written (a full disk) fails the run, after the verdict was told.
        const lost = await writeValidateCiOutputs(ctx.io, reports, { ...ci, started, strict }).then(
          () => false,
          (err: unknown) => {
            renderError(ctx.io, err, false);
            return true;
          },
        );
        if (lost) return EXIT_FAILURE;
      }
      return passed ? EXIT_OK : EXIT_FAILURE;
    } catch (err) {
      // A folder that is no pack (exit 2) or an error before the reports: --junit and the job summary say why.
      await (await import('../ci-output/index.js')).reportRefusal(ctx.io, 'validate', junit, err, started);
      throw err;
    } finally {
      await crew.close();
    }
  },
};
