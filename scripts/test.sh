#!/usr/bin/env bash
# The whole test suite: unit, integration (real registry processes on loopback) and end-to-end CLI runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-test-tools.sh
# The end-to-end tests that spawn bin/packpub.js run dist/: always build it from the current sources.
npm run build
npm run typecheck
npx vitest run "$@"
