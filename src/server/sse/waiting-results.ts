import type { ServerResponse } from 'node:http';

/**
 * Results of /graphql/stream operations held until their stream's socket drains. graphql-sse computes every
 * operation's result at once and hands it over; while the client does not read, each waits here whole. A client
 * that stopped reading and sent hundreds of operations with 4 MB answers took the process out of memory. So:
 * - a stream may have at most PER_STREAM results waiting: past that, it is cut (its client is not reading);
 * - all streams together at most TOTAL: past that, the stream holding the most is cut, not the one that asks
 *   (a client reading slowly must not pay for one that stopped);
 * - a result may wait at most MAX_WAIT_MS: a stream whose socket has not drained in that long is cut, so that a
 *   stalled stream that sends nothing more does not hold its share for ever.
 * Cutting a stream releases everything it held (its waiters resolve on 'close').
 */
export class WaitingResults {
  static readonly PER_STREAM = 8;
  static readonly TOTAL = 64;
  static readonly MAX_WAIT_MS = 30_000;
  readonly #byStream = new Map<ServerResponse, number>();
  #total = 0;

  async untilDrained(stream: ServerResponse): Promise<void> {
    const wait = drained(stream);
    if (!wait) return;
    const held = this.#byStream.get(stream) ?? 0;
    if (held >= WaitingResults.PER_STREAM) {
      stream.destroy();
      return;
    }
    if (this.#total >= WaitingResults.TOTAL) {
      const worst = this.#mostHeld();
      if (worst === undefined || worst === stream) {
        stream.destroy();
        return;
      }
      worst.destroy();
    }
    this.#byStream.set(stream, held + 1);
    this.#total += 1;
    const timer = setTimeout(() => stream.destroy(), WaitingResults.MAX_WAIT_MS);
    timer.unref();
    try {
      await wait;
    } finally {
      clearTimeout(timer);
      this.#total -= 1;
      const left = (this.#byStream.get(stream) ?? 1) - 1;
      if (left <= 0) this.#byStream.delete(stream);
      else this.#byStream.set(stream, left);
    }
  }

  #mostHeld(): ServerResponse | undefined {
    let worst: ServerResponse | undefined;
    let most = 0;
    for (const [stream, held] of this.#byStream) {
      if (held > most) {
        worst = stream;
        most = held;
      }
    }
    return worst;
  }
}

/** Resolves once `response` can take more (or has closed); undefined when it can now. */
function drained(response: ServerResponse): Promise<void> | undefined {
  if (!response.writableNeedDrain || response.destroyed || response.writableEnded) return undefined;
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}
