import { PackpubError } from '../errors.js';
import { nearest } from '../util/nearest.js';
import { unreadAfterDoubleDash } from './target-flags.js';

/*
 * Usage mistakes in the user's own spelling: which flag or command was not understood, once, and the
 * nearest real one when there is one that close. yargs reports `-recursive` as "Unknown arguments: e, c, s,
 * i, v" (single-dash letters) and `--cert-file` twice (cert-file, certFile); this maps its report back to
 * the words the user typed. Values are never echoed (`--password=...` could carry a secret).
 */

const PASSWORD_FLAGS = new Set(['p', 'password', 'pass', 'passwd', 'pw']);

const passwordHint = (command: string) =>
  `passwords are read from standard input only, never from a flag (it would show in the process list and shell history): printf '%s' "$PASSWORD" | packpub ${command} --username USER --password-stdin, or set PACKPUB_USERNAME and PACKPUB_PASSWORD`;

const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The flags of argv that yargs reported unknown (`unknown`: the names in its message), as typed, once each. */
function unknownTokens(argv: readonly string[], unknown: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const arg of argv) {
    if (arg === '--') break;
    if (!arg.startsWith('-') || arg === '-') continue;
    const long = arg.startsWith('--');
    const name = arg.slice(long ? 2 : 1).split('=')[0] ?? '';
    const hit = long ? unknown.has(name) || unknown.has(camel(name)) || unknown.has(name.replace(/^no-/, '')) : [...name].some((ch) => unknown.has(ch)) || unknown.has(name);
    const typed = `${long ? '--' : '-'}${name}`;
    if (hit && !out.includes(typed)) out.push(typed);
  }
  return out;
}

/** A sentence for one unknown flag: the nearest real one, or the password explanation. */
function explainFlag(typed: string, known: readonly string[]): { text: string; password: boolean } {
  const name = typed.replace(/^--?/, '');
  if (PASSWORD_FLAGS.has(name.toLowerCase())) return { text: `there is no ${typed} flag`, password: true };
  // `-recursive`: a long flag typed with one dash
  if (!typed.startsWith('--') && name.length > 1 && known.includes(name)) return { text: `unknown flag ${typed}: did you mean --${name}?`, password: false };
  const near = nearest(name, known);
  return { text: near === undefined ? `unknown flag ${typed}` : `unknown flag ${typed}: did you mean --${near}?`, password: false };
}

export interface UsageContext {
  argv: readonly string[];
  /** Every command name (first word of each command). */
  commands: readonly string[];
  /** Long flags the command knows (kebab-case, without dashes). */
  flags: readonly string[];
  /** Each command's usage line by name (`tag <ref> <tags...>`). */
  usages?: ReadonlyMap<string, string>;
}

/**
 * The USAGE error for yargs' `message`: unknown input explained, missing arguments named with the command's
 * usage, anything else (a value outside its choices) with the help of the command it is about.
 */
export function usageError(message: string, ctx: UsageContext): PackpubError {
  const explained = explainUnknownInput(message, ctx);
  if (explained !== undefined) return explained;
  const first = ctx.argv.find((a) => !a.startsWith('-'));
  const usage = first === undefined ? undefined : ctx.usages?.get(first);
  if (usage === undefined) return new PackpubError('USAGE', message === '' ? 'invalid usage' : message, { hint: 'run packpub --help, or packpub <command> --help' });
  // yargs: "Not enough non-option arguments: got 1, need at least 2"; the command's own words instead.
  const got = /^Not enough non-option arguments: got (\d+)/.exec(message);
  const missing = got === null ? [] : (usage.match(/<[^>]+>/g) ?? []).slice(Number(got[1]));
  // The arguments were given after `--` (`tag REF -- -rc1`), which yargs does not count: said so, as prepareArgs says
  // it of any command (was: "packpub tag needs <tags...>", of tags given).
  const dash = ctx.argv.indexOf('--');
  if (missing.length > 0 && dash !== -1 && dash < ctx.argv.length - 1) return unreadAfterDoubleDash(first ?? '', ctx.argv.slice(dash + 1));
  if (missing.length > 0) return new PackpubError('USAGE', `packpub ${first} needs ${missing.join(' ')}`, { hint: `usage: packpub ${usage} (packpub ${first} --help)` });
  // yargs: "Missing required arguments: from, to" (flags demanded by the command).
  const flags = /^Missing required arguments?: (.+)$/.exec(message)?.[1]?.split(', ').map((f) => `--${f}`);
  if (flags !== undefined) return new PackpubError('USAGE', `packpub ${first} needs ${flags.join(' and ')}`, { hint: `run packpub ${first} --help` });
  return new PackpubError('USAGE', message === '' ? 'invalid usage' : message, { hint: `run packpub ${first} --help` });
}

/**
 * A clear USAGE error for yargs' `message`, or undefined when it is not about unknown input. `untag` and
 * `rm` are not close to any command, so they get the list of commands rather than a wrong guess.
 */
export function explainUnknownInput(message: string, ctx: UsageContext): PackpubError | undefined {
  const first = ctx.argv.find((a) => !a.startsWith('-'));
  if (first !== undefined && !ctx.commands.includes(first)) {
    const near = nearest(first, ctx.commands);
    return new PackpubError('USAGE', `unknown command "${first}"${near === undefined ? '' : `: did you mean ${near}?`}`, {
      hint: `commands: ${[...ctx.commands].sort().join(', ')} (packpub --help)`,
    });
  }
  const listed = /^Unknown arguments?: (.*)$/.exec(message);
  if (listed === null) return undefined;
  const unknown = new Set((listed[1] ?? '').split(', ').map((s) => s.trim()));
  const tokens = unknownTokens(ctx.argv, unknown);
  if (tokens.length === 0) return undefined;
  const explained = tokens.map((t) => explainFlag(t, ctx.flags));
  const password = explained.some((e) => e.password);
  return new PackpubError('USAGE', explained.map((e) => e.text).join('; '), {
    hint: password ? passwordHint(first ?? '<command>') : `run packpub ${first ?? '<command>'} --help for its flags`,
  });
}
