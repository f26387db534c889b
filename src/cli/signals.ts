import type { CliContext } from './context.js';
import { EXIT_INTERRUPTED, writeLine } from './io.js';

/** How long in-flight requests may run after an interrupt before they are abandoned. */
const GRACE_MS = 5_000;

/**
 * Run an operation that honours an AbortSignal. The first SIGINT/SIGTERM stops new work and lets
 * requests in flight finish for a few seconds; after that, or on a second signal, the process exits 130.
 * Abandoning is safe: manifests are written only after their blobs, so no tag points at missing content.
 */
export async function withInterrupt<T>(ctx: CliContext, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      writeLine(ctx.io.stderr, `${sig} again: abandoning requests in flight; no tag was written for unfinished packs`);
      process.exit(EXIT_INTERRUPTED);
    }
    ctx.interrupted = true;
    writeLine(ctx.io.stderr, `${sig}: starting no new work; what is in flight may finish within ${GRACE_MS / 1000} s (signal again to stop at once)`);
    controller.abort();
    timer = setTimeout(() => {
      writeLine(ctx.io.stderr, 'abandoning requests still in flight; no tag was written for unfinished packs');
      process.exit(EXIT_INTERRUPTED);
    }, GRACE_MS);
    timer.unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (timer !== undefined) clearTimeout(timer);
  }
}
