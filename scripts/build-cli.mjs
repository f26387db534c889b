// The command-line program as a bundle: dist/bundle/, which bin/packpub.js runs (issue 16). Part of
// `npm run build` and all of the composite action's build (action.yml).
//
// Why: a run of the unbundled dist/ loads one file per module, well over a hundred (packpub's own,
// yargs', yaml's, ajv's), and resolving, reading and compiling each is most of a short run's CPU. Here
// rolldown bundles src/ (compiling the TypeScript itself: no type checking, that is `npm run typecheck`'s
// and tsc's job) with the dependencies it can, into:
// - packpub.cjs: the entry, with everything main() loads before it has parsed a command. It and its chunks
//   are CommonJS (.cjs): bin/packpub.js compiles them with V8's code cache (bin/code-cache.cjs), which Node
//   20 offers for a script but not for an ES module, and compiling them was most of a short run's start-up;
// - version.cjs: the version alone, for `packpub --version` (bin/packpub.js reads nothing else);
// - one chunk per group of modules behind a dynamic import() (a require() here), loaded on demand as the
//   unbundled modules were: yaml, tar-stream and ignore load only on runs that need them (test/e2e/bundle.test.ts); ajv's
//   compiler is in no chunk (the pack.json and packpub.yaml validators are generated ahead of time);
// - validate-worker.js: a validation worker thread's entry, CommonJS like every file here (the folder's
//   package.json; validate-pool.ts starts it from the directory of the chunk that holds the pool, which is
//   this one); its code, in one file, is validate-worker.cjs,
//   CommonJS so the entry can compile it with V8's code cache too (bin/code-cache.cjs runWorkerFile) when
//   the pool passes the cache's settings (a CLI run), else required as it is;
// - validate-ahead.cjs: what bin/packpub.js requires for `packpub validate` before the program, to start the
//   validation workers ahead (src/operations/validate-ahead.ts), in one CommonJS file;
// - precheck-worker.cjs: the worker bin/packpub.js starts for a push (through bin/checks-ahead.cjs), checking
//   the archive cache's folders ahead (src/operations/precheck.ts), in one CommonJS file;
// - cores.cjs: the CPUs the process may use, its cgroup's CPU quota included (src/util/cores.ts), for bin/packpub.js's
//   choice of starting the check-ahead worker: the same rule as the validation pool's, in one CommonJS file;
// - yargs-help.cjs: yargs' help text layout (cliui, string-width), required only by a run that prints a help text.
// External, loaded from node_modules as before: the AWS SDK (large, needed only for ECR, loaded by name
// on demand) and undici's index (the Palette API client's). The three files of undici the registry
// transport loads (src/registry/undici.ts) are bundled with what they require, without undici's HTTP/2
// client: loading it loaded Node's http2 module on every run that opened a registry.
//
// Source maps sit beside each file (without the sources): bin/packpub.js turns them on for --debug, so
// its stack traces name src/ files and lines. dist/'s per-module JavaScript and declarations (tsc) stay
// the library's (package.json "exports").
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = join(root, 'dist', 'bundle');
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

/** `code` with each [from, to] of `swaps` replaced once; the build fails when `what` no longer reads a `from`. */
function swapped(code, what, swaps) {
  for (const [from, to] of swaps) {
    if (!code.includes(from)) throw new Error(`${what} no longer reads "${from}"`);
    code = code.replace(from, () => to);
  }
  return code;
}

/** A group's test: the module is one of src/'s `names` (a name ending in / takes the folder's files). */
function sources(names) {
  const src = join(root, 'src') + '/';
  return (id) => {
    const path = id.replace(/\\/g, '/');
    if (!path.startsWith(src.replace(/\\/g, '/')) || !path.endsWith('.ts')) return false;
    const name = path.slice(src.length, -'.ts'.length);
    return names.some((n) => (n.endsWith('/') ? name.startsWith(n) : name === n));
  };
}

/** @type {import('rolldown').InputOptions} */
const common = {
  cwd: root,
  platform: 'node',
  external: [/^@aws-sdk\//, /^undici$/],
  // No warning when plugins take long: rolldown times them by the wall clock, so on a busy machine (a CI
  // runner, the suite's parallel builds) it warned of a slow build, which onLog below makes an error: the
  // same sources built or failed by the machine's load. Such timings are no fact about the bundle.
  checks: { bundlerTimings: false },
  plugins: [
    {
      // The registry transport's parts of undici (src/registry/undici.ts) are bundled, not loaded file by
      // file from node_modules; HTTP/2's half of undici's client is left out: packpub's connector offers
      // only http/1.1 (ALPN) and never asks for h2c, so a connection is never HTTP/2, and loading it
      // loaded Node's http2 module on every run that opened a registry.
      name: 'packpub-undici-parts',
      transform(code, id) {
        if (id !== join(root, 'src', 'registry', 'undici.ts')) return null;
        const loads = code.match(/\bload\('undici\/lib\/[^']+'\)/g) ?? [];
        if (loads.length !== 5) throw new Error(`${id}: expected five load('undici/lib/...') calls, found ${loads.length}`);
        return { code: code.replace(/\bload\(('undici\/lib\/[^']+')\)/g, 'require($1)'), map: null };
      },
      load(id) {
        if (!id.endsWith('/node_modules/undici/lib/dispatcher/client-h2.js')) return null;
        return "'use strict';\nmodule.exports = function connectH2 () { throw new Error('packpub never negotiates HTTP/2 (ALPN offers http/1.1 only)'); };\n";
      },
    },
    {
      // undici's modules load node:assert for their internal checks (`assert(condition)`, which pass on
      // every run): loaded after the CLI set its V8 flags, its five modules compiled without Node's code
      // cache on every registry run (issue 16). The same check is made here, and node:assert is loaded
      // only to throw its own error when one fails. undici calls assert only as a function: the build
      // fails if a bundled undici file uses it otherwise.
      name: 'packpub-undici-assert',
      transform(code, id) {
        if (!id.includes('/node_modules/undici/lib/')) return null;
        const from = "const assert = require('node:assert')";
        if (!code.includes(from)) return null;
        const uses = code.split(from).join('').match(/\bassert\b[^(]/g) ?? [];
        if (uses.length > 0) throw new Error(`${id}: undici uses assert other than as assert(...): ${uses.join(', ')}`);
        // The same line, so the source map needs no change (map: null).
        return { code: code.split(from).join("const assert = (value, message) => { if (!value) require('node:assert')(value, message) }"), map: null };
      },
    },
    {
      // Two of undici's modules load Node's HTTP module (node:http and the nine modules it loads, its server's
      // among them: ~3-4 ms of CPU on every registry run, issue 16) for two values they rarely read:
      // - core/util.js, IncomingMessage: destroy() of a request body clears the socket of one that is Node's
      //   IncomingMessage. Compared here only with a class of that name (an IncomingMessage exists only once
      //   node:http is loaded), the same test.
      // - dispatcher/client.js, http.maxHeaderSize: the default header limit of a Client not given one,
      //   read (node:http loaded) only then; registry/http.ts gives its Agent the limit whenever it is
      //   certainly Node's default (no --max-http-header-size in the command line or NODE_OPTIONS).
      // Each swap keeps the line count (map: null) and fails the build if its text is no longer there.
      name: 'packpub-undici-http',
      transform(code, id) {
        if (id.endsWith('/node_modules/undici/lib/core/util.js')) {
          if ((code.match(/\bIncomingMessage\b/g) ?? []).length !== 2) throw new Error(`${id}: undici uses IncomingMessage other than in destroy()`);
          const swaps = [
            ["const { IncomingMessage } = require('node:http')", "const isIncomingMessage = (type) => type?.name === 'IncomingMessage' && type === require('node:http').IncomingMessage"],
            ['if (Object.getPrototypeOf(stream).constructor === IncomingMessage) {', 'if (isIncomingMessage(Object.getPrototypeOf(stream).constructor)) {'],
          ];
          return { code: swapped(code, `${id}: undici's util`, swaps), map: null };
        }
        if (id.endsWith('/node_modules/undici/lib/dispatcher/client.js')) {
          if ((code.match(/\bhttp\b(?!:)/g) ?? []).length !== 10) throw new Error(`${id}: undici uses node:http other than for maxHeaderSize`);
          const swaps = [
            ["const http = require('node:http')", "const http = { get maxHeaderSize () { return require('node:http').maxHeaderSize } }"],
            ['const getDefaultNodeMaxHeaderSize = http &&\n', 'const getDefaultNodeMaxHeaderSize = () => http &&\n'],
            ['  ? () => http.maxHeaderSize\n  : () => { throw', '  ? http.maxHeaderSize\n  : (() => { throw'],
            ["http.maxHeaderSize invalid') }", "http.maxHeaderSize invalid') })()"],
          ];
          return { code: swapped(code, `${id}: undici's client`, swaps), map: null };
        }
        return null;
      },
    },
    {
      // src/version.ts reads ../package.json next to itself; a chunk is one level deeper. The bundle is
      // built from this package.json, so its version is written in.
      name: 'packpub-version',
      load(id) {
        if (id === join(root, 'src', 'version.ts')) return `export const VERSION = ${JSON.stringify(version)};\n`;
        return null;
      },
    },
    {
      // yargs finds its message catalogue (locales/*.json) from its own file: three levels up from
      // lib/platform-shims/esm.mjs, which from a chunk would be a folder outside the package. main.ts
      // keeps yargs in English (its messages are read back, as packpub's are written, in English), so
      // the bundle carries yargs' English catalogue only, beside the chunks.
      name: 'packpub-yargs-locales',
      transform(code, id) {
        if (!id.endsWith('/node_modules/yargs/lib/platform-shims/esm.mjs')) return null;
        const from = "directory: resolve(__dirname, '../../../locales')";
        if (!code.includes(from)) throw new Error(`${id}: yargs no longer names its locales folder as "${from}"`);
        // The same line, so the source map needs no change (map: null).
        return { code: code.replace(from, "directory: fileURLToPath(new URL('./yargs-locales', import.meta.url))"), map: null };
      },
    },
    {
      // Two imports of yargs' shim that cost every run without changing what yargs does:
      // - node:assert (~5 ms of CPU to load) for yargs' internal checks, which pass on every run: the
      //   checks are made here with the same rule (Object.is), and node:assert is loaded only to throw
      //   its own error when one fails.
      // - yargs guesses a version from the package.json it finds walking up from the working folder
      //   (the bundle has no node_modules folder in its path), reading every folder up to / when there
      //   is none, and then fails one of those checks. packpub always sets the version itself, so the
      //   walk starts at the bundle, inside packpub's own package.
      name: 'packpub-yargs-shim',
      transform(code, id) {
        if (!id.endsWith('/node_modules/yargs/lib/platform-shims/esm.mjs')) return null;
        const swaps = [
          [
            "import { notStrictEqual, strictEqual } from 'assert'",
            "const notStrictEqual = (actual, expected, message) => { if (Object.is(actual, expected)) require('node:assert').notStrictEqual(actual, expected, message); }; const strictEqual = (actual, expected, message) => { if (!Object.is(actual, expected)) require('node:assert').strictEqual(actual, expected, message); };",
          ],
          ['mainFilename: mainFilename || process.cwd(),', "mainFilename: fileURLToPath(new URL('.', import.meta.url)),"],
        ];
        // The same lines, so the source map needs no change (map: null).
        return { code: swapped(code, `${id}: yargs' shim`, swaps), map: null };
      },
    },
    {
      // yargs resolves a configuration's `extends` module name with import.meta.resolve, which a CommonJS
      // chunk has not (rolldown would make it an empty object); require.resolve names the same module.
      // packpub gives yargs no configuration object, so this line never runs.
      name: 'packpub-yargs-extends',
      transform(code, id) {
        if (!id.endsWith('/node_modules/yargs/build/lib/utils/apply-extends.js')) return null;
        const from = 'import.meta.resolve(config.extends)';
        if (!code.includes(from)) throw new Error(`${id}: yargs no longer reads "${from}"`);
        // The same line, so the source map needs no change (map: null).
        return { code: code.replace(from, () => 'require.resolve(config.extends)'), map: null };
      },
    },
    {
      // yargs lays its help text out with cliui (and wrap-ansi, strip-ansi, ansi-styles, two copies of
      // string-width) and measures it with string-width: a quarter of its chunk, compiled and run (ansi-styles
      // builds its tables when loaded) on every run, though only `--help` prints a help text. They are built
      // into yargs-help.cjs beside the chunks instead (below), which yargs' shim require()s the first time
      // it lays out or measures a help text; the same code, so the help is the same (test/e2e/bundle.test.ts).
      name: 'packpub-yargs-help',
      transform(code, id) {
        if (!id.endsWith('/node_modules/yargs/lib/platform-shims/esm.mjs')) return null;
        const swaps = [
          ["import cliui from 'cliui'", "const cliui = (opts) => require('./yargs-help.cjs').cliui(opts)"],
          ["import stringWidth from 'string-width';", "const stringWidth = (text) => require('./yargs-help.cjs').stringWidth(text);"],
        ];
        // The same lines, so the source map needs no change (map: null).
        return { code: swapped(code, `${id}: yargs' shim`, swaps), map: null };
      },
    },
    {
      // yargs measures its help text with string-width 8: yargs' own copy, which package.json's overrides
      // give cliui and wrap-ansi too (their string-width 7 splits every string into graphemes with no
      // shortcut for ASCII: most of `push --help`'s CPU went to it). Changes that leave every width as it was
      // (test/e2e/bundle.test.ts compares --help with the unbundled yargs'):
      // - its /^\p{RGI_Emoji}$/v: V8 builds the regular expression's string set when it compiles the
      //   literal, ~15 ms of CPU on every run that loads yargs, with or without help to print. It is built
      //   on first use instead; string-width 8 tests it only for text beyond printable ASCII.
      // Each change keeps the line count (map: null) and fails the build if its text is no longer there,
      // or if another string-width than 8 is bundled (the overrides no longer apply).
      name: 'packpub-string-width',
      transform(code, id) {
        if (!/\/node_modules\/(.+\/)?string-width\/index\.js$/.test(id)) return null;
        const swap = (from, to) => {
          if (!code.includes(from)) throw new Error(`${id}: string-width no longer reads "${from}"`);
          return code.replace(from, () => to);
        };
        // Each copy made an Intl.Segmenter when loaded: the first Intl object of a process initialises
        // ICU, ~15 ms of CPU, and nothing else in a run makes one. It is made on first use instead
        // (printable ASCII never gets there).
        if (!(code.match(/\bsegmenter\.\w+\(\w+\)/g) ?? []).every((use) => use === 'segmenter.segment(string)') || /[(,]\s*segmenter\s*[),]/.test(code)) throw new Error(`${id}: string-width uses its segmenter other than with .segment(string)`);
        code = swap('const segmenter = new Intl.Segmenter();', 'let segmenterBuilt; const segmenter = { segment: (string) => (segmenterBuilt ??= new Intl.Segmenter()).segment(string) };');
        const lazy = "let rgiEmojiRegexBuilt; const rgiEmojiRegex = { test: (segment) => (rgiEmojiRegexBuilt ??= new RegExp('^\\\\p{RGI_Emoji}$', 'v')).test(segment) };";
        if ((code.match(/rgiEmojiRegex\b/g) ?? []).length !== 2 || !code.includes('rgiEmojiRegex.test(segment)')) throw new Error(`${id}: string-width uses rgiEmojiRegex other than with .test() (string-width 8 expected: see package.json's overrides)`);
        return { code: swap('const rgiEmojiRegex = /^\\p{RGI_Emoji}$/v;', lazy), map: null };
      },
    },
  ],
  onLog(level, log, handler) {
    // A module imported dynamically in one place and statically in another stays with its static
    // importers: the same modules load as with the unbundled dist/, so this is no news.
    if (log.code === 'INEFFECTIVE_DYNAMIC_IMPORT') return;
    // Anything else (an unresolved import, a circular chunk...) fails the build.
    if (level === 'warn') handler('error', log);
    else handler(level, log);
  },
};

/** @type {import('rolldown').OutputOptions} */
const output = {
  dir: outDir,
  format: 'esm',
  sourcemap: true,
  sourcemapExcludeSources: true,
  // Non-ASCII characters escaped (asciiOnly below does the comments'): V8 holds a source with a single one as
  // two bytes per character, and Node decodes and re-encodes it on every run; the registry chunk (undici, 448 KB)
  // had six, in comments, which cost ~2 ms of each run's start-up (issue 16).
  charset: 'ascii',
  entryFileNames: '[name].js',
  chunkFileNames: '[name]-[hash].js',
};

rmSync(outDir, { recursive: true, force: true });
await build({
  ...common,
  input: { packpub: join(root, 'src/cli/main.ts') },
  output: {
    ...output,
    // CommonJS, for V8's code cache (above). import.meta.url becomes the file's own URL. The packages and
    // built-in modules loaded on demand (the AWS SDK, node:readline/promises) are require()d too: a script
    // compiled through vm.Script can import() only with an experimental Node flag.
    format: 'cjs',
    dynamicImportInCjs: false,
    entryFileNames: '[name].cjs',
    chunkFileNames: '[name]-[hash].cjs',
    codeSplitting: {
      groups: [
        // What the entry loads statically (errors, io, the flag checks...) goes into the entry itself
        // rather than into small chunks shared with the lazy parts: `--version` reads one file.
        { name: 'packpub', tags: ['$initial'], priority: 3 },
        // Small modules shared by many commands, in two chunks rather than one per set of commands that share
        // them: each file a run loads costs a path, a read of it and of its code cache and a Script of its own,
        // and a one-pack push loaded ~50 of them, list ~40 (issue 16). `core`: what validate shares with the
        // commands that open a target; `target`: what those commands share (the OCI layout store, the reports,
        // the registry's errors and retry rules, the CI outputs). Their modules (and what they import, unless
        // already in a chunk above) run only declarations and constant tables when loaded; nothing lazy
        // (test/e2e/bundle.test.ts: yaml, tar-stream, undici, the AWS SDK, pack checks) is among them.
        { name: 'core', test: sources(['pack/naming', 'pack/read-flavour', 'oci/reference', 'archive/stat-tree', 'util/shell-word', 'util/fs', 'util/pid', 'cli/own-files']), priority: 2 },
        {
          name: 'target',
          test: sources([
            'oci/digest', 'oci/manifest', 'oci/media-types', 'util/concurrency', 'util/local-write', 'util/lock-file', 'util/source-date-epoch', 'util/home',
            'util/redact', 'aws/ecr-host', 'credentials/env', 'credentials/registry-key', 'registry/registry-only', 'registry/errors', 'registry/retry',
            'registry/host-overrides', 'cli/render', 'cli/signals', 'cli/annotations', 'cli/report', 'cli/target-command', 'cli/palette-flags',
            'cli/ci-output/', 'operations/push-report', 'operations/copy-report', 'operations/delete-report', 'operations/archive-cache',
            'operations/discover', 'operations/work-dir', 'operations/resolve-pack', 'operations/precheck', 'targets/options', 'targets/artifact-store',
            'targets/open', 'targets/oci-layout', 'archive/format',
          ]),
          priority: 1,
        },
      ],
    },
  },
});
cpSync(join(root, 'node_modules/yargs/locales/en.json'), join(outDir, 'yargs-locales/en.json'));
// `packpub --version` alone reads only this (bin/packpub.js, CommonJS): the version main() prints, without the entry.
writeFileSync(join(outDir, 'version.cjs'), `'use strict';\nexports.VERSION = ${JSON.stringify(version)};\n`);
// yargs' help layout (the packpub-yargs-help plugin above), resolved from yargs' shim as it imports them.
const HELP_ENTRY = join(root, 'node_modules/yargs/lib/platform-shims/packpub-yargs-help.mjs');
await build({
  ...common,
  input: { 'yargs-help': HELP_ENTRY },
  plugins: [
    ...common.plugins,
    {
      name: 'packpub-yargs-help-entry',
      resolveId(source) {
        return source === HELP_ENTRY ? HELP_ENTRY : null;
      },
      load(id) {
        return id === HELP_ENTRY ? "export { default as cliui } from 'cliui';\nexport { default as stringWidth } from 'string-width';\n" : null;
      },
    },
  ],
  output: { ...output, format: 'cjs', entryFileNames: '[name].cjs', codeSplitting: false },
});
await build({
  ...common,
  input: { 'validate-worker': join(root, 'src/operations/validate-worker.ts') },
  output: { ...output, format: 'cjs', dynamicImportInCjs: false, entryFileNames: '[name].cjs', codeSplitting: false },
});
// The entry is CommonJS too (dist/bundle/package.json makes this folder's .js files CommonJS; validate-pool.ts
// names validate-worker.js for the library's dist/ as well): a worker whose entry is an ES module starts an ES
// module loader of its own first, ~35 ms of CPU per worker of a run that validates (issue 16).
writeFileSync(join(outDir, 'package.json'), '{ "type": "commonjs" }\n');
// A worker bin/packpub.js starts ahead for validate (src/operations/validate-ahead.ts, its workerData.loaded) first
// loads the built-in modules its file and bin/code-cache.cjs require, while V8's flags are still the defaults
// (a built-in loaded after they change is compiled from source), says so, and loads its file once the pool
// sends it the code cache's settings, after bin set its flags (test/e2e/bundle.test.ts checks the list).
const WORKER_BUILTINS = ['buffer', 'crypto', 'events', 'fs', 'fs/promises', 'module', 'os', 'path', 'process', 'stream', 'stream/promises', 'url', 'v8', 'vm', 'zlib'];
writeFileSync(
  join(outDir, 'validate-worker.js'),
  `'use strict';
const { parentPort, workerData } = require('node:worker_threads');
// A validation worker (scripts/build-cli.mjs): its code compiled with V8's code cache when the pool passed its settings.
const run = (v8Code) => {
  if (v8Code === undefined) require('./validate-worker.cjs');
  else require('../../bin/code-cache.cjs').runWorkerFile(require('node:url').pathToFileURL(require('node:path').join(__dirname, 'validate-worker.cjs')), v8Code, parentPort);
};
if (workerData?.loaded === undefined) run(workerData?.v8Code);
else {
  // Started ahead (bin/packpub.js): the built-ins now, under V8's default flags; the file once taken.
  try {
    for (const name of ${JSON.stringify(WORKER_BUILTINS)}) require(\`node:\${name}\`);
  } finally {
    Atomics.store(workerData.loaded, 0, 1);
    Atomics.notify(workerData.loaded, 0);
  }
  parentPort.once('message', ({ v8Code }) => run(v8Code));
}
`,
);
await build({
  ...common,
  input: { 'validate-ahead': join(root, 'src/operations/validate-ahead.ts') },
  // CommonJS, required by bin/packpub.js before the program for \`packpub validate\`.
  output: { ...output, format: 'cjs', entryFileNames: '[name].cjs', codeSplitting: false },
});
await build({
  ...common,
  input: { 'precheck-worker': join(root, 'src/operations/precheck-worker.ts') },
  // CommonJS, required by bin/checks-ahead.cjs: no ES module loader in that worker.
  output: { ...output, format: 'cjs', entryFileNames: '[name].cjs', codeSplitting: false },
});
await build({
  ...common,
  input: { cores: join(root, 'src/util/cores.ts') },
  // CommonJS, required by bin/packpub.js (spareCore) for a push whose cache remembers folders.
  output: { ...output, format: 'cjs', entryFileNames: '[name].cjs', codeSplitting: false },
});
asciiOnly(outDir);

/**
 * Escape what non-ASCII characters `charset: 'ascii'` leaves in the bundle's files (those in comments), as
 * \uXXXX, which reads the same in a comment, a string, a regular expression or a name; so every file is
 * ASCII. A character in a line's code shifts the source map's columns after it on that line (--debug's stack
 * traces), nothing else.
 */
function asciiOnly(dir) {
  for (const name of readdirSync(dir)) {
    if (!/\.(c|m)?js$/.test(name)) continue;
    const file = join(dir, name);
    const text = readFileSync(file, 'utf8');
    if (/^[\x00-\x7f]*$/.test(text)) continue;
    writeFileSync(file, text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  }
}
