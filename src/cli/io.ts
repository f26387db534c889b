import { isAbsolute, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { PackpubError, type ErrorCode } from '../errors.js';
import { homePath } from '../util/home.js';
import { localWriteError } from '../util/local-write.js';
import { redactText } from '../util/redact.js';

/** The process surface the CLI touches, injectable so e2e-style tests can run main() in-process. */
export interface CliIo {
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean };
  stdin: Readable;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** --no-tty: treat stdin, stdout and stderr as no terminal (no live progress, colours or prompts). */
  noTty?: boolean;
}

export function processIo(): CliIo {
  for (const stream of [process.stdout, process.stderr]) quietOnClosedPipe(stream);
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    // Node makes process.stdin on first use, loading a stream for it (from /dev/null, as under CI or the
    // bench: ~2 % of a small validate's instructions); only a run that reads a secret (--password-stdin,
    // login) or asks a question (delete's confirmation) uses it.
    get stdin() {
      return process.stdin;
    },
    env: process.env,
    cwd: workingFolder(),
  };
}

/**
 * The process's folder. One removed after the shell entered it (a step that deleted and recreated the workspace, a
 * temp folder cleaned under a job) cannot be read: Node threw at the first relative path, and packpub ended
 * with Node's stack trace. Said instead, exit 2, before anything is done. So is one whose path is longer than the
 * system gives a process (ERANGE: PATH_MAX, 4096 bytes on Linux; a shell reaches it one `cd` at a time), which was
 * said to be removed or moved.
 */
function workingFolder(): string {
  try {
    return process.cwd();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    process.stderr.write(
      code === 'ERANGE' || code === 'ENAMETOOLONG'
        ? `error: the working folder cannot be read (${code}: its path is longer than the system allows, 4096 bytes on Linux)\n` +
            'hint: cd into a folder with a shorter path (nearer the top of the tree), then run packpub again with the pack folders named from there\n'
        : `error: the working folder cannot be read (${code}: it was removed or moved after this shell entered it)\n` +
            `hint: cd into a folder that exists (cd "$PWD" enters a folder made again under the same name), then run packpub again\n`,
    );
    process.exit(EXIT_USAGE);
  }
}

/**
 * A path the user gave (a flag's file or folder, the default ./oci-packs), for the library, which reads a
 * relative path against the process's folder: relative to `io.cwd`. As typed when that is the process's
 * folder (messages and target names show it so); made absolute when main() runs embedded elsewhere. `~` and
 * `~/...` are the home folder's (homePath): the shell leaves a `~` after `=` alone, and `--oci-layout=~/out`
 * published into a folder named `~` under the working directory, exit 0, while the output read as the home folder.
 */
export function userPath(io: Pick<CliIo, 'cwd' | 'env'>, path: string): string {
  return homePath(path, io.env) ?? (isAbsolute(path) || io.cwd === process.cwd() ? path : resolve(io.cwd, path));
}

/**
 * The environment variables packpub reads as a path (the Docker configuration, the archive cache, the home folder,
 * the GitHub job summary and workspace, the AWS shared files it hands to the SDK, the AWS CA bundle, push's temp folder). PACKPUB_CONFIG is not here:
 * loadConfig reads it against the run's folder; nor XDG_CACHE_HOME, of which a relative value is ignored (defaultCacheDir).
 */
const PATH_ENV = ['DOCKER_CONFIG', 'PACKPUB_CACHE_DIR', 'HOME', 'USERPROFILE', 'GITHUB_STEP_SUMMARY', 'GITHUB_WORKSPACE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'AWS_CA_BUNDLE', 'TMPDIR'] as const;

/**
 * `io` whose path-valued environment variables (PATH_ENV) are read relative to `io.cwd`, as userPath does for
 * flags: the library and a credential helper read a relative one against the process's folder. `io` itself
 * when nothing changes (a normal CLI run, or no relative path in the environment).
 */
export function withUserEnv(io: CliIo): CliIo {
  let env: NodeJS.ProcessEnv | undefined;
  for (const name of PATH_ENV) {
    const value = io.env[name];
    // `~/...` (the AWS files) is read against the home folder, not the run's folder.
    if (value === undefined || value === '' || value.startsWith('~/') || userPath(io, value) === value) continue;
    env ??= { ...io.env };
    env[name] = userPath(io, value);
  }
  return env === undefined ? io : { ...io, env };
}

const quieted = new WeakSet<Writable>();
/** Why output to a stream was lost (a full disk, an I/O error), by stream; a reader closing its pipe is not a loss. */
const lostOutput = new WeakMap<Writable, Error>();

/**
 * A reader that stops early (`packpub list | head -5`) closes the pipe: stop writing to it, without a
 * stack trace, and let the command finish (what it does does not depend on anyone reading). Any other
 * write error (`--json > file` on a full disk) also stops the writes, without a crash mid-publish; it is
 * remembered, and main() says so and fails the run (outputLost).
 */
export function quietOnClosedPipe(stream: Writable): void {
  if (quieted.has(stream)) return;
  quieted.add(stream);
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED' && !lostOutput.has(stream)) lostOutput.set(stream, err);
    stream.destroy();
  });
}

/** The first write error of `stream` other than a closed pipe (quietOnClosedPipe), if any. */
export function outputLost(stream: Writable): Error | undefined {
  return lostOutput.get(stream);
}

/**
 * Whether the line turns terminal output off: `--no-tty`, or `--tty` given false as the parser reads it
 * (`--tty=false`, `--tty false`), which it would otherwise take and nothing would act on.
 */
export function ttyOff(argv: readonly string[]): boolean {
  return argv.some((token, i) => token === '--no-tty' || token === '--tty=false' || (token === '--tty' && argv[i + 1] === 'false'));
}

/** Documented exit codes. */
export const EXIT_OK = 0;
/** Some pack failed (validation errors, conflicts, registry errors). */
export const EXIT_FAILURE = 1;
/** Usage or configuration error: nothing was attempted, except a Palette registry found ambiguous or wrong after a push published (--palette-registry; docs/report.md). */
export const EXIT_USAGE = 2;
/** Published, but Palette does not show every pack (push --palette-sync, palette sync). */
export const EXIT_NOT_VISIBLE = 3;
/** Interrupted by one of INTERRUPT_SIGNALS. */
export const EXIT_INTERRUPTED = 130;

/**
 * The signals that interrupt a run: Ctrl-C (SIGINT), a cancelled CI job (SIGTERM), and a hang-up (SIGHUP: the
 * terminal or ssh session closed, a runner's session ended), which Node's default turned into death by the signal:
 * nothing said, no report, the work folder left in the temp folder (exit 129). (`nohup` does not keep a Node program
 * alive: Node sets SIGHUP back to its default as it starts; `setsid` does.)
 */
export const INTERRUPT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

let hangUpHandled = false;
/**
 * At exit: close standard input, output and error where they are a terminal that hung up (a character device that no
 * longer answers as a terminal; /dev/null too, harmlessly; a pipe or file is not looked at further). As it exits,
 * Node sets back the settings of each that was a terminal at start, and aborts when that terminal is gone: a run
 * whose terminal or ssh session closed (stopped by the SIGHUP, or going on under `setsid`) ended with "Assertion
 * failed" in node::ResetStdio, exit 134 (SIGABRT) instead of its own code, and a core file where the system keeps
 * them. A closed descriptor it skips. A live terminal is left open, so its settings are still set back.
 * (bin/packpub.js does the same for a SIGHUP while the program loads.)
 */
export function closeHungUpTerminalAtExit(): void {
  if (hangUpHandled) return;
  hangUpHandled = true;
  process.once('exit', () => {
    const { closeSync, fstatSync } = process.getBuiltinModule('node:fs');
    for (const fd of [0, 1, 2]) {
      try {
        if (fstatSync(fd).isCharacterDevice() && !process.getBuiltinModule('node:tty').isatty(fd)) closeSync(fd);
      } catch {
        // Closed already: Node skips it too.
      }
    }
  });
}

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'USAGE':
    case 'CONFIG':
    case 'REFERENCE': // a registry, base path or <name>:<version> given on the command line
      return EXIT_USAGE;
    case 'ABORTED':
      return EXIT_INTERRUPTED;
    case 'PALETTE_NOT_VISIBLE':
      return EXIT_NOT_VISIBLE;
    default:
      return EXIT_FAILURE;
  }
}

/**
 * Colours and live redraws only on a TTY, never with NO_COLOR (no-color.org), FORCE_COLOR=0 or false (as Node's
 * tty.getColorDepth and chalk read it: a CI or a user turning colours off that way got them on a terminal) or
 * TERM=dumb. A FORCE_COLOR asking for colours does not draw live progress into a log that is no terminal.
 */
export function useColor(io: CliIo, stream: 'stdout' | 'stderr' = 'stderr'): boolean {
  const env = io.env;
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  if (env['FORCE_COLOR'] === '0' || env['FORCE_COLOR'] === 'false') return false;
  if (env['TERM'] === 'dumb') return false;
  return io.noTty !== true && io[stream].isTTY === true;
}

/**
 * `text` with its control characters (C0 but tab and newline, DEL, C1) shown as U+XXXX: what a registry or Palette
 * answers (an error body, an annotation, a file name in an archive) must not move the cursor, clear the screen or
 * retitle the terminal when printed. Nor may it become a GitHub Actions workflow command in a CI log: the runner
 * takes a line starting with "::" after blanks as one (an annotation, add-mask, set-output, stop-commands, which
 * silenced packpub's own annotations), and "##[" anywhere in a line (its older syntax); their first character
 * is shown as U+XXXX too (runner source, ActionCommand.TryParseV2 and TryParse). So is that of "##vso[", which the
 * Azure Pipelines agent (README: Azure DevOps reads packpub's JUnit report) takes anywhere in a line of stdout or
 * stderr as a logging command (task.setvariable, task.complete result=Succeeded; agent source, Command.TryParse:
 * case-sensitive). And of "##teamcity[", a TeamCity service message (setParameter name='env.X' sets a variable for
 * the build's later steps, buildStatus its status), which its agent reads from a build step's output.
 */
export function printable(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, codePoint)
    .replace(/(^|\n)(\s*):(?=:)/g, (_, start: string, blanks: string) => `${start}${blanks}${codePoint(':')}`)
    .replace(/#(?=#(?:vso|teamcity)?\[)/g, codePoint);
}

function codePoint(c: string): string {
  return `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Write one line (or a JSON document). Text from outside already went through printable(); what can still hold
 * "##[" (or Azure Pipelines' "##vso[", TeamCity's "##teamcity[") is JSON (a report, pack.json shown by inspect) quoting a registry's or a pack's text, where the GitHub
 * runner would take it as a workflow command (its older syntax, found anywhere in a line): inside a JSON string,
 * "##\u005b" is the same text, so the document reads back unchanged. packpub's own workflow commands (a line
 * starting with "::") are read by the runner as such before it looks for "##[": their text is left as it is.
 */
export function writeLine(stream: Writable, line = ''): void {
  const commands = (line.includes('##[') || line.includes('##vso[') || line.includes('##teamcity[')) && !line.startsWith('::');
  stream.write(`${commands ? line.replaceAll('##[', '##\\u005b').replaceAll('##vso[', '##vso\\u005b').replaceAll('##teamcity[', '##teamcity\\u005b') : line}\n`);
}

/**
 * What standard output is, when `path` names it (`/dev/stdout`, `/proc/self/fd/1`, the file stdout is sent to):
 * `file`, `pipe` (or socket), or `other` (a terminal, /dev/null); undefined when `path` is something else, or
 * for a program embedding main() (its own stream: fd 1 is not it).
 */
export function standardOutputAt(io: Pick<CliIo, 'stdout'>, path: string): 'file' | 'pipe' | 'other' | undefined {
  if (io.stdout !== process.stdout) return undefined;
  const fs = process.getBuiltinModule('node:fs');
  try {
    const out = fs.fstatSync(1);
    const file = fs.statSync(path);
    if (out.dev !== file.dev || out.ino !== file.ino) return undefined;
    return out.isFile() ? 'file' : out.isFIFO() || out.isSocket() ? 'pipe' : 'other';
  } catch {
    return undefined;
  }
}

/** One clear line (plus a hint line) for an error; the stack only with --debug. */
export function renderError(io: CliIo, thrown: unknown, debug: boolean): number {
  const err = localWriteError(thrown);
  if (err instanceof PackpubError) {
    writeLine(io.stderr, `error: ${printable(err.message)}`);
    if (err.hint !== undefined) writeLine(io.stderr, `hint: ${printable(err.hint)}`);
    if (debug) {
      // Second line of defence: stacks and causes come from libraries too. A stack starts with the message,
      // which may quote a registry: printable() as the lines above.
      writeLine(io.stderr, printable(redactText(err.stack ?? '')));
      if (err.cause !== undefined) writeLine(io.stderr, printable(redactText(`caused by: ${err.cause instanceof Error ? (err.cause.stack ?? err.cause.message) : String(err.cause)}`)));
    }
    // A pack Palette does not list (exit 3) has its own annotation (ci-output), and so has an error already annotated.
    if (err.code !== 'PALETTE_NOT_VISIBLE' && !ANNOTATED.has(err)) annotateError(io, err.message, err.hint);
    return exitCodeFor(err.code);
  }
  const message = redactText(err instanceof Error ? err.message : String(err));
  writeLine(io.stderr, `error: ${printable(message)}`);
  const hint = 'this is a bug in packpub; run again with --debug and report the output';
  if (debug && err instanceof Error && err.stack !== undefined) writeLine(io.stderr, printable(redactText(err.stack)));
  else writeLine(io.stderr, `hint: ${hint}`);
  if (typeof err !== 'object' || err === null || !ANNOTATED.has(err)) annotateError(io, message, hint);
  return EXIT_FAILURE;
}

/** A workflow command's message (GitHub Docs, "Workflow commands": data escapes % CR LF). */
export function escapeData(s: string): string {
  return s.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** A workflow command's message as its data: control characters shown, cut to what the runner keeps, escaped. */
export function annotationData(message: string): string {
  return escapeData(withinRunnerLimit(shownControls(message)));
}

/**
 * Control characters other than tab and line breaks as `U+XXXX`, as printable() shows them in the log: a registry's
 * `ESC [8m` (conceal) or `ESC [2J` in its error went raw into the annotation, which the job log shows as `Error: ...`
 * through a terminal emulator, hiding the rest of the line or more.
 */
function shownControls(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, codePoint);
}

/**
 * GitHub's runner keeps the first 4096 characters of an annotation's message and drops the rest without a word
 * (actions/runner, ExecutionContext `_maxIssueMessageLength`): a registry's 60 KB error cut off its own end and the
 * `hint:` (or `fix:`) line after it. Past the limit, the text before that last line is cut, saying so; the hint stays.
 */
const ANNOTATION_MAX_CHARS = 4096;

function withinRunnerLimit(message: string): string {
  if (message.length <= ANNOTATION_MAX_CHARS) return message;
  const at = Math.max(message.lastIndexOf('\nhint: '), message.lastIndexOf('\nfix: '));
  const tail = at < 0 ? '' : message.slice(at).slice(0, 1024);
  const head = at < 0 ? message : message.slice(0, at);
  const note = (more: number) => `... (${more} more characters in packpub's output)`;
  // The note's own length depends on the count it says: measured with the longest count it can say.
  let room = ANNOTATION_MAX_CHARS - tail.length - note(head.length).length;
  if (/[\ud800-\udbff]/.test(head.charAt(room - 1))) room--; // not half a character
  return `${head.slice(0, room)}${note(head.length - room)}${tail}`;
}


/**
 * Errors the run's CI outputs have annotated already (push --palette-sync's Palette error, `packpub palette` in its
 * annotations): the error that ends the run is not annotated a second time (the job showed the same error twice).
 */
export const ANNOTATED = new WeakSet<object>();

/**
 * In GitHub Actions, the error that ends a run is an annotation too: a usage error (exit 2: a secret that did not
 * expand, a mistyped target) showed only "Process completed with exit code 2" where the job's annotations are
 * read, the reason being in the log alone. Push's per-pack failures are annotated by ci-output.
 */
function annotateError(io: CliIo, message: string, hint: string | undefined): void {
  if (io.env['GITHUB_ACTIONS'] !== 'true') return;
  writeLine(io.stderr, `::error title=packpub::${annotationData(hint === undefined ? message : `${message}\nhint: ${hint}`)}`);
}

/**
 * Read a whole secret from stdin (for --password-stdin), trimming one trailing newline. Nothing (or only
 * blanks) is refused: it is what an unset CI secret pipes in, and sending it would only come back as
 * "credentials rejected".
 */
export async function readStdinSecret(io: CliIo): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  const secret = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (secret.trim() === '') {
    throw new PackpubError('USAGE', 'empty password on standard input (--password-stdin)', {
      hint: 'the variable or secret piped in is empty or unset: check its name and that the job can read it, e.g. printf \'%s\' "$REGISTRY_PASSWORD" | packpub ...',
    });
  }
  return secret;
}
