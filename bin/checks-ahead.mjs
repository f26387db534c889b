// The first code of the worker bin/packpub.js starts for a push: it loads the built-in modules that
// dist/bundle/precheck-worker.js imports, says so in the word bin/packpub.js waits for before it sets its V8
// flags, then runs that worker. A worker thread compiles each built-in it loads after a V8 flag changed from
// its source instead of Node's code cache: a few dozen modules for this one, crypto's the most (issue 16).
// test/e2e/rerun-bin.test.ts checks this list holds every built-in precheck-worker.js imports.
import { workerData } from 'node:worker_threads';

try {
  await Promise.all([
    import('node:crypto'),
    import('node:fs'),
    import('node:fs/promises'),
    import('node:os'),
    import('node:path'),
  ]);
} finally {
  // Said whatever happens: a load that fails ends the worker (the run then checks every folder itself), and
  // must not leave bin/packpub.js waiting out its 100 ms.
  Atomics.store(workerData.loaded, 0, 1);
  Atomics.notify(workerData.loaded, 0);
}
await import('../dist/bundle/precheck-worker.js');
