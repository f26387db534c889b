import { spawn } from 'node:child_process';
import { PackpubError } from '../errors.js';
import { redactText, registerSecret } from '../util/redact.js';
import { normalizeRegistryKey } from './registry-key.js';
import type { Credential } from './types.js';

/*
 * Docker credential helpers (docker/docker-credential-helpers protocol): the program
 * `docker-credential-<name>` with one argument `get | store | erase | list`.
 *   get:   server URL on stdin, `{"ServerURL","Username","Secret"}` on stdout
 *   store: that JSON on stdin
 *   erase: server URL on stdin
 * Errors go to stdout (sometimes stderr) with a non-zero exit; "credentials not found in native keychain"
 * means "nothing stored", which is not a failure.
 */

export type HelperAction = 'get' | 'store' | 'erase';

export interface HelperResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs one helper invocation; injectable for tests and for callers with their own process policy. */
export type HelperRunner = (program: string, action: HelperAction, input: string) => Promise<HelperResult>;

export interface CredentialHelperOptions {
  /** Environment for the helper process (its PATH is where the program is looked up). */
  env?: NodeJS.ProcessEnv;
  /** Kill a helper that has not answered after this many ms (default 60 000: some prompt for a passphrase; a target's: --request-timeout). */
  timeoutMs?: number;
  runner?: HelperRunner;
  /** Where the helper was configured, for messages (e.g. `credHelpers in ~/.docker/config.json`). */
  configuredIn?: string;
}

/** Docker's marker user name: the Secret is an identity (refresh) token, not a password. */
export const IDENTITY_TOKEN_USERNAME = '<token>';

const NOT_FOUND_RE = /credentials not found/i;

export function helperProgram(name: string): string {
  return `docker-credential-${name}`;
}

/** What a helper may write (both streams together): an answer is a few KiB; a helper writing without end was read until memory ran out. */
export const HELPER_OUTPUT_LIMIT = 1024 * 1024;

/**
 * The kill of each helper still running. A helper runs in its own process group, which does not get the terminal's
 * Ctrl-C: one still running (a passphrase prompt) when packpub exits (interrupted: exit 130) went on without it,
 * orphaned. One exit listener for them all, there only while one runs.
 */
const runningHelpers = new Set<() => void>();
const killRunningHelpers = () => {
  for (const kill of runningHelpers) kill();
};

function running(kill: () => void, yes: boolean): void {
  if (yes) {
    if (runningHelpers.size === 0) process.on('exit', killRunningHelpers);
    runningHelpers.add(kill);
  } else if (runningHelpers.delete(kill) && runningHelpers.size === 0) {
    process.removeListener('exit', killRunningHelpers);
  }
}

function defaultRunner(env: NodeJS.ProcessEnv, timeoutMs: number): HelperRunner {
  return (program, action, input) =>
    new Promise((resolve, reject) => {
      // Own process group, so a timeout kills the helper and every child it started (a pinentry, an agent):
      // such a child holds the helper's pipes, and killing only the helper left packpub waiting on them.
      const child = spawn(program, [action], { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let written = 0;
      let settled = false;
      const killGroup = () => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL'); // the group is already gone; make sure of the helper itself
        }
      };
      running(killGroup, true);
      const stop = (error: Error) => {
        clearTimeout(timer);
        running(killGroup, false);
        settled = true;
        killGroup();
        // Stop waiting for the pipes: whatever still holds them must not keep this process alive.
        child.stdin.destroy();
        child.stdout.destroy();
        child.stderr.destroy();
        child.unref();
        reject(error);
      };
      const timer = setTimeout(
        () => stop(Object.assign(new Error(`${program} ${action} did not answer within ${Math.round(timeoutMs / 1000)} s`), { code: 'ETIMEDOUT' })),
        timeoutMs,
      );
      const keep = (into: Buffer[]) => (c: Buffer) => {
        if (settled) return;
        written += c.length;
        if (written > HELPER_OUTPUT_LIMIT) stop(Object.assign(new Error(`${program} ${action} wrote more than ${HELPER_OUTPUT_LIMIT / 1024 / 1024} MiB`), { code: 'EFBIG' }));
        else into.push(c);
      };
      child.stdout.on('data', keep(out));
      child.stderr.on('data', keep(err));
      child.on('error', (e) => {
        clearTimeout(timer);
        running(killGroup, false);
        if (!settled) reject(e);
        settled = true;
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        running(killGroup, false);
        if (!settled) resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
        settled = true;
      });
      // A helper that exits without reading stdin makes the write fail with EPIPE: the exit code tells.
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    });
}

/**
 * What a failing helper said, fit to print: the first line of its standard output, the protocol's error channel
 * (docker/cli quotes the same). Not a credential it printed before failing (its Secret is registered, so it is
 * scrubbed wherever else it shows), and never its standard error, where a helper's tools may print anything
 * (a token they refreshed with): packpub cannot tell a secret there from an error.
 */
function helperSaid(result: HelperResult): string {
  const line = result.stdout.split('\n').map((l) => l.trim()).find((l) => l !== '');
  if (line !== undefined && /^\{|"Secret"/i.test(line)) {
    const secret = credentialIn(result.stdout);
    if (secret !== undefined) registerSecret(secret);
    return `it printed a credential (not shown) but exited with code ${result.code}`;
  }
  // Without the run's secrets: a store's error may quote what it was given.
  if (line !== undefined) return redactText(line).slice(0, 200);
  return result.stderr.trim() === '' ? `exit code ${result.code}` : `exit code ${result.code}; what it wrote to standard error is not shown (it may hold a secret)`;
}

/** The Secret of a credential answer, when `text` is one. */
function credentialIn(text: string): string | undefined {
  try {
    const secret = (JSON.parse(text) as { Secret?: unknown } | null)?.Secret;
    return typeof secret === 'string' ? secret : undefined;
  } catch {
    return undefined;
  }
}

async function run(name: string, action: HelperAction, input: string, options: CredentialHelperOptions): Promise<HelperResult> {
  const program = helperProgram(name);
  const runner = options.runner ?? defaultRunner(options.env ?? process.env, options.timeoutMs ?? 60_000);
  const where = options.configuredIn === undefined ? '' : ` (configured in ${options.configuredIn})`;
  try {
    return await runner(program, action, input);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EFBIG') {
      throw new PackpubError('CREDENTIALS', `credential helper ${program} ${action} wrote more than ${HELPER_OUTPUT_LIMIT / 1024 / 1024} MiB${where}: no credential answer is that long (it was stopped)`, {
        hint: `run "echo <server> | ${program} ${action}" by hand to see what it prints`,
      });
    }
    if (code === 'ETIMEDOUT') {
      // It read "could not be run: <program> get did not answer within 60 s", for a helper that ran and hung.
      throw new PackpubError('CREDENTIALS', `credential helper ${program} ${action} did not answer within ${Math.round((options.timeoutMs ?? 60_000) / 100) / 10} s${where} (it was stopped)`, {
        hint: `it waits for something no one answers here (a keychain or pinentry prompt, Docker Desktop not running) or hangs: run "echo <server> | ${program} ${action}" by hand; --request-timeout sets how long packpub waits for it`,
        cause: err,
      });
    }
    if (code === 'ENOENT') {
      throw new PackpubError('CREDENTIALS', `credential helper ${program}${where} is not installed or not on PATH`, {
        hint: `install ${program}, or remove the credHelpers/credsStore entry that names "${name}"`,
        cause: err,
      });
    }
    throw new PackpubError('CREDENTIALS', `credential helper ${program}${where} could not be run: ${(err as Error).message}`, {
      hint: `run "echo <server> | ${program} ${action}" by hand to see what it needs`,
      cause: err,
    });
  }
}

function failure(name: string, action: HelperAction, result: HelperResult, options: CredentialHelperOptions): PackpubError {
  const program = helperProgram(name);
  const where = options.configuredIn === undefined ? '' : ` (configured in ${options.configuredIn})`;
  return new PackpubError('CREDENTIALS', `credential helper ${program} ${action} failed${where}: ${helperSaid(result)}`, {
    hint: `fix the helper (try "${program} ${action}" by hand), or remove the credHelpers/credsStore entry that names "${name}"`,
  });
}

/** The stored credential for `serverUrl`, or undefined when the helper has none. */
export async function helperGet(name: string, serverUrl: string, options: CredentialHelperOptions = {}): Promise<Credential | undefined> {
  const result = await run(name, 'get', serverUrl, options);
  if (result.code !== 0) {
    if (NOT_FOUND_RE.test(result.stdout) || NOT_FOUND_RE.test(result.stderr)) return undefined;
    throw failure(name, 'get', result, options);
  }
  let parsed: { ServerURL?: unknown; Username?: unknown; Secret?: unknown };
  try {
    // `null` is nothing to Docker (Go decodes it as the zero credential): as `{}`. Read as an object, it crashed the run.
    parsed = (JSON.parse(result.stdout) as typeof parsed | null) ?? {};
  } catch {
    // Never echo stdout here, not even as a cause: the parse error quotes it, and it may hold the secret.
    throw new PackpubError('CREDENTIALS', `credential helper ${helperProgram(name)} get answered something that is not JSON`, {
      hint: `check the helper with "echo ${serverUrl} | ${helperProgram(name)} get"`,
    });
  }
  const username = typeof parsed.Username === 'string' ? parsed.Username : '';
  const secret = typeof parsed.Secret === 'string' ? parsed.Secret : '';
  if (secret === '' && username === '') return undefined;
  // A helper echoes the server it was asked about (docker-credential-helpers' Get does); an answer naming another is
  // that server's credential, which must not go to this one. One without a ServerURL is taken, as Docker takes it.
  const answered = typeof parsed.ServerURL === 'string' ? parsed.ServerURL : '';
  if (answered !== '' && normalizeRegistryKey(answered) !== normalizeRegistryKey(serverUrl)) {
    registerSecret(secret);
    const shown = normalizeRegistryKey(answered).replace(/[^\x21-\x7e]/g, '?').slice(0, 100);
    throw new PackpubError('CREDENTIALS', `credential helper ${helperProgram(name)} get answered for ${shown} when asked for ${normalizeRegistryKey(serverUrl)}: its credential was not used`, {
      hint: `check what the helper holds for ${serverUrl} ("echo ${serverUrl} | ${helperProgram(name)} get"), or remove the credHelpers/credsStore entry that names "${name}"`,
    });
  }
  const source = `credential helper ${helperProgram(name)}`;
  if (username === IDENTITY_TOKEN_USERNAME) return { identityToken: secret, source };
  return { username, password: secret, source };
}

export async function helperStore(
  name: string,
  entry: { serverUrl: string; username: string; secret: string },
  options: CredentialHelperOptions = {},
): Promise<void> {
  registerSecret(entry.secret);
  const input = JSON.stringify({ ServerURL: entry.serverUrl, Username: entry.username, Secret: entry.secret });
  const result = await run(name, 'store', input, options);
  if (result.code !== 0) throw failure(name, 'store', result, options);
}

/** Erase the stored credential; false when the helper had none. */
export async function helperErase(name: string, serverUrl: string, options: CredentialHelperOptions = {}): Promise<boolean> {
  const result = await run(name, 'erase', serverUrl, options);
  if (result.code === 0) return true;
  if (NOT_FOUND_RE.test(result.stdout) || NOT_FOUND_RE.test(result.stderr)) return false;
  throw failure(name, 'erase', result, options);
}
