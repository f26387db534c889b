import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { drainedOrClosed } from '../../../src/util/stream.js';

/** A writable that holds every write until `release()`; refuses more after 1 byte. */
function slowSink(): { sink: Writable; release: () => void } {
  const pending: Array<() => void> = [];
  const sink = new Writable({ highWaterMark: 1, write: (_chunk, _enc, cb) => void pending.push(() => cb()) });
  return { sink, release: () => pending.splice(0).forEach((cb) => cb()) };
}

describe('drainedOrClosed', () => {
  it('resolves when a full stream drains, and leaves no listener behind', async () => {
    const { sink, release } = slowSink();
    expect(sink.write('ab')).toBe(false);
    const waiting = drainedOrClosed(sink);
    release();
    await waiting;
    expect(sink.listenerCount('drain')).toBe(0);
    expect(sink.listenerCount('close')).toBe(0);
  });

  it('resolves when the stream is destroyed instead (it would never drain)', async () => {
    const { sink } = slowSink();
    sink.on('error', () => undefined);
    expect(sink.write('ab')).toBe(false);
    const waiting = drainedOrClosed(sink);
    sink.destroy(new Error('gone'));
    await waiting;
    expect(sink.destroyed).toBe(true);
    expect(sink.listenerCount('drain')).toBe(0);
  });
});
