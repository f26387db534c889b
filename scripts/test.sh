#!/usr/bin/env bash
# The whole test suite: unit, integration (real registry processes on loopback) and end-to-end CLI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-test-tools.sh
[ -f dist/cli/main.js ] || npm run build
npm run typecheck
npx vitest run "$@"
