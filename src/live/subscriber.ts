import type { GraphQLError } from 'graphql';
import type { TripRow } from '../db/tables.js';
import type { ParsedTripFilter } from '../trips/parse-filter.js';
import type { MatchableTripRow, TripMatcher } from '../trips/match-filter.js';
import { isAfter, type FeedPosition } from './position.js';
import { markShareable } from './shared-events.js';
import { StreamQueue, TripStreamTermination } from './stream-queue.js';
import { gatewayError } from '../errors.js';
import { LagMeter } from './lag-meter.js';

/** One event of Subscription.tripsAdded. */
export interface TripBatch {
  trips: readonly TripRow[];
  /** Resume token: the stream position this batch brings the subscriber to. */
  cursor: string;
}

export { TripStreamTermination };

export type TripStreamEvent = TripBatch | TripStreamTermination;

/**
 * Rows handed to subscribers: already filtered, covering every id up to
 * `upTo`. A `shared` chunk is one object handed to every subscriber with the
 * same filter; each of them sends it as its own event, the same TripBatch
 * object for all, which is then executed and serialized once for all (see
 * server/plugins/shared-subscription-results.ts). Other chunks (catch-up pages, rows
 * trimmed to a subscriber's position) are merged into as few events as fit.
 */
export interface FeedChunk {
  rows: readonly MatchableTripRow[];
  upTo: FeedPosition;
  shared?: boolean;
  batch?: TripBatch;
}

export type SubscriberState = 'pending' | 'catching-up' | 'live' | 'ended';

export interface SubscriberOptions {
  filter: ParsedTripFilter;
  matches: TripMatcher;
  /** The decoded `after` cursor; undefined starts at the newest row. */
  resumeFrom: FeedPosition | undefined;
  resumeCursor: string | undefined;
  bufferRows: number;
  eventMaxRows: number;
  encodeCursor(position: FeedPosition): string;
  /** Called once, when the subscriber stops needing the feed (client gone, cut off, shut down). */
  release(subscriber: TripSubscriber): void;
  /**
   * The feed's counters: events that went to a client directly (deliverDirectly), rows handed to clients,
   * clients cut off as too slow; `ticks` (read only) tells one feed tick's rows from the next one's.
   */
  counters: { directEvents: number; rowsDelivered: number; tooSlow: number; readonly ticks: number };
}

/** One tripsAdded subscription: a bounded queue of the shared feed's rows (see StreamQueue). */
export class TripSubscriber extends StreamQueue<TripBatch> {
  state: SubscriberState = 'pending';
  /** Every row up to here has been taken into account: queued, or skipped by the filter. */
  position: FeedPosition = null;
  /** While catching up: the feed position the paged queries must reach before going live. */
  catchUpTarget: FeedPosition = null;
  queuedRows = 0;

  readonly filter: ParsedTripFilter;
  /** The filter's canonical key: subscribers with equal keys share one filtered feed and catch-up reads. */
  readonly filterKey: string;
  readonly matches: TripMatcher;
  readonly resumeFrom: FeedPosition | undefined;

  private readonly options: SubscriberOptions;
  private readonly chunks: FeedChunk[] = [];
  /** Feed chunks that arrive while catching up, appended when the catch-up reaches the feed. */
  private parked: FeedChunk[] = [];
  private parkedRows = 0;
  private parkedUpTo: FeedPosition | undefined;
  private sentFirst = false;
  private lastCursor: string | undefined;
  private roomWaiter: (() => void) | undefined;
  private readonly lag: LagMeter;

  constructor(options: SubscriberOptions) {
    super();
    this.options = options;
    this.lag = new LagMeter(options.bufferRows);
    this.filter = options.filter;
    this.filterKey = options.filter.key;
    this.matches = options.matches;
    this.resumeFrom = options.resumeFrom;
    this.lastCursor = options.resumeCursor;
  }

  // ---- driven by the feed ----

  startLive(position: FeedPosition): void {
    this.state = 'live';
    this.position = position;
    this.notify();
  }

  startCatchUp(feedPosition: FeedPosition): void {
    this.state = 'catching-up';
    this.position = this.resumeFrom ?? null;
    this.catchUpTarget = feedPosition;
  }

  /** A feed chunk (rows after the feed's previous position). */
  offer(chunk: FeedChunk): void {
    if (this.state === 'live') {
      this.accept(chunk, true);
    } else if (this.state === 'catching-up') {
      this.parkedUpTo = chunk.upTo;
      if (chunk.rows.length === 0) return;
      this.parked.push(chunk);
      this.parkedRows += chunk.rows.length;
      if (this.parkedRows > this.options.bufferRows) {
        // The catch-up queries can read these rows as well as the feed could
        // hand them over: drop them and let the catch-up go further instead.
        this.parked = [];
        this.parkedRows = 0;
        this.parkedUpTo = undefined;
        this.catchUpTarget = chunk.upTo;
      }
    }
  }

  /** A catch-up page: matching rows after `position`, the page covering ids up to `upTo`. */
  acceptCatchUp(rows: readonly MatchableTripRow[], upTo: FeedPosition): void {
    this.accept({ rows, upTo }, false);
  }

  /** The catch-up reached the feed: append what the feed delivered meanwhile, then follow the feed. */
  goLive(): void {
    this.state = 'live';
    const parked = this.parked;
    const parkedUpTo = this.parkedUpTo;
    this.parked = [];
    this.parkedRows = 0;
    this.parkedUpTo = undefined;
    // Parked rows were within the buffer bound already; counting them again
    // against it would cut off a client for the catch-up's own queue.
    for (const chunk of parked) this.accept(chunk, false);
    if (parkedUpTo !== undefined && isAfter(parkedUpTo, this.position)) this.position = parkedUpTo;
    this.notify();
  }

  /** Resolves once the client has read enough that another catch-up page fits (or the stream ended). */
  waitForRoom(): Promise<void> {
    if (this.state === 'ended' || this.queuedRows <= this.options.bufferRows / 2) return Promise.resolve();
    return new Promise((resolve) => (this.roomWaiter = resolve));
  }

  /** The cursor of the last batch the client received (or the `after` it resumed from). */
  get resumeCursor(): string | undefined {
    return this.lastCursor;
  }

  private accept(chunk: FeedChunk, bounded: boolean): void {
    if (!isAfter(chunk.upTo, this.position)) return;
    let rows = chunk.rows;
    let queued: FeedChunk = chunk;
    const first = rows[0];
    if (first && !isAfter(BigInt(first.id), this.position)) {
      // Resumed ahead of the feed (another replica's cursor) or overlapping a catch-up page:
      // this subscriber's own trimmed copy, no longer the chunk others share.
      rows = rows.filter((row) => isAfter(BigInt(row.id), this.position));
      queued = { rows, upTo: chunk.upTo };
    }
    // Behind by what earlier ticks left unread, not by this tick's burst (lag-meter.ts).
    if (bounded && this.lag.isBehind(this.options.counters.ticks, this.queuedRows)) {
      this.options.counters.tooSlow += 1;
      this.terminate(this.tooSlowError());
      return;
    }
    this.position = chunk.upTo;
    if (rows.length === 0) return;
    this.chunks.push(queued);
    this.queuedRows += rows.length;
    if (bounded) this.lag.add(rows.length);
    this.notify();
  }

  private tooSlowError(): GraphQLError {
    const cursor = this.lastCursor;
    const resume = cursor
      ? `resubscribe with after: "${cursor}" to continue without losing a row`
      : 'resubscribe to continue';
    return gatewayError(
      'SUBSCRIBER_TOO_SLOW',
      `tripsAdded: this client fell more than ${this.options.bufferRows} rows behind the stream and was disconnected; ${resume}`,
      { cursor: cursor ?? null },
    );
  }

  protected clearQueued(): void {
    this.chunks.length = 0;
    this.queuedRows = 0;
    this.parked = [];
    this.parkedRows = 0;
    this.roomWaiter?.();
    this.roomWaiter = undefined;
  }

  protected released(): void {
    this.options.release(this);
  }

  protected deliveredDirectly(): void {
    this.options.counters.directEvents += 1;
  }

  protected takeQueued(): TripBatch | undefined {
    if (this.queuedRows > 0) return this.takeBatch();
    if (!this.sentFirst && this.state === 'live') {
      // The first event comes at once, even without rows: from then on the
      // client holds a cursor and can resume without losing anything.
      return this.remember({ trips: [], cursor: this.options.encodeCursor(this.position) });
    }
    return undefined;
  }

  private takeBatch(): TripBatch {
    const max = this.options.eventMaxRows;
    const first = this.chunks[0]!;
    if (first.shared && first.rows.length <= max) {
      this.chunks.shift();
      this.queuedRows -= first.rows.length;
      this.releaseRoom();
      first.batch ??= markShareable({ trips: first.rows, cursor: this.options.encodeCursor(first.upTo) });
      return this.remember(first.batch);
    }
    const trips: TripRow[] = [];
    let covered: FeedPosition = null;
    while (this.chunks.length > 0 && trips.length < max) {
      const chunk = this.chunks[0]!;
      if (chunk.shared && trips.length > 0 && chunk.rows.length <= max) break; // sent on its own, shared
      const room = max - trips.length;
      if (chunk.rows.length <= room) {
        for (const row of chunk.rows) trips.push(row);
        this.chunks.shift();
        covered = chunk.upTo;
      } else {
        const taken = chunk.rows.slice(0, room);
        for (const row of taken) trips.push(row);
        this.chunks[0] = { rows: chunk.rows.slice(room), upTo: chunk.upTo };
        covered = BigInt(taken[taken.length - 1]!.id);
      }
    }
    this.queuedRows -= trips.length;
    if (this.chunks.length === 0) covered = this.position;
    this.releaseRoom();
    return this.remember({ trips, cursor: this.options.encodeCursor(covered) });
  }

  private remember(batch: TripBatch): TripBatch {
    this.options.counters.rowsDelivered += batch.trips.length;
    this.sentFirst = true;
    this.lastCursor = batch.cursor;
    return batch;
  }

  private releaseRoom(): void {
    if (this.roomWaiter && this.queuedRows <= this.options.bufferRows / 2) {
      const resolve = this.roomWaiter;
      this.roomWaiter = undefined;
      resolve();
    }
  }
}
