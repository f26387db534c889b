/** Node's Writable, or a streamx one (tar-stream). */
interface Drainable {
  on(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

/**
 * Resolves when a writable that refused a write (`write()` returned false) may take more: on 'drain', or on
 * 'close', since a destroyed stream never drains. The caller checks afterwards whether it was destroyed.
 */
export function drainedOrClosed(stream: Drainable): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
