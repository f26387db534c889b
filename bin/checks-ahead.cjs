'use strict';
// The first code of the worker bin/packpub.js starts for a push: it loads the built-in modules that
// dist/bundle/precheck-worker.cjs requires, says so in the word bin/packpub.js waits for before it sets its V8
// flags, then runs that worker. A worker thread compiles each built-in it loads after a V8 flag changed from
// its source instead of Node's code cache: a few dozen modules for this one, crypto's the most (issue 16).
// CommonJS, as its worker: a worker whose entry is an ES module starts an ES module loader of its own first
// (an empty worker: ~95 vs ~60 ms of CPU), on the core the run's lookups and the registry share.
// test/e2e/rerun-bin.test.ts checks this list holds every built-in precheck-worker.cjs requires.
const { workerData } = require('node:worker_threads');

try {
  require('node:crypto');
  require('node:fs');
  require('node:fs/promises');
  require('node:os');
  require('node:path');
} finally {
  // Said whatever happens: a load that fails ends the worker (the run then checks every folder itself), and
  // must not leave bin/packpub.js waiting out its 100 ms.
  Atomics.store(workerData.loaded, 0, 1);
  Atomics.notify(workerData.loaded, 0);
}
require('../dist/bundle/precheck-worker.cjs');
