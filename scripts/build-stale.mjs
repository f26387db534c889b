// Builds what is older than its inputs, and nothing else: `npm test` (scripts/test.sh) runs it before the type
// check and the suite start, the suite's global setup (test/global-setup.ts) for a `npx vitest run` of its own,
// and the type check (scripts/typecheck.sh) for `npm run typecheck` alone. After `npm ci` (whose `prepare` has
// just run `npm run build`) it builds nothing.
//
// - dist/, the library (tsc -b tsconfig.build.json, incremental; its build info is dist/.tsbuildinfo, so a
//   removed dist/ is rebuilt): the type check reads src/'s types from dist/'s declarations, and
//   test/e2e/library.test.ts imports it. Stale when its build info is older than a file of src/, the tsconfig
//   files or node_modules/.package-lock.json. `tsc -b` judges "up to date" from the project's own files only,
//   so after an npm install (npm rewrites .package-lock.json) the build info is dropped and src/ is checked
//   against the new dependencies' types.
// - dist/bundle/, the CLI that bin/packpub.js runs (scripts/build-cli.mjs): stale when older than a file of
//   src/, package.json (its version is written in), scripts/build-cli.mjs or .package-lock.json (it holds
//   dependencies' code).
//
// Settling both before the type check and the suite start means neither writes dist/ while the other reads it.
// `node scripts/build-stale.mjs` checks both; `--library` only dist/. A failed build exits non-zero with the
// compiler's output.
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const BUILD_INFO = 'dist/.tsbuildinfo';

function mtime(file) {
  try {
    return statSync(join(root, file)).mtimeMs;
  } catch {
    return 0;
  }
}

function newestUnder(dir) {
  let newest = 0;
  for (const e of readdirSync(join(root, dir), { recursive: true, withFileTypes: true })) {
    if (e.isFile()) newest = Math.max(newest, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return newest;
}

function run(args) {
  try {
    execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  } catch (err) {
    // The compiler's or bundler's own output has been printed.
    process.exit(typeof err.status === 'number' && err.status !== 0 ? err.status : 1);
  }
}

const sources = newestUnder('src');
const dependencies = mtime('node_modules/.package-lock.json');
const libraryOnly = process.argv.includes('--library');

const builtInfo = mtime(BUILD_INFO);
if (builtInfo === 0 || mtime('dist/index.js') === 0 || builtInfo < Math.max(sources, mtime('tsconfig.json'), mtime('tsconfig.build.json'), dependencies)) {
  if (builtInfo !== 0 && builtInfo < dependencies) rmSync(join(root, BUILD_INFO));
  if (mtime('dist/index.js') === 0) rmSync(join(root, BUILD_INFO), { force: true });
  run([join(root, 'node_modules/typescript/bin/tsc'), '-b', 'tsconfig.build.json']);
}

if (!libraryOnly && mtime('dist/bundle/packpub.cjs') < Math.max(sources, mtime('package.json'), mtime('scripts/build-cli.mjs'), dependencies)) {
  run([join(root, 'scripts/build-cli.mjs')]);
}
