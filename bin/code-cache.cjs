// V8's code cache for the command-line bundle (issue 16). Compiling the bundle's chunks was the largest part
// of a short run's start-up CPU (a re-run that finds its packs unchanged: ~30 % of its main thread's
// instructions), and Node 20 caches no compiled code of its own for a program's files. The bundle is
// CommonJS (scripts/build-cli.mjs) so each chunk can be compiled here, through vm.Script, with the code
// V8 made for it on an earlier run: what that run compiled (including the functions it ran) is then
// read back instead of compiled again.
//
// The cache is packpub's cache folder's (PACKPUB_CACHE_DIR, else $XDG_CACHE_HOME/packpub, else
// ~/.cache/packpub), one file per chunk and V8 state. Nothing here can make a run differ from one without
// it, only cost or save CPU:
// - V8 checks a cache against the source's length only, and not its own payload: a file holds the chunk's
//   whole source, compared with the chunk read, and its code twice, compared with each other (a damaged
//   or cut file is not used: the chunk is compiled from source). Its name also carries Node's version,
//   the V8 flags and options the process started with and the flags bin/packpub.js set since. A file
//   another user owns, or that others may write, is not used either: V8 would run the code in it as it is (a
//   folder shared between users, as PACKPUB_CACHE_DIR may be), so the chunk is compiled from source and the
//   file written again (0644). Nor is anything but a regular file (a FIFO would hold the run, a device be read
//   without end).
// - V8 refuses a cache made under other V8 flags than the current ones: a chunk loaded before
//   bin/packpub.js sets its flags and one loaded after are cached apart. Both are written at exit, when
//   the code includes all the run compiled: the first ones with the flags set back as they were for the
//   moment (or, when the process was started with either flag, before the flags change).
// - A file is written to a temporary name and renamed, so a reader never sees half of one; an absent,
//   unreadable or unwritable cache folder, or any other failure, leaves the chunk compiled from its source
//   (a folder found unwritable before any code is serialised for it: such runs pay ~2 % more, not ~11 %).
// - Each build of packpub and each Node version adds its own files (~3-6 MB): a run that wrote one (a run
//   that found every chunk cached reads no folder) then removes the files not written for a week, beyond
//   that the oldest while they exceed 32 MiB, and temporary files over ten minutes old (of killed runs).
// A validation worker compiles its file (dist/bundle/validate-worker.cjs) the same way (runWorkerFile), under
// the flags bin/packpub.js set, which the pool passes it; saved just before it sends its first answer (the
// pool may stop it at any time after), or for validate's list once the list is done (the code then holds
// what the checks compiled: ~200 functions a later run's worker no longer compiles, issue 16). --debug compiles the bundle as Node does (its source maps apply
// to that path only), and its workers too, as does a run collecting V8 coverage (NODE_V8_COVERAGE: V8 keeps
// no block ranges for code read from a cache); so does the check-ahead worker (its own files).
'use strict';
const { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, unlinkSync, writeSync } = require('node:fs');
const Module = require('node:module');
const { homedir } = require('node:os');
const { basename, dirname, isAbsolute, join, sep } = require('node:path');
const { fileURLToPath, pathToFileURL } = require('node:url');
const { setFlagsFromString } = require('node:v8');
const { Script } = require('node:vm');

const MAGIC = 'packpub V8 code cache 1\n';
// What a run that wrote a file keeps (prune). A file a hit is read from is not written again, so one still in
// use goes once it is a week old, when a run writes another: its next run compiles that chunk from source
// and writes it again (~15 ms of CPU once a week at most). A week bounds what builds and Node versions no
// longer run leave behind to those run in the week before (usually one or two sets of files); the size
// cap, five or more builds' worth, bounds a week of many builds (a developer's).
const KEEP_MS = 7 * 24 * 3600 * 1000;
const KEEP_BYTES = 32 * 1024 * 1024;
// A temporary file lives for the few milliseconds of its write: one this old is a killed run's.
const TEMP_MS = 10 * 60 * 1000;
/** The names this file gives cache files (`<chunk>.cjs-<key>.bin`) and their temporary files. */
const CACHE_NAME = /^[^/\\]+\.cjs-[0-9a-z]+\.bin$/;
const TEMP_NAME = /^[^/\\]+\.cjs-[0-9a-z]+\.bin\.\d+-[0-9a-z]*\.tmp$/;

/**
 * packpub's cache folder, as src/operations/archive-cache.ts's defaultCacheDir finds it (not imported: this
 * file runs before the bundle loads; test/unit/operations/operations.test.ts, cache-dir, keeps the two the same).
 */
function cacheDir(env) {
  if (env.PACKPUB_CACHE_DIR) return env.PACKPUB_CACHE_DIR;
  if (env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)) return join(env.XDG_CACHE_HOME, 'packpub');
  return join(env.HOME || homedir(), '.cache', 'packpub');
}

/** A short name for a key (FNV-1a, 32 bits): the file's header holds the whole key, compared when read. */
function shortName(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(36);
}

/**
 * Compile the bundle's chunks (dist/bundle/*.cjs) with V8's code cache from now on. Returns setFlags(flags,
 * undo), which bin/packpub.js calls just before it sets V8 flags: each a list of setFlagsFromString calls,
 * `undo` setting V8's defaults back (checked: see the probe).
 */
function useCodeCache(bundleUrl, env = process.env) {
  const bundle = fileURLToPath(bundleUrl).replace(/[\\/]$/, '') + sep;
  // No cache folder (HOME unset, and a user the system has no home for: homedir() throws): compiled as Node does.
  let base;
  try {
    base = cacheDir(env);
  } catch {
    return undefined;
  }
  const dir = join(base, 'v8-code');
  // What V8 checks a cache against besides the source: its version (Node's), the CPU and the flags.
  const runtime = [process.version, process.arch, process.execArgv.join(' '), env.NODE_OPTIONS ?? ''].join('\0');
  let flags = '';
  // Whether the folder was made, or found unwritable (no more code is then serialised for nothing).
  let made = false;
  let unwritable = false;
  // Whether this run wrote a file (then it prunes the folder, once).
  let wrote = false;
  // A one-line script's cache made now: at exit, offered for another of the same length (V8 would otherwise
  // take the one it compiled from memory, without a check), it says whether the flags set back are these.
  const probe = new Script('"packpub code cache 1"').createCachedData();
  // The chunks compiled without a usable cache: before the flags changed, and after.
  const unsaved = [];
  let before;
  const compile = Module.prototype._compile;
  // What a validation worker started from now on needs to use the cache (src/operations/validate-pool.ts).
  globalThis[Symbol.for('packpub.v8-code')] = () => (unwritable ? undefined : { dir, prefix: `${runtime}\0${flags}` });

  Module.prototype._compile = function (content, filename, ...rest) {
    if (!filename.startsWith(bundle) || !filename.endsWith('.cjs') || filename.slice(bundle.length).includes(sep)) return compile.call(this, content, filename, ...rest);
    const key = `${runtime}\0${flags}\0${content.length}`;
    const file = join(dir, `${basename(filename)}-${shortName(key)}.bin`);
    const cachedData = cached(file, key, content);
    const script = new Script(Module.wrap(content), {
      filename,
      cachedData,
      // The chunks import() only packages and built-in modules (chunks among themselves use require):
      // resolved from bin/ they are the same files as from dist/bundle/.
      importModuleDynamically: (specifier) => import(specifier.startsWith('.') ? new URL(specifier, pathToFileURL(filename)).href : specifier),
    });
    if (cachedData === undefined || script.cachedDataRejected) unsaved.push({ script, file, key, content });
    const module = this;
    const require = (id) => (isSibling(id) ? requireSibling(module, dirname(filename), id) : module.require(id));
    require.resolve = (request, options) => Module._resolveFilename(request, module, false, options);
    require.cache = Module._cache;
    return script.runInThisContext({ displayErrors: true }).call(module.exports, module.exports, require, module, filename, dirname(filename));
  };

  /** Write the code of the chunks compiled without a usable cache (V8's code now includes what ran). */
  function save() {
    for (const chunk of unsaved.splice(0)) {
      if (unwritable) return;
      const done = write(dir, chunk, made);
      made = true;
      if (done === undefined) unwritable = true;
      wrote ||= done === true;
    }
  }
  process.on('exit', () => {
    save();
    if (before !== undefined && before.chunks.length > 0) {
      try {
        for (const flag of before.undo) setFlagsFromString(flag);
        if (!new Script('"packpub code cache 2"', { cachedData: probe }).cachedDataRejected) {
          unsaved.push(...before.chunks);
          save();
        }
        for (const flag of before.flags) setFlagsFromString(flag);
      } catch {
        // Nothing saved: the next run compiles these chunks from source.
      }
    }
    if (wrote) prune(dir, Date.now());
  });
  return {
    setFlags(next, undo) {
      // A process started with one of these flags would not get its own value back: its chunks are saved now.
      const names = next.map((flag) => flag.replace(/=.*/, ''));
      if (names.some((name) => runtime.includes(name.slice(2)))) save();
      else before = { chunks: unsaved.splice(0), flags: next, undo };
      flags += `${next.join(' ')}\n`;
    },
  };
}

/**
 * `mkdir -p` that always ends: Node's recursive mkdir loops for ever where mkdir answers ENOENT inside a folder
 * that exists (/proc, /sys, some FUSE mounts: a cache folder there hung the process after a finished run). The
 * missing folders are made one by one from the deepest that exists; any error but EEXIST is thrown.
 */
function makeDirs(dir) {
  const missing = [];
  for (let at = dir; ; at = dirname(at)) {
    try {
      lstatSync(at);
      break;
    } catch (err) {
      if (err.code !== 'ENOENT' || dirname(at) === at) throw err;
      missing.push(at);
    }
  }
  for (const at of missing.reverse()) {
    try {
      mkdirSync(at);
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
  }
}

/**
 * Write `script`'s code to `file` (a temporary file renamed), making `dir` first unless `made`: true when
 * written, false when not, undefined when the folder could not be made or written (nothing serialised).
 */
function write(dir, { script, file, key, content }, made) {
  const temp = `${file}.${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
  let fd;
  try {
    if (!made) makeDirs(dir);
    // Never writable by others, whatever the umask: cached() does not use a file they could write.
    fd = openSync(temp, 'wx', 0o644);
  } catch {
    return undefined;
  }
  try {
    const data = script.createCachedData();
    const source = Buffer.from(content, 'utf8');
    const head = Buffer.from(`${MAGIC}${JSON.stringify({ key, source: source.length, data: data.length })}\n`, 'utf8');
    for (const part of [head, source, data, data]) for (let at = 0; at < part.length; ) at += writeSync(fd, part, at);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, file);
    return true;
  } catch {
    try {
      if (fd !== undefined) closeSync(fd);
      rmSync(temp, { force: true });
    } catch {
      // Nothing was saved; the run goes on.
    }
    return false;
  }
}

/**
 * On a validation worker thread: run the CommonJS file at `url` (dist/bundle/validate-worker.cjs) compiled
 * with the code cached for it under `settings` (the folder, and the key's start the main thread's chunks
 * have: useCodeCache's global), or from source. Without a usable cache, its code is saved just before the
 * worker posts its first message on `port` (an answer, after which the pool may stop the worker at once), or
 * when the worker says (its global `packpub.v8-code-later`: validate-worker.ts, for a list).
 */
function runWorkerFile(url, { dir, prefix }, port) {
  const filename = fileURLToPath(url);
  const content = readFileSync(filename, 'utf8');
  const key = `${prefix}\0${content.length}`;
  const file = join(dir, `${basename(filename)}-${shortName(key)}.bin`);
  const cachedData = cached(file, key, content);
  const script = new Script(Module.wrap(content), { filename, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    const save = () => write(dir, { script, file, key, content }, false);
    port.postMessage = function (...message) {
      delete port.postMessage;
      save();
      return port.postMessage(...message);
    };
    // A worker whose answers cannot be cut short (validate's list: stopped only after its last message)
    // takes the save over, to make it once its list is done: the code then holds the functions its checks ran.
    globalThis[Symbol.for('packpub.v8-code-later')] = () => {
      delete port.postMessage;
      return save;
    };
  }
  const module = new Module(filename);
  module.filename = filename;
  module.paths = Module._nodeModulePaths(dirname(filename));
  script.runInThisContext({ displayErrors: true }).call(module.exports, module.exports, Module.createRequire(filename), module, filename, dirname(filename));
}

/**
 * The code cached in `file` for this source and key, or undefined when there is none, it is not whole, or
 * another user owns it or may write it: V8 runs the code as it finds it, so a file someone else could write (a
 * cache folder shared between users) is compiled from source instead and written again as this user's. Only
 * a regular file is read: opened without waiting (a FIFO there would hold the run), and a device never read.
 */
function cached(file, key, content) {
  let size;
  let fd;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    const stat = fstatSync(fd);
    if (!stat.isFile()) return undefined;
    if (typeof process.getuid === 'function' && (stat.uid !== process.getuid() || (stat.mode & 0o022) !== 0)) return undefined;
    size = readWhole(fd, stat.size);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  try {
    const buffer = scratch.subarray(0, size);
    if (buffer.toString('latin1', 0, MAGIC.length) !== MAGIC) return undefined;
    const end = buffer.indexOf(10, MAGIC.length);
    if (end === -1) return undefined;
    const head = JSON.parse(buffer.toString('utf8', MAGIC.length, end));
    const sourceAt = end + 1;
    const dataAt = sourceAt + head.source;
    if (head.key !== key || !Number.isInteger(head.source) || !Number.isInteger(head.data) || head.data <= 0 || buffer.length !== dataAt + 2 * head.data) return undefined;
    // The source, encoded where the file's copy ends (room for any string: 3 bytes per UTF-16 unit at most).
    const encodedAt = ensureScratch(buffer.length + 3 * content.length, buffer.length);
    const length = scratch.write(content, encodedAt, 'utf8');
    if (length !== head.source || scratch.compare(scratch, sourceAt, dataAt, encodedAt, encodedAt + length) !== 0) return undefined;
    const data = scratch.subarray(dataAt, dataAt + head.data);
    return data.equals(scratch.subarray(dataAt + head.data, dataAt + 2 * head.data)) ? data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One buffer the cache files are read into, and their chunk's source encoded beside, reused by each chunk (a
 * fresh buffer per file cost an allocation and its page faults: ~5 ms of a push's ~45 chunks, issue 16). What
 * cached() returns is a view of it, which V8 reads while the chunk's Script is made, before the next chunk's file
 * is read.
 */
let scratch = Buffer.alloc(0);

/** Make scratch at least `bytes` long, keeping its first `keep` bytes; returns `keep`. */
function ensureScratch(bytes, keep) {
  if (scratch.length < bytes) {
    const bigger = Buffer.allocUnsafeSlow(Math.max(bytes, 2 * scratch.length, 1 << 20));
    scratch.copy(bigger, 0, 0, keep);
    scratch = bigger;
  }
  return keep;
}

/** Read the `size` bytes of `fd` (its fstat's) into scratch; the bytes read (fewer: a file cut since, not used). */
function readWhole(fd, size) {
  ensureScratch(size, 0);
  let at = 0;
  while (at < size) {
    const read = readSync(fd, scratch, at, size - at, null);
    if (read === 0) break;
    at += read;
  }
  return at;
}

/** Whether a chunk's require() names another chunk beside it (`./name-hash.cjs`), as rolldown writes them. */
function isSibling(id) {
  return id.startsWith('./') && id.endsWith('.cjs') && id.indexOf('/', 2) === -1 && id.indexOf('\\') === -1;
}

/**
 * require() of a chunk beside `parent`'s (in `dir`), as Node's would, without its path resolution (a stat and a
 * realpath per file: ~50-100 us of CPU each of a run's 25-65 chunks, issue 16): the file is the folder's own, a
 * module already loaded is taken from Node's cache, and a new one loads through Module.prototype.load as Node's
 * require() does. A file that is not there is left to Node's require(), for its own error.
 */
function requireSibling(parent, dir, id) {
  const filename = join(dir, id.slice(2));
  const known = Module._cache[filename];
  if (known !== undefined) return known.exports;
  const module = new Module(filename, parent);
  Module._cache[filename] = module;
  let loaded = false;
  try {
    module.load(filename);
    loaded = true;
  } catch (err) {
    delete Module._cache[filename];
    if (err?.code === 'ENOENT' && err?.syscall === 'open' && err?.path === filename) return parent.require(id);
    throw err;
  } finally {
    if (!loaded) delete Module._cache[filename];
  }
  return module.exports;
}

/**
 * Remove from the folder the cache files not written for KEEP_MS, then the oldest while the rest exceed
 * KEEP_BYTES, and temporary files older than TEMP_MS (other files are left alone). Runs at once may prune
 * together, or one prune while another writes: a file gone (even one just renamed into place between this
 * look at its time and its removal) only makes a next run compile that chunk from source and write it again;
 * a reader that opened a file reads it whole; a temporary file removed under its writer fails the rename,
 * which saves nothing. Every failure is ignored.
 */
function prune(dir, now) {
  let names;
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  const kept = [];
  let bytes = 0;
  for (const name of names) {
    const temp = TEMP_NAME.test(name);
    if (!temp && !CACHE_NAME.test(name)) continue;
    const path = join(dir, name);
    try {
      const stat = lstatSync(path);
      if (!stat.isFile()) continue;
      if (now - stat.mtimeMs > (temp ? TEMP_MS : KEEP_MS)) unlinkSync(path);
      else if (!temp) {
        kept.push({ path, time: stat.mtimeMs, size: stat.size });
        bytes += stat.size;
      }
    } catch {
      // Gone already, or not ours to remove.
    }
  }
  kept.sort((a, b) => a.time - b.time);
  for (const { path, size } of kept) {
    if (bytes <= KEEP_BYTES) break;
    bytes -= size;
    try {
      unlinkSync(path);
    } catch {
      // As above.
    }
  }
}

module.exports = { cacheDir, runWorkerFile, useCodeCache };
