#!/usr/bin/env bash
# The whole test suite: unit, integration (real registry processes on loopback) and end-to-end CLI runs,
# plus the type check of src/, test/ and bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-test-tools.sh
# The type check runs beside the tests: most test time is spent waiting on processes and sockets, so it
# mostly uses a core the tests leave idle. It is incremental (scripts/typecheck.sh): on a tree it has checked
# before, only what changed is checked again. Its output is printed after the tests; either failing fails the run.
typecheck_log="$(mktemp)"
trap 'rm -f "$typecheck_log"' EXIT
npm run --silent typecheck >"$typecheck_log" 2>&1 &
typecheck=$!
# The end-to-end tests that spawn bin/packpub.js run dist/: the suite's global setup (test/global-setup.ts)
# builds it from the current sources whenever any source file is newer than the build.
status=0
npx vitest run "$@" || status=$?
if ! wait "$typecheck"; then
  echo "typecheck failed:" >&2
  cat "$typecheck_log" >&2
  status=1
fi
exit "$status"
