#!/usr/bin/env bash
# Type check of src/, test/ and bench/, incremental: files unchanged since the last check are not checked
# again, and an unchanged tree passes without parsing anything.
# src/ is its own project (tsconfig.build.json, checked and emitted by the build into dist/); test/ and bench/
# (tsconfig.typecheck.json) are checked against dist/'s declarations of it, so a tree that was just built (as
# after `npm ci`) does not have src/ checked a second time.
set -euo pipefail
cd "$(dirname "$0")/.."
# dist/ as of src/ and the installed dependencies, built here rather than by `tsc -b` below, so that both
# follow the same rule (scripts/build-stale.mjs); under `npm test`, scripts/test.sh has just done it.
[ "${PACKPUB_BUILD_SETTLED:-}" = 1 ] || node scripts/build-stale.mjs --library
info=node_modules/.cache/packpub/typecheck.tsbuildinfo
# `tsc -b` judges "up to date" by the project's own files, not by the dependencies' type definitions: after
# any npm install (npm rewrites node_modules/.package-lock.json) everything is checked again.
if [ -f "$info" ] && { [ ! -f node_modules/.package-lock.json ] || [ node_modules/.package-lock.json -nt "$info" ]; }; then
  rm -f "$info"
fi
# TypeScript 7's compiler checks on several threads by default; beside the suite (scripts/test.sh) on a
# 2-core machine the extra threads only cost CPU: 3.7-4.4 CPU-s on one thread, 5.0-6.1 with the default
# threads. (A node_modules installed before package.json asked for TypeScript 7 has a compiler without
# the option: it still checks, until the next npm install.)
threads=()
grep -q '"version": "[0-6]\.' node_modules/typescript/package.json || threads=(--singleThreaded)
exec node node_modules/typescript/bin/tsc -b tsconfig.typecheck.json "${threads[@]}"
