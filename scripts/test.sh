#!/usr/bin/env bash
# The whole test suite: unit, integration (real registry processes on loopback) and end-to-end CLI runs,
# plus the type check of src/, test/ and bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-test-tools.sh
# First the build, when a source is newer than it (scripts/build-stale.mjs; after `npm ci`, whose `prepare`
# has just built, nothing): the end-to-end tests run bin/packpub.js from dist/bundle/, and the type check
# reads src/'s types from dist/'s declarations. Settled here, neither the type check nor the suite's global
# setup (test/global-setup.ts) writes dist/ while the other reads it.
node scripts/build-stale.mjs
# vitest keeps its transformed modules between runs (vitest.config.ts, experimental.fsModuleCache), one file
# per version of each source file: the versions not written for a week go (one still used is transformed
# again, nothing more).
find node_modules/.experimental-vitest-cache -type f -mtime +7 -delete 2>/dev/null || true
# Settled for this run: the type check (scripts/typecheck.sh) and the suite's global setup
# (test/global-setup.ts) do not look again (each look is a node start and a walk of src/).
export PACKPUB_BUILD_SETTLED=1
# The type check runs beside the tests: most test time is spent waiting on processes and sockets, so it
# mostly uses a core the tests leave idle. It is incremental (scripts/typecheck.sh): src/ was checked by the
# build, and on a tree it has checked before, only what changed is checked again. Its output is printed after
# the tests; either failing fails the run. Both are started directly rather than through `npm run` / `npx`
# (about 1 CPU-s of npm start-up). At the lowest priority (nice 19): its ~4 CPU-s go to a core the tests
# leave idle rather than delay the long chains of test files that start first (test/sequencer.ts), which
# set the run's end; it has long finished by the end of the run.
typecheck_log="$(mktemp)"
trap 'rm -f "$typecheck_log"' EXIT
nice -n 19 bash scripts/typecheck.sh >"$typecheck_log" 2>&1 &
typecheck=$!
status=0
if [ "$#" -gt 0 ]; then
  node_modules/.bin/vitest run "$@" || status=$?
else
  # Two vitest processes side by side (vitest.config.ts PACKPUB_TEST_LANE): the files that mostly wait (test/sequencer.ts
  # WAITING_FILES) in one worker of their own, every other file in the three shared workers, so that their waiting
  # overlaps the others' work instead of leaving cores idle. The waiting lane's output is printed after the other's,
  # then one closing line for both (test/support/summary-reporter.ts).
  waiting_log="$(mktemp)"
  summary="$(mktemp)"
  trap 'rm -f "$typecheck_log" "$waiting_log" "$summary"' EXIT
  PACKPUB_TEST_LANE=waiting PACKPUB_TEST_SUMMARY="$summary" node_modules/.bin/vitest run >"$waiting_log" 2>&1 &
  waiting=$!
  # A background job of a non-interactive shell ignores SIGINT: on Ctrl-C or SIGTERM the waiting lane is ended here
  # (SIGTERM: vitest stops its worker, whose files' teardown stops their registries), not left to run to its end.
  trap 'kill -TERM "$waiting" 2>/dev/null; wait "$waiting"; exit 130' INT TERM
  PACKPUB_TEST_LANE=shared PACKPUB_TEST_SUMMARY="$summary" node_modules/.bin/vitest run || status=$?
  wait "$waiting" || status=1
  cat "$waiting_log"
  if [ "$(wc -l <"$summary")" -ne 2 ]; then
    echo "a vitest process ended without its summary" >&2
    status=1
  fi
  awk '{ p += $1; f += $2; s += $3 } END { printf "\n%d passed, %d failed, %d skipped\n", p, f, s }' "$summary"
fi
if ! wait "$typecheck"; then
  echo "typecheck failed:" >&2
  cat "$typecheck_log" >&2
  status=1
fi
exit "$status"
