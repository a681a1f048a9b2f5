import type { LiveConfig } from '../config/live.js';
import type { Db } from '../db/database.js';
import type { Logger } from '../logger.js';
import { compileTripMatcher, type MatchableTripRow, type TripMatcher } from '../trips/match-filter.js';
import { parseTripFilter } from '../trips/parse-filter.js';
import { laterOf, type FeedPosition } from './position.js';
import { readMatchingTripsBetween, readNewestTripId, readTripsAfter } from './queries.js';
import { decodeStreamCursor, encodeStreamCursor } from './stream-cursor.js';
import { TripSubscriber, type FeedChunk, type TripStreamEvent } from './subscriber.js';
import { describeError, gatewayError } from '../errors.js';
import { ActivitySignal, FilterGroups, type FilterGroup } from './filter-groups.js';
import { feedCounters, TickLoop } from './tick-loop.js';
import type { SubscribeArgs } from './subscribe-args.js';

export interface TripFeedOptions {
  db: Db;
  config: LiveConfig;
  /** streamIdentity() of the synced table; written into every cursor. */
  stream: string;
  logger: Logger;
  /** Called when the first subscriber arrives (true) and when the last one leaves (false). */
  onActivityChange?: (active: boolean) => void;
}

export interface TripFeedStats {
  pending: number;
  catchingUp: number;
  live: number;
  filterGroups: number;
  /** Rows queued in subscribers, not yet read by their clients. */
  queuedRows: number;
  ticks: number;
  /** Statements the shared feed ran (one per tick unless a page came back full). */
  feedStatements: number;
  /** Statements resuming subscribers ran to catch up. */
  catchUpStatements: number;
  failedStatements: number;
  /** Shared events written to a client by the fan-out itself, around the async-iterator chain. */
  directEvents: number;
  /** Rows handed to clients in events. */
  rowsDelivered: number;
  /** Subscribers cut off with SUBSCRIBER_TOO_SLOW. */
  tooSlow: number;
  position: string | null;
}

interface Group extends FilterGroup<TripSubscriber> {
  matches: TripMatcher | null;
}

/** Longest wait between attempts of a failing catch-up page. */
const MAX_BACKOFF_MS = 5000;

/**
 * The one change feed of this process. Each tick runs one keyset statement
 * (`id > position ORDER BY id LIMIT n`, repeated only while pages come back
 * full), filters the rows in memory once per distinct filter, and pushes them
 * into every subscriber's bounded queue. The database cost depends on the rows
 * that arrive, never on the number of subscribers.
 *
 * Ticks run every pollIntervalMs while anyone is subscribed, and at once when
 * woken (NOTIFY, a sync status change, a new subscriber). At most one tick runs
 * at a time; wake-ups during a tick collapse into one more tick.
 *
 * Assumes the synced table's writer makes rows visible in id order (the sync
 * pipeline is the single writer, and new trips get ids above existing ones). A
 * row that appears later with an id below the feed position is visible to
 * queries but not streamed.
 */
export class TripFeed {
  private readonly db: Db;
  private readonly config: LiveConfig;
  private readonly stream: string;
  private readonly logger: Logger;
  private readonly activity: ActivitySignal;

  /** undefined until the first tick has read where the table ends. */
  private position: FeedPosition | undefined;
  private readonly pending = new Set<TripSubscriber>();
  private readonly catchingUp = new Set<TripSubscriber>();
  private readonly groups = new FilterGroups<TripSubscriber, Group>((first) => ({
    matches: first.filter.root ? first.matches : null,
    subscribers: new Set(),
  }));
  private readonly pagesInFlight = new Map<string, Promise<MatchableTripRow[]>>();

  private readonly loop: TickLoop;
  private stopped = false;
  private readonly counters = feedCounters();

  constructor(options: TripFeedOptions) {
    this.db = options.db;
    this.config = options.config;
    this.stream = options.stream;
    this.logger = options.logger;
    this.activity = new ActivitySignal(options.onActivityChange);
    this.loop = new TickLoop({
      logger: this.logger,
      run: () => this.runTick(),
      busy: () => this.size > 0,
      urgent: () => this.pending.size > 0,
      pollIntervalMs: () => this.config.pollIntervalMs,
      counters: this.counters,
    });
  }

  /**
   * A new subscription. Arguments are checked here, synchronously, so bad ones
   * fail the subscribe call (an error event) before anything is registered.
   */
  subscribe(args: SubscribeArgs): AsyncIterableIterator<TripStreamEvent> {
    const filter = parseTripFilter(args.filter, 'filter');
    const resumeFrom =
      args.after == null ? undefined : decodeStreamCursor(args.afterFrom ?? 'after', args.after, this.stream);
    if (this.stopped) {
      throw gatewayError('SHUTTING_DOWN', 'tripsAdded: the gateway is shutting down; subscribe again in a moment');
    }
    if (this.size >= this.config.maxSubscribers) {
      throw gatewayError(
        'TOO_MANY_SUBSCRIBERS',
        `tripsAdded: this gateway already streams to ${this.config.maxSubscribers} subscribers; try again later`,
      );
    }
    const subscriber = new TripSubscriber({
      filter,
      matches: compileTripMatcher(filter),
      resumeFrom,
      resumeCursor: args.after ?? undefined,
      bufferRows: this.config.subscriberBufferRows,
      eventMaxRows: this.config.eventMaxRows,
      encodeCursor: (position) => encodeStreamCursor(this.stream, position),
      release: (released) => this.release(released),
      counters: this.counters,
    });
    this.pending.add(subscriber);
    this.activity.update(true);
    // Starts at a position read after this call, i.e. the newest row present at subscribe time.
    this.wake('subscribe');
    return subscriber;
  }

  /**
   * Runs a tick now (coalesced with one in flight). Call it whenever new rows
   * may have arrived: NOTIFY from the sync pipeline, a changed sync status.
   */
  wake(reason = 'wake'): void {
    this.loop.wake(reason);
  }

  /** Ends every stream with a terminal error carrying its resume cursor, and stops ticking. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop.stop();
    const everyone = [...this.pending, ...this.catchingUp, ...this.groups.subscribers()];
    for (const subscriber of everyone) {
      const cursor = subscriber.resumeCursor;
      subscriber.terminate(
        gatewayError(
          'SHUTTING_DOWN',
          `tripsAdded: the gateway is shutting down; ${cursor ? `resubscribe with after: "${cursor}"` : 'resubscribe'} to continue without losing a row`,
          { cursor: cursor ?? null },
        ),
      );
    }
  }

  stats(): TripFeedStats {
    let queuedRows = 0;
    for (const s of this.groups.subscribers()) queuedRows += s.queuedRows;
    for (const s of this.catchingUp) queuedRows += s.queuedRows;
    return {
      pending: this.pending.size,
      catchingUp: this.catchingUp.size,
      live: this.groups.live,
      filterGroups: this.groups.size,
      queuedRows,
      ...this.counters,
      position: this.position === undefined || this.position === null ? null : this.position.toString(),
    };
  }

  /** Subscribers of every state (the tick loop's and the database activity's "anyone subscribed"). */
  get size(): number {
    return this.pending.size + this.catchingUp.size + this.groups.live;
  }

  private async runTick(): Promise<void> {
    // Only subscribers that arrived before this tick's first statement start at
    // its end position: that statement ran after they subscribed.
    const starting = [...this.pending];
    this.pending.clear();
    try {
      await this.advance();
    } catch (error) {
      for (const subscriber of starting) if (subscriber.state === 'pending') this.pending.add(subscriber);
      throw error;
    }
    for (const subscriber of starting) if (subscriber.state === 'pending') this.activate(subscriber);
  }

  private backoffMs(failures: number): number {
    return Math.min(MAX_BACKOFF_MS, 100 * 2 ** Math.min(failures, 10));
  }

  /** Moves the feed position to the end of the table, handing every row on the way to subscribers. */
  private async advance(): Promise<void> {
    if (this.position === undefined || (this.groups.live === 0 && this.catchingUp.size === 0)) {
      // Nobody follows the feed: jump to the end instead of reading rows nobody wants.
      const newest = await this.counted('feed', () => readNewestTripId(this.db));
      this.position = this.position === undefined ? newest : laterOf(this.position, newest);
      return;
    }
    for (;;) {
      const position: FeedPosition = this.position;
      const rows: MatchableTripRow[] = await this.counted('feed', () =>
        readTripsAfter(this.db, position, this.config.feedBatchRows),
      );
      if (rows.length > 0) {
        this.position = BigInt(rows[rows.length - 1]!.id);
        await this.deliver(rows, this.position);
      }
      if (rows.length < this.config.feedBatchRows || this.stopped) return;
    }
  }

  /**
   * Hands a page of rows to every subscriber: each catching-up one its own
   * filtered rows, the live ones through FilterGroups.fanOut (in slices, one
   * set of chunks per filter). Subscribers that join or catch up meanwhile are
   * covered by their position (a chunk up to it is ignored).
   */
  private async deliver(rows: readonly MatchableTripRow[], upTo: FeedPosition): Promise<void> {
    for (const subscriber of this.catchingUp) subscriber.offer({ rows: rows.filter(subscriber.matches), upTo });
    await this.groups.fanOut(
      (group) => this.sharedChunks(group.matches ? rows.filter(group.matches) : rows, upTo),
      (subscriber, chunks) => {
        for (const chunk of chunks) subscriber.offer(chunk);
      },
    );
  }

  /** Splits a group's rows into event-sized chunks, so that every subscriber can send each one as is. */
  private sharedChunks(rows: readonly MatchableTripRow[], upTo: FeedPosition): FeedChunk[] {
    const size = this.config.eventMaxRows;
    if (rows.length <= size) return [{ rows, upTo, shared: true }];
    const chunks: FeedChunk[] = [];
    for (let start = 0; start < rows.length; start += size) {
      const piece = rows.slice(start, start + size);
      const last = start + size >= rows.length;
      chunks.push({ rows: piece, upTo: last ? upTo : BigInt(piece[piece.length - 1]!.id), shared: true });
    }
    return chunks;
  }

  private activate(subscriber: TripSubscriber): void {
    const position = this.position ?? null;
    if (subscriber.resumeFrom === undefined) {
      subscriber.startLive(position);
      this.groups.add(subscriber);
      return;
    }
    subscriber.startCatchUp(position);
    this.catchingUp.add(subscriber);
    void this.catchUp(subscriber);
  }

  /**
   * Pages from the subscriber's cursor to its catch-up target (the feed's
   * position when it started; moved further if the rows the feed delivered
   * meanwhile overflow), one page at a time as the client reads, then joins the
   * feed. The check "reached the target" and joining happen in one synchronous
   * step, so no feed delivery can fall between them: no gap, and overlaps are
   * dropped by id.
   */
  private async catchUp(subscriber: TripSubscriber): Promise<void> {
    let failures = 0;
    // stop() ends catching-up subscribers too, which ends this loop.
    while (subscriber.state === 'catching-up') {
      const target = subscriber.catchUpTarget;
      if (target === null || (subscriber.position !== null && subscriber.position >= target)) {
        this.catchingUp.delete(subscriber);
        subscriber.goLive();
        this.groups.add(subscriber);
        return;
      }
      await subscriber.waitForRoom();
      if (subscriber.state !== 'catching-up') break;
      const from = subscriber.position;
      const limit = this.config.feedBatchRows;
      let rows: MatchableTripRow[];
      try {
        rows = await this.catchUpPage(subscriber, from, target, limit);
        failures = 0;
      } catch (error) {
        failures += 1;
        this.counters.failedStatements += 1;
        this.logger.warn('live catch-up query failed; retrying', {
          attempt: failures,
          error: describeError(error),
        });
        await sleep(this.backoffMs(failures));
        continue;
      }
      if (subscriber.state !== 'catching-up') break;
      subscriber.acceptCatchUp(rows, rows.length < limit ? target : BigInt(rows[rows.length - 1]!.id));
    }
    this.catchingUp.delete(subscriber);
  }

  /**
   * One catch-up page, shared by every subscriber asking for the same one at
   * the same time: after a restart or a network blip, clients reconnect
   * together with the same cursor (the last batch they all got), and their
   * catch-up then costs one statement per page, not one per client.
   */
  private catchUpPage(
    subscriber: TripSubscriber,
    from: FeedPosition,
    target: bigint,
    limit: number,
  ): Promise<MatchableTripRow[]> {
    const key = `${subscriber.filterKey}\u0000${String(from)}\u0000${target}\u0000${limit}`;
    let page = this.pagesInFlight.get(key);
    if (!page) {
      page = this.counted('catch-up', () => readMatchingTripsBetween(this.db, subscriber.filter, from, target, limit));
      this.pagesInFlight.set(key, page);
      const forget = () => this.pagesInFlight.delete(key);
      page.then(forget, forget);
    }
    return page;
  }

  private release(subscriber: TripSubscriber): void {
    this.pending.delete(subscriber);
    this.catchingUp.delete(subscriber);
    this.groups.delete(subscriber);
    this.loop.idle();
    this.activity.update(this.size > 0);
  }

  private async counted<T>(kind: 'feed' | 'catch-up', run: () => Promise<T>): Promise<T> {
    this.counters[kind === 'feed' ? 'feedStatements' : 'catchUpStatements'] += 1;
    return run();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
