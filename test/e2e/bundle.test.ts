import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectRun, runBin, runCli } from '../support/cli.js';
import { settledPackTree, sharedProxiedRegistry } from '../support/push-setup.js';
import { setup } from '../support/stage.js';
import { runChildText } from '../support/spawner.js';

/*
 * The built CLI runs from its bundle (dist/bundle/, scripts/build-cli.mjs), whose lazy parts are chunks
 * loaded on demand. Every run here records the files Node's module loaders read, in order (an ES module
 * hook and CommonJS's Module.prototype.load, given through NODE_OPTIONS as a user could); a chunk's source
 * map says which packages' code it holds. A run
 * that does not need the YAML parser, the tar writer, ignore rules, the config schema compiler or the AWS
 * SDK must not load them: they are most of what a short run would otherwise compile.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUNDLE = join(ROOT, 'dist/bundle');
const { runFlags } = createRequire(import.meta.url)('../../bin/v8-flags.cjs') as { runFlags(validating: boolean): { flags: string[] } };
/** The preloads the runs here are given (test/fixtures/node-options/: what each records, and where). */
const PRELOADS = join(ROOT, 'test/fixtures/node-options');

/** Packages a run loads only when it needs them, as the sources a chunk's map names. */
const LAZY = {
  yaml: 'node_modules/yaml/',
  'tar-stream': 'node_modules/tar-stream/',
  'tar writer': 'src/archive/tar.ts',
  ignore: 'node_modules/ignore/',
  ajv: 'node_modules/ajv/',
  'AWS SDK': 'node_modules/@aws-sdk/',
};
type Lazy = keyof typeof LAZY;
/** A locale whose words yargs has in its catalogue: packpub's stay English under it. */
const GERMAN = { LC_ALL: 'de_DE.UTF-8', LANG: 'de_DE.UTF-8' };

const world = setup(async (stack) => {
  // The worker's registry behind a proxy of the file's own, the pushes under its base path.
  const reg = await sharedProxiedRegistry(stack);
  const work = await settledPackTree(stack, 2, { seed: 5, prefix: 'bundle' });
  return { reg, work };
});

let runs = 0;

/** Run the built CLI (with `env` added); returns the run and the files it loaded (relative to the repository), in load order. */
async function recorded(args: string[], env: NodeJS.ProcessEnv = {}) {
  const log = join(world.work.root, `loads-${runs++}.txt`);
  await writeFile(log, '');
  const run = await runBin(args, {
    env: { ...world.work.env, ...env, NODE_OPTIONS: `--import=${pathToFileURL(join(PRELOADS, 'record-loads.mjs')).href}`, PACKPUB_TEST_LOAD_LOG: log },
    // What the code cache offers each chunk is part of what these runs check: only this file's runs fill it.
    ownCodeCache: true,
  });
  const lines = (await readFile(log, 'utf8')).split('\n');
  // An ES module (a file: URL) or a CommonJS file (its path), as the repository names it.
  const files = (some: string[]) =>
    some.filter((l) => l.startsWith('file:') || l.startsWith('cjs:')).map((l) => relative(ROOT, l.startsWith('file:') ? fileURLToPath(l) : l.slice(4)));
  const loaded = files(lines);
  const required = files(lines.filter((l) => l.startsWith('cjs:')));
  const builtins = lines.filter((l) => l.startsWith('builtin:')).map((l) => l.slice(8));
  const flags = lines.filter((l) => l.startsWith('v8-flags:')).map((l) => l.slice(9));
  // Each chunk compiled through V8's code cache: whether a cache was offered and used (other scripts, such as
  // bin/code-cache.cjs's one-line probe, left out).
  const codeCache = lines
    .filter((l) => l.startsWith('code-cache:'))
    .map((l) => ({ file: relative(ROOT, l.slice(l.indexOf(':', 11) + 1)), cache: l.slice(11, l.indexOf(':', 11)) }))
    .filter((c) => c.file.startsWith('dist/bundle/'));
  // The files loaded before the first V8 flag was set (all of them when none was).
  const firstFlag = lines.findIndex((l) => l.startsWith('v8-flags:'));
  const beforeFlags = firstFlag === -1 ? loaded : files(lines.slice(0, firstFlag));
  return { run, loaded, required, builtins, flags, beforeFlags, codeCache };
}

/** The source files (repository paths) the loaded files hold: a bundle chunk's by its source map. */
async function sourcesIn(loaded: string[]): Promise<string[]> {
  const sources: string[] = [];
  for (const file of loaded) {
    const map = join(ROOT, `${file}.map`);
    if (!file.startsWith('dist/bundle/') || !existsSync(map)) sources.push(file);
    else sources.push(...(JSON.parse(await readFile(map, 'utf8')) as { sources: string[] }).sources.map((s) => relative(ROOT, join(BUNDLE, s))));
  }
  return sources;
}

/** Which lazy packages the loaded files hold code of: a bundle chunk by its source map, anything else by its path. */
async function lazyIn(loaded: string[]): Promise<Lazy[]> {
  const found = new Set<Lazy>();
  for (const file of loaded) {
    let sources = [file];
    if (file.startsWith('dist/bundle/')) {
      // rolldown writes no map for a file without code of a source: an entry that only re-exports its
      // chunk, and rolldown's own helpers (CommonJS interop).
      if (!existsSync(join(ROOT, `${file}.map`)) && (/^rolldown-runtime-/.test(basename(file)) || /^(export|import) [^;]+;\s*$/.test(await readFile(join(ROOT, file), 'utf8')) || (await readFile(join(ROOT, file), 'utf8')).split('\n').every((line) => /^(Object\.defineProperty\(exports, Symbol\.toStringTag, \{ value: "Module" \}\);|const \w+ = require\("\.\/[\w.-]+"\);|exports\.\w+ = \w+\.\w+;|)$/.test(line)))) continue;
      const map = JSON.parse(await readFile(join(ROOT, `${file}.map`), 'utf8')) as { sources: string[] };
      sources = map.sources.map((s) => relative(ROOT, join(BUNDLE, s)));
    }
    for (const [name, prefix] of Object.entries(LAZY) as Array<[Lazy, string]>) if (sources.some((s) => s.includes(prefix))) found.add(name);
  }
  return [...found].sort();
}

describe('the CLI bundle loads its lazy parts only on runs that need them', () => {
  it('--version reads the version file alone: no entry, no chunk, no V8 flag set', async () => {
    const { run, loaded, required, builtins, flags } = await recorded(['--version']);
    expectRun(run, { code: 0, stderr: '' });
    expect(run.stdout).toBe(`${JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).version}\n`);
    // bin/packpub.js's fast path: the bundle's entry (main(), the flag tables) is a quarter of the run's CPU.
    // Both CommonJS (bin/package.json), so no ES module loader is started (here the test's --import hook
    // starts one, which also sees bin/packpub.js).
    expect([...new Set(loaded)]).toEqual(['bin/packpub.js', 'dist/bundle/version.cjs']);
    expect(required).toEqual(['bin/packpub.js', 'dist/bundle/version.cjs']);
    expect(flags).toEqual([]);
    // The same version as main() prints when asked in-process.
    expect((await runCli(['--version'])).stdout).toBe(run.stdout);
  });

  it('a first push loads the tar writer; the unchanged re-run loads no tar writer, YAML parser, schema compiler or AWS SDK', async () => {
    const args = ['push', world.work.tree, '--recursive', '--registry', `${world.reg.proxy.host}/${world.reg.registry.base}/bundle`, '--json'];
    const first = await recorded(args);
    expectRun(first.run, { code: 0 });
    const published = (JSON.parse(first.run.stdout) as { results: Array<{ name: string; version: string; status: string; digest: string }> }).results;
    expect(published.map((r) => r.status)).toEqual(['published', 'published']);
    // What is lazy is found when it is loaded (building archives needs both packpub's tar writer and the
    // ignore rules): the check below can fail.
    expect(await lazyIn(first.loaded)).toEqual(expect.arrayContaining(['ignore', 'tar writer']));
    const holdings = await world.reg.reader.holdings(`${world.reg.registry.base}/bundle`);
    expect(holdings.problems).toEqual([]);
    for (const r of published) expect(holdings.tags.get(`${world.reg.registry.base}/bundle/spectro-packs/archive/${r.name}:${r.version}`)).toBe(r.digest);

    const again = await recorded(args);
    expectRun(again.run, { code: 0 });
    expect((JSON.parse(again.run.stdout) as { results: Array<{ status: string }> }).results.map((r) => r.status)).toEqual(['unchanged', 'unchanged']);
    expect(again.loaded.filter((f) => f.startsWith('dist/') && !f.startsWith('dist/bundle/'))).toEqual([]);
    // The registry transport's parts of undici are in the bundle, without its HTTP/2 client (and so without Node's http2).
    expect(again.required.filter((f) => f.includes('node_modules/undici/'))).toEqual([]);
    expect(again.builtins).toContain('net');
    expect(again.builtins).not.toContain('http2');
    // Nor Node's HTTP module (its client and server: undici reads its header limit, given: scripts/build-cli.mjs).
    expect(again.builtins).not.toContain('http');
    // Nor, against a plain-HTTP registry, Node's TLS modules, nor node:assert for undici's internal checks
    // (both loaded after the V8 flags, so compiled without Node's code cache).
    expect(again.builtins).not.toContain('tls');
    expect(again.builtins).not.toContain('assert');
    expect(await lazyIn(again.loaded)).toEqual([]);
    // Nor yargs' help layout (cliui, string-width), which only a help text needs (scripts/build-cli.mjs).
    expect(again.loaded).not.toContain('dist/bundle/yargs-help.cjs');
    // Every chunk is compiled through V8's code cache (bin/code-cache.cjs): the first run had none to offer,
    // the re-run uses what it saved, for the chunks loaded before the V8 flags and after them.
    // (Not the check-ahead worker's file, which bin/checks-ahead.cjs require()s without the code cache, on a
    // machine with a spare core only: bin/packpub.js's load-average gate decides whether it is loaded; nor the
    // count of usable CPUs that gate reads, cores.cjs, which bin/packpub.js requires before the code cache is in place.)
    const outside = new Set(['dist/bundle/precheck-worker.cjs', 'dist/bundle/cores.cjs']);
    const chunks = (run: typeof first) => run.loaded.filter((f) => f.startsWith('dist/bundle/') && f.endsWith('.cjs') && !outside.has(f));
    expect(first.codeCache).toEqual(chunks(first).map((file) => ({ file, cache: 'none' })));
    expect(again.codeCache).toEqual(chunks(again).map((file) => ({ file, cache: 'used' })));
    expect(chunks(again).filter((f) => again.beforeFlags.includes(f))).toContain('dist/bundle/packpub.cjs');
    expect(chunks(again).filter((f) => !again.beforeFlags.includes(f))).not.toEqual([]);
    // bin/packpub.js's V8 flags are set once the argument parser and the command are loaded (built-ins
    // loaded after a flag changed compile without Node's code cache), before undici's HTTP parser is
    // (--liftoff-only must hold when its WebAssembly is compiled).
    // (On Node 20; on another Node's V8 only the flags it has: bin/v8-flags.cjs.)
    expect(again.flags).toEqual(runFlags(false).flags);
    const before = await sourcesIn(again.beforeFlags);
    expect(before).toContain('src/cli/commands/push.ts');
    expect(before.filter((s) => s.includes('node_modules/undici/'))).toEqual([]);
    const sources = await sourcesIn(again.loaded);
    expect(sources.filter((s) => s.includes('node_modules/undici/'))).not.toEqual([]);
    // A command line of plain flags is read without yargs (src/cli/quick-args.ts).
    expect(sources.filter((s) => s.includes('node_modules/yargs'))).toEqual([]);
    // Without a packpub.yaml, nor the pack-check modules only the messages about a configuration file's problems use (config/load.ts).
    expect(sources.filter((s) => /^src\/pack\/(json-source|schema|model|files)\.ts$/.test(s))).toEqual([]);
    // Nor, without --palette-sync, the Palette code: push declares the Palette flags only (cli/palette-flags.ts).
    expect(sources.filter((s) => /^src\/(palette\/client|operations\/palette|cli\/palette-options)\.ts$/.test(s))).toEqual([]);
  });

  it('a push into an OCI layout and a list of it load neither the registry client (undici) nor the credential chain (Docker config, AWS)', async () => {
    const pack = world.work.packs[0];
    if (pack === undefined) throw new Error('no pack generated');
    const layout = join(world.work.root, 'layout-no-registry');
    const pushed = await recorded(['push', pack.dir, '--oci-layout', layout]);
    expectRun(pushed.run, { code: 0, stdout: [`${pack.name}:${pack.version} -> oci:${layout}/spectro-packs/archive/${pack.name}:${pack.version}`] });
    const listed = await recorded(['list', '--oci-layout', layout]);
    expectRun(listed.run, { code: 0, stdout: [pack.name, pack.version] });
    for (const { loaded } of [pushed, listed]) {
      const sources = await sourcesIn(loaded);
      // Both run files of the target code (the layout store), so the check below can fail.
      expect(sources).toContain('src/targets/oci-layout.ts');
      expect(sources.filter((s) => s.includes('node_modules/undici/') || /^src\/(registry\/client|credentials\/(default-chain|docker-config)|aws\/ecr-sdk|net\/proxy)\.ts$/.test(s))).toEqual([]);
    }
  });

  it("--help requires yargs' help layout, and prints what the unbundled CLI prints, in English under a German locale", async () => {
    const help = await recorded(['push', '--help'], GERMAN);
    expectRun(help.run, { code: 0, stdout: ['Palette:', 'Examples:', '[default: false]'], stderr: '' });
    expect(help.run.stdout).not.toContain('Beispiele');
    // bin/'s and the bundle's CommonJS files only (no package loaded file by file from node_modules), the help layout among them.
    expect(help.required).toContain('dist/bundle/yargs-help.cjs');
    expect(help.required.filter((f) => !f.startsWith('dist/bundle/') && !f.startsWith('bin/'))).toEqual([]);
    expect(await sourcesIn(help.loaded)).toEqual(expect.arrayContaining([expect.stringMatching(/^node_modules\/yargs\//)]));
    // The bundle measures text with patched string-width copies (scripts/build-cli.mjs): its help reads as
    // the unbundled yargs' does, column for column.
    expect(help.run.stdout).toBe((await runCli(['push', '--help'], { env: GERMAN })).stdout);
  });
});

describe('what the bundle holds', () => {
  it('every file is ASCII, so V8 holds each source one byte per character (scripts/build-cli.mjs)', async () => {
    const files = (await readdir(BUNDLE)).filter((f) => /\.(c|m)?js$/.test(f));
    expect(files).toContain('packpub.cjs');
    const wide: string[] = [];
    for (const file of files) if (/[^\x00-\x7f]/.test(await readFile(join(BUNDLE, file), 'utf8'))) wide.push(file);
    expect(wide).toEqual([]);
  });

  it("a validation worker's entry runs as CommonJS (dist/bundle/package.json): no ES module loader of its own", async () => {
    // A worker on the entry, as the pool starts it (no code cache offered), logging each file its thread
    // require()s (an ES module entry is not among them); ended once the entry required the worker's code.
    const log = join(world.work.root, 'validate-worker-loads.txt');
    await writeFile(log, '');
    const script = `const { Worker } = require('node:worker_threads'); const { readFileSync } = require('node:fs');
const w = new Worker(${JSON.stringify(join(BUNDLE, 'validate-worker.js'))}, { execArgv: ['--require', ${JSON.stringify(join(PRELOADS, 'log-requires.cjs'))}] });
w.on('error', (e) => { console.error(e); process.exit(3); });
const done = setInterval(() => { if (readFileSync(${JSON.stringify(log)}, 'utf8').includes('validate-worker.cjs')) { clearInterval(done); w.terminate(); } }, 5);`;
    await runChildText(process.execPath, ['-e', script], { env: { PATH: process.env['PATH'] ?? '', PACKPUB_TEST_LOAD_LOG: log } });
    const required = (await readFile(log, 'utf8')).split('\n').filter((l) => l !== '').map((l) => relative(ROOT, l));
    expect(required.slice(0, 2)).toEqual(['dist/bundle/validate-worker.js', 'dist/bundle/validate-worker.cjs']);
  });

  it("ajv's schema compiler sits only in chunks of its own, loaded for a chart's values.schema.json: pack.json's and packpub.yaml's validators are generated ahead of time", async () => {
    const ajvSources: string[] = [];
    for (const file of (await readdir(BUNDLE)).filter((f) => f.endsWith('.map'))) {
      const map = JSON.parse(await readFile(join(BUNDLE, file), 'utf8')) as { sources: string[] };
      const sources = map.sources.map((s) => relative(ROOT, join(BUNDLE, s)));
      ajvSources.push(...sources.filter((s) => s.includes(LAZY.ajv)));
      // A chunk with the compiler holds packages only, none of packpub's own files (the validation worker's
      // one file holds every module it may load).
      if (file !== 'validate-worker.cjs.map' && sources.some((s) => s.includes(LAZY.ajv) && !s.startsWith(`${LAZY.ajv}dist/runtime/`))) expect(sources.filter((s) => !s.includes('node_modules/'))).toEqual([]);
    }
    // The small runtime helpers the generated validators import (ucs2length for minLength) among them.
    expect(ajvSources.filter((s) => s.startsWith(`${LAZY.ajv}dist/runtime/`)).length).toBeGreaterThan(0);
  });
});

describe("yargs' words in the bundle", () => {
  it('stay English under a German locale, so a mistyped flag is still named (its help: above)', async () => {
    const pack = world.work.packs[0]?.dir ?? '';
    const typo = await runBin(['validate', pack, '--strcit'], { env: { ...world.work.env, ...GERMAN } });
    expectRun(typo, { code: 2, stdout: '', stderr: ['unknown flag --strcit: did you mean --strict?'] });
  });
});
