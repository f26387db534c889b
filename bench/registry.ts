import { startRecordingProxy, type RecordedRequest, type RecordingProxy } from '../test/support/recording-proxy.js';
import { startRegistry, type RunningRegistry } from '../test/support/registry.js';

/**
 * A fresh `docker-registry` (empty storage, anonymous) with the recording proxy in front. Timed uploads go
 * straight to `host`, so the proxy's own CPU is not billed to the publisher on a 2-core machine; request
 * counts come from runs pointed at `proxyHost`.
 */
export interface BenchRegistry {
  host: string;
  proxyHost: string;
  /** The registry's debug server (Go's pprof), when started with `{ debug: true }`. */
  debugUrl?: string;
  requests: RecordedRequest[];
  clearLog(): void;
  stop(): Promise<void>;
}

const running = new Set<BenchRegistry>();

export async function startBenchRegistry(options: { debug?: boolean } = {}): Promise<BenchRegistry> {
  // Stored on disk and with as many Go threads as cores, as a registry serving users runs (not the suite's
  // tuning; GOGC=400 as in every earlier bench run).
  const registry: RunningRegistry = await startRegistry({ auth: 'none', profile: 'deployed', debug: options.debug === true });
  let proxy: RecordingProxy;
  try {
    proxy = await startRecordingProxy(registry.host);
  } catch (err) {
    await registry.stop();
    throw err;
  }
  const bench: BenchRegistry = {
    host: registry.host,
    proxyHost: proxy.host,
    ...(registry.debugUrl === undefined ? {} : { debugUrl: registry.debugUrl }),
    requests: proxy.requests,
    clearLog: () => proxy.clear(),
    stop: async () => {
      running.delete(bench);
      await proxy.close();
      await registry.stop();
    },
  };
  running.add(bench);
  return bench;
}

/** Stop whatever is still running (on failure or interrupt). */
export async function stopAllRegistries(): Promise<void> {
  await Promise.allSettled([...running].map((r) => r.stop()));
}

/** Use a registry for the length of `fn`, stopping it whatever happens. */
export async function withRegistry<T>(fn: (registry: BenchRegistry) => Promise<T>, options: { debug?: boolean } = {}): Promise<T> {
  const registry = await startBenchRegistry(options);
  try {
    return await fn(registry);
  } finally {
    await registry.stop();
  }
}

export function isBlobUploadStart(r: RecordedRequest): boolean {
  return r.method === 'POST' && /\/blobs\/uploads\/?(\?|$)/.test(r.path);
}
