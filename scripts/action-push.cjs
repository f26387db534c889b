'use strict';
// The end of action.yml's push step, which `exec`s this file: node scripts/action-push.cjs REPORT_TMP COMMAND ARGS...
//
// Runs the packpub command with its standard output in REPORT_TMP, passes every SIGINT, SIGTERM and SIGHUP this
// process gets on to it, then copies REPORT_TMP to the report input's path (IN_REPORT), removes it, appends
// `exit-code=<packpub's code>` to GITHUB_OUTPUT and exits with that code. When the username or password input is
// given (the step then adds --password-stdin), the password (IN_PASSWORD) is packpub's standard input, not in its
// environment.
//
// Why not bash: the step's shell ran packpub in the background and waited for it, passing the signals on from its
// traps. When every process of the step was signalled at once (the whole process group), bash's `wait`, cut short by
// the trap, sometimes lost packpub's own status and the step said 143 (SIGTERM) instead of packpub's 130, about 1 run
// in 20 (bash 5.2; waiting again returned 255). Node's child 'exit' event always carries the status. The step's
// shell `exec`s this file, so a signal sent to the step's shell (GitHub's runner signals it alone) is this process's.
const { spawn } = require('node:child_process');
const { appendFileSync, openSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { constants } = require('node:os');

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const [reportTmp, command, ...args] = process.argv.slice(2);
let child;
// Heard before packpub was started: passed on once it is.
const early = [];
for (const sig of SIGNALS) {
  process.on(sig, () => {
    if (child === undefined) early.push(sig);
    else if (child.exitCode === null && child.signalCode === null) child.kill(sig);
  });
}

let finished = false;
/** A workflow command's message, escaped as GitHub Docs say (% CR LF): a path holding %0A was read as a line break. */
function commandData(text) {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function finish(code) {
  if (finished) return;
  finished = true;
  const report = process.env.IN_REPORT ?? '';
  try {
    // As `cat REPORT_TMP > REPORT` did: the file takes the umask's mode, not the temporary file's 0600.
    writeFileSync(report, readFileSync(reportTmp));
  } catch (err) {
    process.stderr.write(`::error title=packpub action::${commandData(`cannot write the report ${report}: ${err.message}`)}\n`);
    if (code === 0) code = 1;
  }
  rmSync(reportTmp, { force: true });
  // An output file the step cannot write (a full disk): said, and the step still ends with packpub's code. Was: a stack
  // trace and exit 1 for a run that had published.
  if (process.env.GITHUB_OUTPUT) {
    try {
      appendFileSync(process.env.GITHUB_OUTPUT, `exit-code=${code}\n`);
    } catch (err) {
      process.stderr.write(`::warning title=packpub action::${commandData(`cannot set the exit-code output (GITHUB_OUTPUT ${process.env.GITHUB_OUTPUT}): ${err.message}; the step's own exit code is packpub's (${code})`)}\n`);
    }
  }
  process.exit(code);
}

// As the step adds --username and --password-stdin: when either input is given.
const stdinPassword = Boolean(process.env.IN_USERNAME || process.env.IN_PASSWORD);
const env = { ...process.env };
delete env.IN_PASSWORD;
const out = openSync(reportTmp, 'w');
child = spawn(command, args, { stdio: [stdinPassword ? 'pipe' : 'inherit', out, 'inherit'], env });
child.on('error', (err) => {
  process.stderr.write(`::error title=packpub action::cannot run ${command}: ${err.message}\n`);
  finish(err.code === 'ENOENT' ? 127 : 126);
});
child.on('exit', (code, signal) => finish(code ?? 128 + (constants.signals[signal] ?? 0)));
if (stdinPassword) {
  // packpub may exit before reading it (a usage error): that is no failure of this process.
  child.stdin.on('error', () => undefined);
  child.stdin.end(process.env.IN_PASSWORD ?? '');
}
for (const sig of early) child.kill(sig);
