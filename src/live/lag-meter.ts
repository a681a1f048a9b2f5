/**
 * Whether a subscriber has fallen behind the shared feed (SUBSCRIBER_TOO_SLOW).
 *
 * Lag is what the client left unread from earlier ticks, not the size of this
 * tick: one sync of 5,000 rows arrives as several pages within a single tick,
 * faster than any socket drains, and a reader that keeps up empties that burst
 * before the next tick. Rows of earlier ticks still queued when a new tick
 * arrives are rows the socket had a whole poll interval to drain and did not.
 * (Memory stays bounded: a tick's chunks are shared by every subscriber with
 * the same filter.)
 */
export class LagMeter {
  private tick = -1;
  private burstRows = 0;

  constructor(private readonly bufferRows: number) {}

  /** Whether `queuedRows` still unread, as a chunk of feed tick `tick` arrives, are more than the buffer allows. */
  isBehind(tick: number, queuedRows: number): boolean {
    if (tick !== this.tick) {
      this.tick = tick;
      this.burstRows = 0;
    }
    return queuedRows - this.burstRows > this.bufferRows;
  }

  /** Rows of the current tick's burst, queued. */
  add(rows: number): void {
    this.burstRows += rows;
  }
}
