#!/usr/bin/env bash
# Type check of src/, test/ and bench/ (tsconfig.typecheck.json), incremental: files unchanged since the last
# check are not checked again, and an unchanged tree passes without parsing anything.
set -euo pipefail
cd "$(dirname "$0")/.."
info=node_modules/.cache/packpub/typecheck.tsbuildinfo
# `tsc -b` judges "up to date" by the project's own files, not by the dependencies' type definitions: after
# any npm install (npm rewrites node_modules/.package-lock.json) everything is checked again.
if [ -f "$info" ] && { [ ! -f node_modules/.package-lock.json ] || [ node_modules/.package-lock.json -nt "$info" ]; }; then
  rm -f "$info"
fi
exec node node_modules/typescript/bin/tsc -b tsconfig.typecheck.json
