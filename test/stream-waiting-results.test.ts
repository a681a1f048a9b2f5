/**
 * The bound on /graphql/stream results waiting for their sockets (src/server/sse/waiting-results.ts), with
 * streams whose socket is full until the test drains it. A client that stopped reading must never get a
 * reading client's stream cut: past the total bound, the stream holding the most goes.
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { WaitingResults } from '../src/server/sse/waiting-results.js';

class FullSocket extends EventEmitter {
  writableNeedDrain = true;
  destroyed = false;
  writableEnded = false;
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('close');
  }
  drain(): void {
    this.writableNeedDrain = false;
    this.emit('drain');
  }
}

const asResponse = (socket: FullSocket) => socket as unknown as ServerResponse;

describe('results waiting for a full socket', () => {
  it('cut a stream past its own bound', async () => {
    const waiting = new WaitingResults();
    const stuck = new FullSocket();
    const held = Array.from({ length: WaitingResults.PER_STREAM }, () => waiting.untilDrained(asResponse(stuck)));
    expect(stuck.destroyed).toBe(false);
    await waiting.untilDrained(asResponse(stuck));
    expect(stuck.destroyed).toBe(true);
    await Promise.all(held);
  });

  it('past the total bound, cut the stream holding the most, not a slow reader that asks', async () => {
    const waiting = new WaitingResults();
    const stalled = Array.from({ length: WaitingResults.TOTAL / WaitingResults.PER_STREAM }, () => new FullSocket());
    const held: Promise<void>[] = [];
    // The stalled client's streams fill the total, each within its own bound.
    for (const socket of stalled) {
      for (let i = 0; i < WaitingResults.PER_STREAM; i += 1) held.push(waiting.untilDrained(asResponse(socket)));
    }
    const reader = new FullSocket();
    let fits = 0;
    // The reader's results keep finding room: each time, the fullest stalled stream goes instead.
    for (let i = 0; i < 3; i += 1) {
      const waited = waiting.untilDrained(asResponse(reader));
      expect(reader.destroyed).toBe(false);
      reader.drain();
      await waited;
      reader.writableNeedDrain = true;
      fits += 1;
    }
    expect(fits).toBe(3);
    expect(stalled[0]!.destroyed).toBe(true);
    for (const socket of stalled) socket.destroy();
    await Promise.all(held);
  });
});
