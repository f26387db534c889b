import type { Argv, Options, PositionalOptions } from 'yargs';
import { PackpubError } from '../errors.js';
import type { Args } from './context.js';

/*
 * Every flag that chooses, reaches or authenticates to a target is declared here, once, in one table per
 * group. A command names the groups that apply to it (so its --help shows exactly its flags); copy gets
 * per-side variants (--from-username, --to-insecure, ...) generated from the same rows, so help texts
 * cannot drift. Numeric flags carry their range here and are checked before any work (prepareArgs).
 */

export type FlagGroup = 'target' | 'config' | 'credentials' | 'network' | 'ecr' | 'ecr-create' | 'harbor' | 'output' | 'output-lines' | 'images';

type Side = 'from' | 'to';

interface NumberRange {
  integer: boolean;
  /** Exclusive when `minExclusive`. */
  min: number;
  minExclusive?: boolean;
  max: number;
}

interface FlagSpec {
  name: string;
  group: FlagGroup;
  type: 'string' | 'boolean' | 'number';
  describe: string;
  alias?: string;
  array?: boolean;
  choices?: readonly string[];
  default?: boolean;
  range?: NumberRange;
  /** copy: one flag per side (--from-NAME, --to-NAME) instead of one for both. */
  perSide?: boolean;
  /** The per-side help, when it differs from `describe`. */
  sideDescribe?: (side: Side) => string;
  /** The help on a command that calls Palette's API too (push, palette), when it differs from `describe`. */
  paletteDescribe?: string;
}

const GROUP_TITLE: Record<FlagGroup, string> = {
  target: 'Target:',
  config: 'Configuration:',
  credentials: 'Authentication:',
  network: 'Network:',
  ecr: 'AWS ECR:',
  'ecr-create': 'AWS ECR:',
  harbor: 'Harbor:',
  output: 'Output:',
  'output-lines': 'Output:',
  images: 'Images:',
};

const sideName = (side: Side) => (side === 'from' ? 'source' : 'destination');
const REGISTRY_TYPE_HELP =
  "Registry flavour; default: ecr for ECR host names, harbor when the registry answers Harbor's /api/v2.0/systeminfo, else generic (public.ecr.aws: ECR Public, whose missing repositories packpub creates with its API, unless this is given)";

/** Ranges of numeric flags; the same as packpub.yaml where the file has the setting (concurrency: 1 to 64). */
export const NUMBER_RANGES: Record<string, NumberRange> = {
  concurrency: { integer: true, min: 1, max: 64 },
  'retry-attempts': { integer: true, min: 1, max: 100 },
  'request-timeout': { integer: false, min: 0, minExclusive: true, max: 86_400 },
  'retry-deadline': { integer: false, min: 0, minExclusive: true, max: 86_400 },
  'retry-delay': { integer: false, min: 0, max: 60 },
  'max-size': { integer: false, min: 0, minExclusive: true, max: 1_048_576 },
  // Palette's waits (palette-flags.ts): longer than a day is no wait a run means (a timer past 2^31 ms fires at once).
  'palette-timeout': { integer: false, min: 0, minExclusive: true, max: 86_400 },
  'palette-poll-interval': { integer: false, min: 0, minExclusive: true, max: 3_600 },
};

export const FLAGS: readonly FlagSpec[] = [
  {
    name: 'registry',
    alias: 'r',
    group: 'target',
    type: 'string',
    describe: 'Registry as HOST[:PORT]/BASE-PATH; packs go to BASE-PATH/spectro-packs/archive/<name>:<version> (env PACKPUB_REGISTRY). Unset: the local OCI layout',
  },
  { name: 'oci-layout', group: 'target', type: 'string', describe: 'Local OCI image layout directory to use instead of a registry (default when no registry: ./oci-packs)' },
  { name: 'registry-type', group: 'target', type: 'string', choices: ['generic', 'harbor', 'ecr'], perSide: true, describe: REGISTRY_TYPE_HELP },
  { name: 'config', group: 'config', type: 'string', describe: 'Configuration file (env PACKPUB_CONFIG; default: packpub.yaml in the working directory, if present)' },
  {
    name: 'target',
    alias: 't',
    group: 'config',
    type: 'string',
    array: true,
    describe: 'Named target from the configuration file (push and palette sync: repeatable, or comma-separated); default: defaults.target',
  },
  {
    name: 'username',
    alias: 'u',
    group: 'credentials',
    type: 'string',
    perSide: true,
    describe: 'Registry user name (env PACKPUB_USERNAME)',
    sideDescribe: (side) => `User name for the ${sideName(side)} registry (env PACKPUB_${side.toUpperCase()}_USERNAME)`,
  },
  {
    name: 'password-stdin',
    group: 'credentials',
    type: 'boolean',
    default: false,
    perSide: true,
    describe: 'Read the password or token from standard input (env PACKPUB_PASSWORD)',
    sideDescribe: (side) => `Read the ${sideName(side)} password or token from standard input (env PACKPUB_${side.toUpperCase()}_PASSWORD)`,
  },
  {
    name: 'identity-token',
    group: 'credentials',
    type: 'string',
    describe: "OAuth2 refresh (identity) token for the registry's token service, as ORAS and Docker's identitytoken; visible to other users of this machine: prefer --identity-token-stdin",
  },
  { name: 'identity-token-stdin', group: 'credentials', type: 'boolean', default: false, describe: 'Read the identity (refresh) token from standard input' },
  {
    name: 'registry-config',
    group: 'credentials',
    type: 'string',
    describe: 'Docker config file with credentials (default $DOCKER_CONFIG/config.json, else ~/.docker/config.json)',
  },
  { name: 'allow-cross-host-auth', group: 'credentials', type: 'boolean', default: false, describe: 'Send credentials to a token service on another host than the registry (not needed for one on a domain above its name: gitlab.com for registry.gitlab.com)' },
  {
    name: 'plain-http',
    group: 'network',
    type: 'boolean',
    perSide: true,
    describe: 'Use HTTP instead of HTTPS (default: on for localhost, 127.0.0.0/8 and [::1], off elsewhere; --no-plain-http forces HTTPS there)',
    sideDescribe: (side) => `Use HTTP instead of HTTPS for the ${sideName(side)} registry (default: on for localhost, 127.0.0.0/8 and [::1], off elsewhere; --no-${side}-plain-http forces HTTPS there)`,
  },
  {
    name: 'ca-file',
    group: 'network',
    type: 'string',
    perSide: true,
    describe: "PEM file of CA certificates to trust for the registry, and for an ECR or ECR Public target its AWS API calls (a TLS-intercepting proxy's CA)",
    sideDescribe: (side) => `PEM file of CA certificates to trust for the ${sideName(side)} registry, and for ECR or ECR Public its AWS API calls`,
  },
  {
    name: 'insecure',
    group: 'network',
    type: 'boolean',
    default: false,
    perSide: true,
    describe: 'Skip TLS certificate verification (warns every run)',
    sideDescribe: (side) => `Skip TLS certificate verification for the ${sideName(side)} registry (warns every run)`,
  },
  {
    name: 'cert-file',
    group: 'network',
    type: 'string',
    perSide: true,
    describe: 'PEM client certificate for registries that require mTLS; presented only to the registry host (needs --key-file)',
    sideDescribe: (side) => `PEM client certificate for the ${sideName(side)} registry (mTLS; needs --${side}-key-file)`,
  },
  {
    name: 'key-file',
    group: 'network',
    type: 'string',
    perSide: true,
    describe: 'PEM private key (unencrypted) of --cert-file',
    sideDescribe: (side) => `PEM private key (unencrypted) of --${side}-cert-file`,
  },
  {
    name: 'header',
    alias: 'H',
    group: 'network',
    // Not an array option: yargs would swallow the pack folders after it; repeated flags still collect.
    type: 'string',
    perSide: true,
    describe: "Extra HTTP header 'Name: value' for the registry host only (repeatable); never printed",
    sideDescribe: (side) => `Extra HTTP header 'Name: value' for the ${sideName(side)} registry host only (repeatable); never printed`,
  },
  { name: 'resolve', group: 'network', type: 'string', array: true, describe: 'Connect to ADDRESS for HOST:PORT, as curl --resolve (repeatable): HOST:PORT:ADDRESS; not for a host reached through a proxy (HTTPS_PROXY), which resolves it' },
  {
    name: 'retry-attempts',
    group: 'network',
    type: 'number',
    describe: 'Attempts per request, first included (default 6; 1 to 100)',
    paletteDescribe: 'Attempts per request, first included, Palette API calls too (default 6; 1 to 100)',
  },
  {
    name: 'request-timeout',
    group: 'network',
    type: 'number',
    describe: 'Seconds to wait for a response or body progress, for a credential helper, and for each whole ECR API call, STS AssumeRole included (default 60)',
    paletteDescribe: 'Seconds to wait for a response or body progress, for a credential helper, for each whole ECR API call, STS AssumeRole included, and for each whole Palette API answer (default 60)',
  },
  {
    name: 'retry-deadline',
    group: 'network',
    type: 'number',
    describe: "Seconds after which a request is not retried any more, and the longest a blob's whole download or upload, retries and resumes included, may take (default 600); a Retry-After asking to wait past it ends the request at once",
    paletteDescribe: "Seconds after which a request is not retried any more, Palette API calls too, and the longest a blob's whole download or upload, retries and resumes included, may take (default 600); a Retry-After asking to wait past it ends the request at once",
  },
  {
    name: 'retry-delay',
    group: 'network',
    type: 'number',
    // The re-read of a listed tag that answered 404 (operations/list.ts pauseBeforeReread) waits this long too:
    // said by the commands that do it (list, copy: RETRY_DELAY_REREAD), not by those that never do.
    describe: 'Seconds to wait before the first retry, doubling per retry up to 3 s, with jitter; Retry-After answers still win when they ask longer, up to 60 s (default 0.25; 0 to 60)',
    paletteDescribe:
      'Seconds to wait before the first retry, doubling per retry up to 3 s, with jitter, Palette API calls too; Retry-After answers still win when they ask longer, up to 60 s (default 0.25; 0 to 60). palette sync without pack names (not push --palette-sync) also waits this long, once, before reading again a listed tag that answered 404',
  },
  { name: 'aws-profile', group: 'ecr', type: 'string', describe: 'AWS profile for ECR (default: the SDK chain, AWS_PROFILE); named, its ECR token comes before a Docker config login of the host' },
  { name: 'aws-role-arn', group: 'ecr', type: 'string', describe: 'Assume this IAM role (STS) before calling ECR; its ECR token comes before a Docker config login of the host' },
  { name: 'ecr-endpoint', group: 'ecr', type: 'string', describe: 'ECR API endpoint URL (default: AWS_ENDPOINT_URL_ECR, else the regional endpoint); http:// only on a loopback address or with --plain-http (copy: --from-plain-http or --to-plain-http, for that side)' },
  { name: 'create-repositories', group: 'ecr-create', type: 'boolean', default: true, describe: 'Create missing ECR repositories before pushing, and ECR Public ones where the registry refuses a write into them (--no-create-repositories to turn off)' },
  {
    name: 'ecr-tag-mutability',
    group: 'ecr-create',
    type: 'string',
    choices: ['MUTABLE', 'IMMUTABLE', 'MUTABLE_WITH_EXCLUSION', 'IMMUTABLE_WITH_EXCLUSION'],
    describe: 'Tag mutability of repositories packpub creates (default MUTABLE, as ECR); on an existing repository that lets a tag move which this setting (with its exclusion filters) makes immutable, packpub still never replaces that tag, even with --force',
  },
  {
    name: 'ecr-tag-mutability-exclusion',
    group: 'ecr-create',
    type: 'string',
    array: true,
    describe: "Wildcard tag filter of --ecr-tag-mutability MUTABLE_WITH_EXCLUSION or IMMUTABLE_WITH_EXCLUSION, which ECR requires there (repeatable, 1 to 5; letters, digits, . _ - and *, e.g. '*.*.*'): matching tags take the other mutability",
  },
  { name: 'ecr-encryption', group: 'ecr-create', type: 'string', choices: ['AES256', 'KMS', 'KMS_DSSE'], describe: 'Encryption of repositories packpub creates (default AES256, as ECR); a pack whose existing repository has weaker encryption is refused' },
  { name: 'ecr-kms-key', group: 'ecr-create', type: 'string', describe: 'KMS key ARN, id or alias for --ecr-encryption KMS or KMS_DSSE; a pack whose existing repository uses another key is refused' },
  { name: 'ecr-tag', group: 'ecr-create', type: 'string', array: true, describe: 'Resource tag KEY=VALUE for repositories packpub creates (repeatable; missing on an existing one: a warning)' },
  { name: 'create-project', group: 'harbor', type: 'boolean', default: false, describe: 'Create the Harbor project (first segment of the base path) when it is missing; on a registry not recognised as Harbor, a warning and nothing created (--registry-type harbor if it is Harbor)' },
  { name: 'json', group: 'output', type: 'boolean', describe: 'Print one JSON document on stdout instead of text (fields in docs/report.md)' },
  { name: 'json-lines', group: 'output-lines', type: 'boolean', describe: 'Print one JSON line per result, then a summary line' },
  {
    name: 'check-images',
    group: 'images',
    type: 'boolean',
    describe:
      "Resolve every image of pack.content.images on its registry (anonymous, else Docker config credentials; push: a target's own credentials for images on its registry): a missing image is an error; gated or unreachable ones are 'not checked' notes (info) that never fail a run, not even with --strict",
  },
];

/**
 * --retry-delay's help on the commands that also pause before reading again what a listing named and the
 * registry answered 404 for (operations/list.ts readTagLists, pauseBeforeReread).
 */
export function retryDelayRereadHelp(command: 'list' | 'copy'): string {
  const base = FLAGS.find((f) => f.name === 'retry-delay')?.describe ?? '';
  return `${base}. ${command} also waits this long, once, before reading again a listed tag, or without a name a listed repository's tag list, that answered 404`;
}

/** The groups of a command that works on one target and writes nothing there (list, inspect, pull, tag). */
export const READ_GROUPS: readonly FlagGroup[] = ['target', 'config', 'credentials', 'network', 'ecr'];
/** push: every group. */
export const PUSH_GROUPS: readonly FlagGroup[] = ['target', 'config', 'credentials', 'network', 'ecr', 'ecr-create', 'harbor', 'output', 'output-lines', 'images'];
/** validate: the image check and `--json`. */
export const VALIDATE_GROUPS: readonly FlagGroup[] = ['images', 'output'];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Y = Argv<any>;

/** The list options declared (`--target`, `--tag`, ...): given without a value they arrive as [] (refuseListsWithoutValue). */
const LIST_OPTIONS = new Set<string>();

function declare(y: Y, flag: FlagSpec, name: string, group: string, describe: string, alias: string | undefined): Y {
  if (flag.array === true) LIST_OPTIONS.add(name);
  return y.option(name, {
    // Numbers arrive as text and are parsed by prepareArgs, so a mistake is quoted as the user typed it
    // (numberFlag: shown as [number]).
    ...(flag.type === 'number' ? numberFlag(describe) : { type: flag.type }),
    ...(alias === undefined ? {} : { alias }),
    ...(flag.array === true ? { array: true } : {}),
    ...(flag.choices === undefined ? {} : { choices: [...flag.choices] }),
    ...(flag.default === undefined ? {} : { default: flag.default }),
    group,
    describe,
  });
}

/**
 * Declare the named rows of the table on a command that has its own flags otherwise (login); `describe` words a
 * row as that command uses it, where the table's words name work it never does (login makes no ECR API call).
 */
export function declareNamedFlags(y: Y, names: readonly string[], describe: Readonly<Record<string, string>> = {}): Y {
  let out = y;
  for (const flag of FLAGS) if (names.includes(flag.name)) out = declare(out, flag, flag.name, GROUP_TITLE[flag.group], describe[flag.name] ?? flag.describe, flag.alias);
  return out;
}

/**
 * A command's own arguments, flags and examples, as data: what no other command shares (build --output,
 * delete --dry-run, ...). One table per command, declared after its groups by `declareFlags` (or
 * `targetCommandFlags`), in the order written, which is the order --help lists them in.
 */
export interface OwnFlags {
  /** The --help group of every option of the table that names none (default: yargs' "Options:"). */
  group?: string;
  positionals?: Readonly<Record<string, PositionalOptions>>;
  options?: Readonly<Record<string, Options>>;
  examples?: ReadonlyArray<readonly [command: string, description: string]>;
}

/** Whether `y` is quick-args' recorder of a command's table rather than yargs (it keeps a variadic's [] itself). */
function isRecorder(y: Y): boolean {
  return typeof (y as { getInternalMethods?: unknown }).getInternalMethods !== 'function';
}

/** Declare a command's own table (`OwnFlags`). */
export function declareOwnFlags(y: Y, own: OwnFlags): Y {
  let out = y;
  // yargs gives a variadic positional (`<tags...>`, `[packs...]`) the default [] and shows it in --help ("[default:
  // []]", where leaving them out means something else: push's packs of packpub.yaml, palette sync's every pack); an
  // explicit undefined default keeps it out (yargs does not replace one given). The undefined yargs then puts in
  // the value is taken out by prepareArgs.
  for (const [name, positional] of Object.entries(own.positionals ?? {})) {
    out = out.positional(name, positional.array === true && !('default' in positional) && !isRecorder(y) ? { ...positional, default: undefined } : positional);
  }
  for (const [name, option] of Object.entries(own.options ?? {})) {
    if (option.array === true) LIST_OPTIONS.add(name);
    out = out.option(name, own.group === undefined ? option : { group: own.group, ...option });
  }
  for (const [command, description] of own.examples ?? []) out = out.example(command, description);
  return out;
}

/**
 * Declare the flags of the given groups on a command, then its own table. `callsPalette`: the command calls
 * Palette's API too (push, palette), so the retry flags' help says they apply there.
 */
export function declareFlags(y: Y, groups: readonly FlagGroup[], own: OwnFlags = {}, callsPalette = false, words: Readonly<Record<string, string>> = {}): Y {
  let out = y;
  for (const flag of FLAGS) {
    const describe = words[flag.name] ?? (callsPalette ? (flag.paletteDescribe ?? flag.describe) : flag.describe);
    if (groups.includes(flag.group)) out = declare(out, flag, flag.name, GROUP_TITLE[flag.group], describe, flag.alias);
  }
  return declareOwnFlags(out, own);
}

const SIDE_GROUP: Record<Side, string> = { from: 'Source (--from):', to: 'Destination (--to):' };

/**
 * copy's flags from the same table: per-side rows become --from-NAME and --to-NAME; the rows that create
 * things (ECR repositories, Harbor projects) apply to the destination; the rest apply to both sides.
 */
export function declareCopyFlags(y: Y): Y {
  let out = y;
  for (const flag of FLAGS) {
    if (flag.group === 'target' && flag.perSide !== true) continue; // --from / --to name the targets
    if (flag.name === 'target') continue;
    // copy moves published manifests and blobs: it reads no pack.content.images, so --check-images would be ignored.
    if (flag.group === 'images') continue;
    // Neither side reads an identity token (target-options' loginFromArgs takes one only for a single target): a
    // token given to copy was dropped without a word, exit 0. Undeclared, it is refused as an unknown flag.
    if (flag.name === 'identity-token' || flag.name === 'identity-token-stdin') continue;
    if (flag.perSide === true) {
      for (const side of ['from', 'to'] as const) {
        out = declare(out, flag, `${side}-${flag.name}`, SIDE_GROUP[side], flag.sideDescribe?.(side) ?? flag.describe, undefined);
      }
    } else if (flag.group === 'ecr-create' || flag.group === 'harbor') {
      out = declare(out, flag, flag.name, SIDE_GROUP.to, flag.describe, flag.alias);
    } else if (flag.group === 'output' || flag.group === 'output-lines' || flag.group === 'config') {
      out = declare(out, flag, flag.name, GROUP_TITLE[flag.group], flag.describe, flag.alias);
    } else {
      out = declare(out, flag, flag.name, 'Both sides:', flag.name === 'retry-delay' ? retryDelayRereadHelp('copy') : flag.describe, flag.alias);
    }
  }
  return out;
}

/** A numeric flag of a command's own (push --concurrency, pull --max-size): parsed and range-checked like the table's. */
export function numberFlag(describe: string): { type: 'string'; number: true; describe: string } {
  // Declared a string too, which yargs' parser obeys first (yargs-parser keeps a string flag's text as typed), while
  // its --help labels the flag [number] (the number label wins there): the value is a number, parsed by prepareArgs.
  // Without requiresArg: a flag left without its value (an unset CI variable) arrives as "" and is refused by the
  // range check, quoting it (yargs' "Not enough arguments following" was taken for a bug in packpub, exit 1).
  return { type: 'string', number: true, describe };
}

/** Each name's camelCase, kept: the names come from the flag tables, and every run asked again for each (issue 11). */
const camelNames = new Map<string, string>();

function camel(name: string): string {
  let key = camelNames.get(name);
  if (key === undefined) {
    key = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    camelNames.set(name, key);
  }
  return key;
}

function rangeText(r: NumberRange): string {
  const kind = r.integer ? 'a whole number' : 'a number';
  return r.minExclusive === true ? `${kind} above ${r.min} and at most ${r.max}` : `${kind} from ${r.min} to ${r.max}`;
}

/** Parse one numeric flag value as typed; undefined when absent. */
export function parseNumberFlag(name: string, raw: unknown): number | undefined {
  if (raw === undefined) return undefined;
  const range = NUMBER_RANGES[name];
  if (range === undefined) throw new PackpubError('INTERNAL', `no range declared for --${name}`);
  if (Array.isArray(raw)) throw givenTwice(name, raw.length);
  const text = String(raw).trim();
  const value = text === '' || !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) ? Number.NaN : Number(text);
  const ok =
    Number.isFinite(value) &&
    (!range.integer || Number.isInteger(value)) &&
    (range.minExclusive === true ? value > range.min : value >= range.min) &&
    value <= range.max;
  if (!ok) throw new PackpubError('USAGE', `--${name} must be ${rangeText(range)}, got "${String(raw)}"`);
  return value;
}

/** A flag whose value may be a secret (`--password`, `-p`, `--identity-token`, `--api-key`, ...): its value is never echoed. */
function mayHoldSecret(name: string): boolean {
  return name === 'p' || /pass|pwd|token|secret|key|credential|auth/i.test(name);
}

/**
 * The tokens after `--` as a message shows them: flag names as typed, values only where they cannot be a
 * secret. A `--NAME=VALUE` token hides the value of a secret-looking NAME, and a bare token right after a
 * flag (its possible value: `--password hunter2`, `-p hunter2`) is hidden unless that flag is harmless.
 */
function describeUnread(tokens: readonly string[]): string {
  let previousFlag: string | undefined;
  return tokens
    .map((token) => {
      const flag = /^-{1,2}([^=]+)(?:=(.*))?$/s.exec(token);
      if (flag !== null) {
        const [, name = '', value] = flag;
        previousFlag = value === undefined ? name : undefined;
        return value === undefined || !mayHoldSecret(name) ? JSON.stringify(token) : `${token.slice(0, token.indexOf('=') + 1)}(not shown)`;
      }
      const after = previousFlag;
      previousFlag = undefined;
      return after !== undefined && mayHoldSecret(after) ? '(a value, not shown)' : JSON.stringify(token);
    })
    .join(' ');
}

/**
 * A switch given a value other than true or false (`--dry-run=yes`, `--force=1`) is refused: the argument
 * parser reads any such value as false, so `--dry-run=yes` would publish for real. A negated switch given any
 * value (`--no-cache=true`) too: the parser reads it as an unknown flag `no-cache`, and what `--no-cache=false`
 * means is anyone's guess. `booleans` are the names of the command's switches and `aliases` their other names
 * (from the parser's options).
 */
export function refuseSwitchValues(argv: readonly string[], booleans: readonly string[], aliases: Readonly<Record<string, readonly string[]>>, keys: readonly string[] = []): void {
  const switches = new Set<string>();
  for (const name of booleans) for (const n of [name, ...(aliases[name] ?? [])]) switches.add(n);
  for (const token of argv) {
    if (token === '--') return;
    refuseNegatedValue(token, switches, keys);
    const match = /^--(no-)?([^=]+)=(.*)$/s.exec(token);
    if (match === null) continue;
    const [, no = '', name = '', value = ''] = match;
    if (!switches.has(name) || (no === '' && (value === 'true' || value === 'false'))) continue;
    // A value typed after a credential switch (--password-stdin=...) may be the secret itself: never echoed.
    const shown = mayHoldSecret(name) ? 'a value (not shown)' : JSON.stringify(value);
    throw new PackpubError('USAGE', `--${no}${name} is a switch and takes no value, got ${shown}`, {
      hint: no === '' ? `write --${name} to turn it on, --no-${name} (or --${name}=false) to turn it off` : `write --no-${name} alone to turn it off, or --${name}=true / --${name}=false`,
    });
  }
}

/**
 * `--no-NAME` of a flag that takes a value (`--no-registry`, `--no-oci-layout`, `--no-junit`, `--no-username`): the
 * parser reads it as NAME=false, and the command got the text "false": a JUnit report written to a file named
 * `false`, a registry host `false`, a layout folder crashing with a TypeError. Only switches have a --no- form.
 */
function refuseNegatedValue(token: string, switches: ReadonlySet<string>, keys: readonly string[]): void {
  const match = /^--no-([^=]+)$/s.exec(token);
  const name = match?.[1];
  if (name === undefined || switches.has(name) || !keys.includes(name)) return;
  throw new PackpubError('USAGE', `--no-${name}: --${name} takes a value, and has no --no- form`, {
    hint: `leave --${name} out to use its default, or give it a value (--${name} VALUE)`,
  });
}

/**
 * `--NAME -` as the parser cannot read it: yargs-parser takes a lone `-` after a long flag for a positional and leaves
 * the flag empty, while it reads `-o -` and `--output=-` as the value "-": `build --output -` (README: `-` for
 * standard output) was refused as "Unknown argument: -", `--ca-file -` as "--ca-file is empty". Joined as `--NAME=-`
 * (before any `--`), the line is read as its other two spellings are.
 */
export function joinDashValues(argv: readonly string[]): string[] {
  const end = argv.indexOf('--');
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    const joins = (end === -1 || i < end) && argv[i + 1] === '-' && /^--[^-=][^=]*$/.test(token);
    out.push(joins ? `${token}=-` : token);
    if (joins) i++;
  }
  return out;
}

function givenTwice(name: string, times: number): PackpubError {
  return new PackpubError('USAGE', `--${name} was given ${times} times: give it once`, {
    hint: 'it takes one value, and packpub does not pick one of several for you: drop the others',
  });
}

/** Flags that take one value each time but are repeatable on purpose (push's targets, extra headers). */
const REPEATABLE = new Set(['registry', 'header', 'from-header', 'to-header']);

/**
 * A flag that takes one value, given several times (`--oci-layout a --oci-layout b`, `--ca-file`), is
 * refused: the parser collects the values into a list, which would be read as one joined value or
 * crash. `strings` are the names of the command's text flags, `arrays` those that take several values
 * and `aliases` their other names (from the parser's options).
 */
export function refuseRepeatedValues(
  args: Readonly<Record<string, unknown>>,
  strings: readonly string[],
  arrays: readonly string[],
  aliases: Readonly<Record<string, readonly string[]>>,
): void {
  // The parser lists each alias under its flag's name only: look both ways.
  const others = (name: string) => [...(aliases[name] ?? []), ...Object.keys(aliases).filter((k) => aliases[k]?.includes(name))];
  for (const name of strings) {
    const names = [name, ...others(name)];
    if (names.some((n) => REPEATABLE.has(n) || arrays.includes(n))) continue;
    const value = args[name];
    // Named as the user reads it in --help: the long name, not a one-letter alias.
    const long = names.reduce((a, b) => (b.length > a.length ? b : a));
    if (Array.isArray(value) && value.length > 1) throw givenTwice(long, value.length);
  }
}

/** The variables that stand for a flag (README); every other flag is read from the command line only. */
const FLAG_ENV = new Set(['PACKPUB_REGISTRY', 'PACKPUB_CONFIG', 'PACKPUB_USERNAME', 'PACKPUB_FROM_USERNAME', 'PACKPUB_TO_USERNAME']);

/**
 * A variable spelled like one of the command's flags that has no environment form (`PACKPUB_DRY_RUN=1`,
 * `PACKPUB_CONCURRENCY=2`) is refused: packpub would ignore it, and a dry run meant that way would publish
 * for real. `flags` are the names of the command's flags (from the parser's options).
 */
export function refuseFlagLookalikeEnv(env: NodeJS.ProcessEnv, flags: readonly string[]): void {
  for (const flag of flags) {
    const name = lookalikeEnvName(flag);
    if (name === undefined || env[name] === undefined) continue;
    throw new PackpubError('USAGE', `${name} is set, but packpub reads no environment variable for --${flag}`, {
      hint: `give --${flag} on the command line instead, and unset ${name} (the variables packpub reads: docs/configuration.md, "Environment variables")`,
    });
  }
}

/** The PACKPUB_ variable each flag name would look like (none for short, camelCase and read ones), kept per name. */
const lookalikeEnvNames = new Map<string, string | undefined>();

function lookalikeEnvName(flag: string): string | undefined {
  if (lookalikeEnvNames.has(flag)) return lookalikeEnvNames.get(flag);
  let name: string | undefined;
  if (!(flag.length < 2 || flag === 'help' || flag === 'version' || /[A-Z]/.test(flag))) {
    name = `PACKPUB_${flag.toUpperCase().replace(/-/g, '_')}`;
    if (FLAG_ENV.has(name)) name = undefined;
  }
  lookalikeEnvNames.set(flag, name);
  return name;
}

/** Text flags of the table that have their own "is empty" refusal, with its own hint (target-options.ts). */
const OWN_EMPTY_CHECK = new Set(['registry', 'target', 'config', 'username', 'identity-token']);

/**
 * A text flag of the table given as "" (an unset CI variable) is refused: `--oci-layout ""` published into
 * the working directory, `--registry-config ""` read the default Docker config, `--ca-file ""` trusted only
 * the public roots, each without a word.
 */
function refuseEmptyPaths(args: Args): void {
  for (const flag of FLAGS) {
    if (flag.type !== 'string' || OWN_EMPTY_CHECK.has(flag.name)) continue;
    const names = [flag.name, ...(flag.perSide === true ? [`from-${flag.name}`, `to-${flag.name}`] : [])];
    for (const name of names) {
      const given = args[camel(name)];
      const values = given === undefined ? [] : Array.isArray(given) ? given : [given];
      for (const value of values) {
        refuseEmptyFlag(name, value);
        if (FILE_FLAGS.has(flag.name)) refuseDashPath(name, value);
      }
    }
  }
}

/**
 * `-` (standard input or output, as build -o reads it) given to a flag naming a file or folder: it made a layout folder
 * named "-", or read a file of that name (--annotation-file: "cannot be read as JSON" of whatever was there).
 */
export function refuseDashPath(name: string, value: unknown): void {
  if (value !== '-') return;
  throw new PackpubError('USAGE', `--${name} - names standard input or output, which --${name} does not read or write`, {
    hint: `give a path (./- for one named "-")`,
  });
}

/** Table flags naming a file or folder, which `-` does not stand for. */
const FILE_FLAGS = new Set(['oci-layout', 'registry-config', 'ca-file', 'cert-file', 'key-file']);

/** A text flag given as "" or blanks (an unset CI variable) is refused, USAGE: `--<name> is empty`. */
export function refuseEmptyFlag(name: string, value: unknown): void {
  if (value === undefined || String(value).trim() !== '') return;
  throw new PackpubError('USAGE', `--${name} is empty`, {
    hint: `give a value (an unset CI variable often leaves it empty), or leave --${name} out`,
  });
}

/**
 * A pack folder given as "" or blanks (`packpub push "$PACKS"` with the variable unset or empty) is refused: push
 * dropped it (alone: published the `packs` of packpub.yaml, exit 0), validate and build read the working directory.
 */
export function refuseEmptyPackFolders(command: string, values: readonly unknown[]): void {
  if (!values.some((v) => String(v).trim() === '')) return;
  throw new PackpubError('USAGE', `packpub ${command} was given an empty pack folder ("")`, {
    hint: `give the folder (an unset CI variable often leaves it empty)${command === 'push' ? ', or give no folder to push the packs listed under packs: in packpub.yaml' : ''}`,
  });
}

/**
 * A list flag given without a value reaches here as [] (`--target` last on the line, or before another flag: an
 * unset CI variable the shell dropped), which read as "not given": `push --target` published to defaults.target or
 * the local layout, `--tag`, `--annotation`, `-H`, `--resolve` and `--ecr-tag` were left out, each exit 0. Refused as
 * "" is. Only list options are looked at: a variadic positional left out (push's packs) is [] too.
 */
function refuseListsWithoutValue(args: Args): void {
  const name = [...LIST_OPTIONS].find((option) => Array.isArray(args[option]) && (args[option] as unknown[]).length === 0);
  if (name === undefined) return;
  throw new PackpubError('USAGE', `--${name} is given without a value`, {
    hint: `give a value (an unset CI variable often leaves it out), or leave --${name} out`,
  });
}

/** Arguments after `--`, which no command reads (a secret among them is not shown). */
export function unreadAfterDoubleDash(command: string, unread: readonly string[]): PackpubError {
  return new PackpubError('USAGE', `packpub ${command} does not read what follows "--": ${describeUnread(unread)}`, {
    hint: 'drop the "--" and give flags and arguments as usual (a folder whose name starts with "-" is written ./-NAME)',
  });
}

/**
 * Flags that exclude each other, whichever command declares them (issue 11: contradictions refused in one place, before
 * any work). A flag is given when it is on (a switch) or has a value; `--target` against `--registry` / `--oci-layout`
 * is target-options.ts' (its message names the values), a value against another (`build -o -` with `--json`) the command's.
 */
const CONTRADICTIONS: ReadonlyArray<{ flags: readonly [string, string]; message?: string; hint?: string }> = [
  { flags: ['force', 'skip-existing'] },
  { flags: ['json', 'json-lines'] },
  { flags: ['registry', 'oci-layout'], message: 'give either --registry or --oci-layout, not both' },
  { flags: ['identity-token', 'identity-token-stdin'], message: 'give either --identity-token or --identity-token-stdin, not both' },
  // Only one flag may read standard input: the first reader took all of it, the second an empty value (the error then
  // named the wrong flag).
  {
    flags: ['palette-api-key-stdin', 'password-stdin'],
    message: '--palette-api-key-stdin and --password-stdin cannot both read standard input',
    // Each names every variable that may hold it: a target's palette.apiKeyEnv (or auth.passwordEnv) in packpub.yaml is
    // read instead of SPECTROCLOUD_APIKEY, so naming that one alone sent a user with such a file to a variable not read.
    hint: "give the API key in SPECTROCLOUD_APIKEY (or the variable a packpub.yaml target's palette.apiKeyEnv names), or the registry password in PACKPUB_PASSWORD with --username (or the variable its auth.passwordEnv names)",
  },
  {
    flags: ['palette-api-key-stdin', 'identity-token-stdin'],
    message: '--palette-api-key-stdin and --identity-token-stdin cannot both read standard input',
    hint: "give the API key in SPECTROCLOUD_APIKEY (or the variable a packpub.yaml target's palette.apiKeyEnv names), or the identity token in the Docker config (packpub login)",
  },
  {
    flags: ['from-password-stdin', 'to-password-stdin'],
    message: '--from-password-stdin and --to-password-stdin cannot both read standard input',
    hint: 'pipe one password in; give the other side as PACKPUB_FROM_PASSWORD / PACKPUB_TO_PASSWORD or in the Docker config',
  },
];

/** A flag on the line: a switch turned on, a value, or a list of some. */
function isGiven(value: unknown): boolean {
  return value === true || typeof value === 'string' || (Array.isArray(value) && value.length > 0);
}

/**
 * Checks that need no I/O, run before any work: arguments after `--` refused (no command reads them),
 * numeric flags parsed and range-checked (in place, as numbers), and flags that contradict each other refused.
 */
export function prepareArgs(args: Args): void {
  // yargs puts what follows `--` after the command name in `_`, past the command's own positionals.
  const [command, ...unread] = (args._ ?? []).map(String);
  if (unread.length > 0) throw unreadAfterDoubleDash(command ?? '', unread);
  refuseEmptyPaths(args);
  refuseListsWithoutValue(args);
  // A variadic positional without its default [] (declareOwnFlags keeps it out of --help): yargs gives a left-out one
  // as [undefined], and the camelCase twin of a kebab name (packDir) an undefined first; no value is undefined.
  for (const [key, value] of Object.entries(args)) if (Array.isArray(value) && value.includes(undefined)) args[key] = value.filter((v) => v !== undefined);
  for (const name of Object.keys(NUMBER_RANGES)) {
    const key = camel(name);
    if (!(key in args)) continue;
    const value = parseNumberFlag(name, args[key]);
    args[key] = value;
    args[name] = value;
  }
  for (const { flags: [a, b], message, hint } of CONTRADICTIONS) {
    if (isGiven(args[camel(a)]) && isGiven(args[camel(b)])) {
      throw new PackpubError('USAGE', message ?? `--${a} and --${b} contradict each other: choose one`, hint === undefined ? {} : { hint });
    }
  }
}
