import type { GraphQLError } from 'graphql';
import { gatewayError } from '../errors.js';
import type { TripRow } from '../db/tables.js';
import type { ParsedTripFilter } from '../trips/parse-filter.js';
import type { TripMatcher } from '../trips/match-filter.js';
import type { ChangePosition } from './capture/position.js';
import { markShareable } from './shared-events.js';
import { StreamQueue, type TripStreamTermination } from './stream-queue.js';
import { LagMeter } from './lag-meter.js';
import type { AfterSource } from './subscribe-args.js';

/** One change of Subscription.tripChanges. */
export interface TripChangeEvent {
  kind: 'INSERT' | 'UPDATE' | 'DELETE';
  tripId: string;
  /** The row after the change; null for DELETE. */
  trip: TripRow | null;
}

/** What a stream carries: new rows (tripsAdded) or changes (tripChanges). */
export type StreamKind = 'added' | 'changes';
export type StreamItem<K extends StreamKind> = K extends 'added' ? TripRow : TripChangeEvent;

/** An event of either stream: its items and the cursor after them. */
export interface StreamBatch {
  items: readonly (TripRow | TripChangeEvent)[];
  cursor: string;
}

export type ChangeStreamEvent = StreamBatch | TripStreamTermination;

/**
 * Items of one read, already filtered for this subscriber's view, that bring
 * it from `from` to `to`. Items are in id order. A `shared` chunk is one
 * object handed to every subscriber of the same stream and filter, so its
 * events are executed and serialized once for all of them.
 */
export interface ChangeChunk {
  items: readonly (TripRow | TripChangeEvent)[];
  /** Ids of the items, parallel to items (cut points for events). */
  ids: readonly bigint[];
  from: ChangePosition;
  to: ChangePosition;
  shared?: boolean;
  /** The chunk cut into events, filled by the first subscriber that sends it. */
  events?: StreamBatch[];
}

export type ChangeSubscriberState = 'pending' | 'joining' | 'live' | 'ended';

export interface ChangeSubscriberOptions {
  kind: StreamKind;
  filter: ParsedTripFilter;
  filterKey: string;
  matches: TripMatcher;
  /** The decoded `after` cursor; undefined starts now. */
  resumeFrom: ChangePosition | undefined;
  resumeCursor: string | undefined;
  /** Where the resume cursor came from, named in the errors about it. */
  afterFrom: AfterSource;
  bufferRows: number;
  eventMaxRows: number;
  encodeCursor(position: ChangePosition): string;
  release(subscriber: ChangeSubscriber): void;
  /** Called when a joining subscriber has room again (the feed may read its next page). */
  onRoom(): void;
  /** The feed's counters (see SubscriberOptions in subscriber.ts). */
  counters: { directEvents: number; rowsDelivered: number; tooSlow: number; readonly ticks: number };
  /** Operation name for error messages. */
  field: 'tripsAdded' | 'tripChanges';
}

/** One subscription of the exact change stream: a bounded queue of the feed's changes (see StreamQueue). */
export class ChangeSubscriber extends StreamQueue<StreamBatch> {
  state: ChangeSubscriberState = 'pending';
  /** Everything up to here has been taken into account (queued or filtered out). */
  position: ChangePosition | undefined;
  queuedRows = 0;

  readonly kind: StreamKind;
  readonly filter: ParsedTripFilter;
  readonly filterKey: string;
  readonly matches: TripMatcher;
  readonly resumeFrom: ChangePosition | undefined;
  readonly afterFrom: AfterSource;

  private readonly options: ChangeSubscriberOptions;
  private readonly events: StreamBatch[] = [];
  private sentFirst = false;
  private lastCursor: string | undefined;
  /** The feed tick whose rows are being accepted, and how many of them are still queued (see offer). */
  private readonly lag: LagMeter;

  constructor(options: ChangeSubscriberOptions) {
    super();
    this.options = options;
    this.lag = new LagMeter(options.bufferRows);
    this.kind = options.kind;
    this.filter = options.filter;
    this.filterKey = options.filterKey;
    this.matches = options.matches;
    this.resumeFrom = options.resumeFrom;
    this.afterFrom = options.afterFrom;
    this.lastCursor = options.resumeCursor;
    this.position = options.resumeFrom;
  }

  /** Whether another catch-up page fits (half the buffer free). */
  get hasRoom(): boolean {
    return this.queuedRows <= this.options.bufferRows / 2;
  }

  /** Starts following the feed at `position` (new subscribers: now). */
  startLive(position: ChangePosition): void {
    this.state = 'live';
    this.position = position;
    this.notify();
  }

  startJoining(position: ChangePosition): void {
    this.state = 'joining';
    this.position = position;
  }

  /**
   * A chunk of the shared feed (bounded: past the buffer the client is cut
   * off) or of its own catch-up (unbounded: it reads those pages only as fast
   * as the client takes them).
   */
  offer(chunk: ChangeChunk, bounded: boolean): void {
    if (this.state === 'ended') return;
    // Behind by what earlier ticks left unread, not by this tick's burst (lag-meter.ts).
    if (bounded && this.lag.isBehind(this.options.counters.ticks, this.queuedRows)) {
      this.options.counters.tooSlow += 1;
      this.terminate(this.tooSlowError());
      return;
    }
    this.position = chunk.to;
    if (chunk.items.length === 0) return;
    const events = (chunk.events ??= this.cut(chunk));
    for (const event of events) this.events.push(event);
    this.queuedRows += chunk.items.length;
    if (bounded) this.lag.add(chunk.items.length);
    this.notify();
  }

  /**
   * A chunk's events. A cut after the item with id x is the position "ids up
   * to x at the new snapshot, the rest where the chunk started", valid only at
   * or past the split of the chunk's start (position.ts); so the first event
   * takes at least every item up to that split.
   */
  private cut(chunk: ChangeChunk): StreamBatch[] {
    const max = this.options.eventMaxRows;
    const events: StreamBatch[] = [];
    const minimumCut = chunk.from.split;
    let start = 0;
    while (start < chunk.items.length) {
      let end = Math.min(chunk.items.length, start + max);
      while (end < chunk.items.length && minimumCut !== null && chunk.ids[end - 1]! < minimumCut) end += 1;
      const last = end >= chunk.items.length;
      const position: ChangePosition = last
        ? chunk.to
        : { low: chunk.from.low, high: chunk.to.high, split: chunk.ids[end - 1]! };
      const event = { items: chunk.items.slice(start, end), cursor: this.options.encodeCursor(position) };
      events.push(chunk.shared ? markShareable(event) : event);
      start = end;
    }
    return events;
  }

  get resumeCursor(): string | undefined {
    return this.lastCursor;
  }

  private tooSlowError(): GraphQLError {
    const cursor = this.lastCursor;
    const resume = cursor
      ? `resubscribe with after: "${cursor}" to continue without losing a change`
      : 'resubscribe to continue';
    return gatewayError(
      'SUBSCRIBER_TOO_SLOW',
      `${this.options.field}: this client fell more than ${this.options.bufferRows} rows behind the stream and was disconnected; ${resume}`,
      { cursor: cursor ?? null },
    );
  }

  protected clearQueued(): void {
    this.events.length = 0;
    this.queuedRows = 0;
  }

  protected released(): void {
    this.options.release(this);
  }

  protected deliveredDirectly(): void {
    this.options.counters.directEvents += 1;
  }

  protected takeQueued(): StreamBatch | undefined {
    const event = this.events.shift();
    if (event) {
      const hadRoom = this.hasRoom;
      this.queuedRows -= event.items.length;
      if (!hadRoom && this.hasRoom && this.state === 'joining') this.options.onRoom();
      return this.remember(event);
    }
    if (!this.sentFirst && this.state !== 'pending' && this.position !== undefined) {
      // The first event comes at once, even empty: from then on the client holds a cursor.
      return this.remember({ items: [], cursor: this.options.encodeCursor(this.position) });
    }
    return undefined;
  }

  private remember(event: StreamBatch): StreamBatch {
    this.options.counters.rowsDelivered += event.items.length;
    this.sentFirst = true;
    this.lastCursor = event.cursor;
    return event;
  }
}
