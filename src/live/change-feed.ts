import { GraphQLError } from 'graphql';
import { gatewayError, UserInputError } from '../errors.js';
import type { LiveConfig } from '../config/live.js';
import type { Db } from '../db/database.js';
import { isDataException } from '../db/sql-state.js';
import type { TripRow } from '../db/tables.js';
import type { Logger } from '../logger.js';
import { parseTripFilter } from '../trips/parse-filter.js';
import { compileTripMatcher, type MatchableTripRow, type TripMatcher } from '../trips/match-filter.js';
import { decodeChangeCursor, encodeChangeCursor, RECOVER_HINT } from './capture/cursor.js';
import {
  atSnapshot,
  positionKey,
  positionSees,
  positionSeq,
  positionXmin,
  type ChangePosition,
} from './capture/position.js';
import {
  positionAccepted,
  readNetChanges,
  type CaptureRelations,
  type NetChange,
  type PositionRequest,
} from './capture/queries.js';
import { closeWindow, openWindow, readWindowPage, type CatchUpWindow } from './capture/windows.js';
import {
  ChangeSubscriber,
  type ChangeChunk,
  type ChangeStreamEvent,
  type StreamKind,
  type TripChangeEvent,
} from './change-subscriber.js';
import { ActivitySignal, FilterGroups, type FilterGroup } from './filter-groups.js';
import type { SubscribeArgs } from './subscribe-args.js';
import { CURSOR_EXPIRED } from './stream-cursor.js';
import { feedCounters, TickLoop } from './tick-loop.js';

export interface ChangeFeedOptions {
  db: Db;
  config: LiveConfig;
  relations: CaptureRelations;
  /** streamIdentity() of the synced table; written into every cursor. */
  stream: string;
  logger: Logger;
  onActivityChange?: (active: boolean) => void;
  /** Puts the capture back after the table was replaced or its triggers changed (installCapture). */
  repair: () => Promise<void>;
  /**
   * Whether every writing commit wakes the feed now (its triggers NOTIFY, and LISTEN is connected):
   * then the poll is only a safety net (LIVE_NOTIFIED_POLL_INTERVAL_MS). Call wake() when it stops
   * being true, so the next tick is not an hour away.
   */
  wakeUpsReliable?: () => boolean;
}

interface Group extends FilterGroup<ChangeSubscriber> {
  kind: StreamKind;
  matches: TripMatcher | null;
}

/**
 * The exact change feed of this process (capture by trigger, see
 * docs/subscriptions.md). Each tick runs ONE statement (readNetChanges) for
 * the feed's own position and the positions of every subscriber still
 * catching up, all in one snapshot; it repeats only while a page came back
 * full. Filters are applied in memory, once per distinct (stream, filter).
 * Catching-up subscribers take part in a tick only while they have room in
 * their queue, so a long catch-up is paced by the client; once a page brings
 * one to the feed's position, it follows the feed.
 */
export class ChangeFeed {
  private readonly db: Db;
  private readonly config: LiveConfig;
  private readonly relations: CaptureRelations;
  private readonly stream: string;
  private readonly logger: Logger;
  private readonly activity: ActivitySignal;
  private readonly repair: () => Promise<void>;
  private readonly wakeUpsReliable: () => boolean;

  private position: ChangePosition | undefined;
  private horizon: bigint | null = null;
  /** The transaction that last put the capture back, as the last read found it (ChangeRead.recapturedXid). */
  private recapturedXid: bigint | null = null;
  /** The capture identity the last read found recorded (ChangeRead.epoch); undefined before the first read. */
  private epoch: string | null | undefined;
  private readonly pending = new Set<ChangeSubscriber>();
  private readonly joining = new Set<ChangeSubscriber>();
  private readonly groups = new FilterGroups<ChangeSubscriber, Group>((first) => ({
    kind: first.kind,
    matches: first.filter.root ? first.matches : null,
    subscribers: new Set(),
  }));
  /** Catch-up windows (capture/windows.ts) of subscribers far behind, and how many subscribers use each. */
  private readonly windows = new Map<ChangeSubscriber, CatchUpWindow>();
  private readonly windowUsers = new Map<string, number>();
  /** Subscribers whose last page came back full: their next page comes from a new window. */
  private readonly wantWindow = new Set<ChangeSubscriber>();
  private feedWindow: CatchUpWindow | undefined;
  private feedWantsWindow = false;
  private feedFullPages = 0;

  private readonly loop: TickLoop;
  private stopped = false;
  private readonly counters = {
    ...feedCounters(),
    /** Catch-up windows computed (capture/windows.ts), the feed's own included. */
    windowsOpened: 0,
  };

  constructor(options: ChangeFeedOptions) {
    this.db = options.db;
    this.config = options.config;
    this.relations = options.relations;
    this.stream = options.stream;
    this.logger = options.logger;
    this.activity = new ActivitySignal(options.onActivityChange);
    this.repair = options.repair;
    this.wakeUpsReliable = options.wakeUpsReliable ?? (() => false);
    this.loop = new TickLoop({
      logger: this.logger,
      run: () => this.runTick(),
      busy: () => this.size > 0,
      urgent: () => this.pending.size > 0,
      pollIntervalMs: () => this.pollIntervalMs,
      counters: this.counters,
    });
  }

  subscribe(kind: StreamKind, args: SubscribeArgs): AsyncIterableIterator<ChangeStreamEvent> {
    const field = kind === 'added' ? 'tripsAdded' : 'tripChanges';
    // Parsed once (trips/parse-filter.ts): the matcher and the group key come from one validated form.
    const filter = parseTripFilter(args.filter, 'filter');
    const afterFrom = args.afterFrom ?? 'after';
    const resumeFrom = args.after == null ? undefined : decodeChangeCursor(afterFrom, args.after, this.stream);
    // Checked again where it reads (the catching-up path): a recapture since the last read is not known here.
    if (resumeFrom !== undefined && (this.belowHorizon(resumeFrom) || this.beforeRecapture(resumeFrom))) {
      throw expired(afterFrom);
    }
    if (this.stopped) {
      throw gatewayError('SHUTTING_DOWN', `${field}: the gateway is shutting down; subscribe again in a moment`);
    }
    if (this.size >= this.config.maxSubscribers) {
      throw gatewayError(
        'TOO_MANY_SUBSCRIBERS',
        `${field}: this gateway already streams to ${this.config.maxSubscribers} subscribers; try again later`,
      );
    }
    const subscriber = new ChangeSubscriber({
      kind,
      field,
      filter,
      filterKey: `${kind}\u0000${filter.key}`,
      matches: compileTripMatcher(filter),
      resumeFrom,
      resumeCursor: args.after ?? undefined,
      afterFrom,
      bufferRows: this.config.subscriberBufferRows,
      eventMaxRows: this.config.eventMaxRows,
      encodeCursor: (position) => encodeChangeCursor(this.stream, position),
      release: (released) => this.release(released),
      onRoom: () => this.wake('catch-up room'),
      counters: this.counters,
    });
    this.pending.add(subscriber);
    this.activity.update(true);
    this.wake('subscribe');
    return subscriber;
  }

  /** The cursor of a snapshot (TripConnection.streamCursor). */
  cursorAt(snapshot: string): string {
    return encodeChangeCursor(this.stream, atSnapshot(snapshot));
  }

  wake(reason = 'wake'): void {
    this.loop.wake(reason);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop.stop();
    this.dropFeedWindow();
    const everyone = [...this.pending, ...this.joining, ...this.groups.subscribers()];
    for (const subscriber of everyone) {
      const cursor = subscriber.resumeCursor;
      const field = subscriber.kind === 'added' ? 'tripsAdded' : 'tripChanges';
      subscriber.terminate(
        gatewayError(
          'SHUTTING_DOWN',
          `${field}: the gateway is shutting down; ${cursor ? `resubscribe with after: "${cursor}"` : 'resubscribe'} to continue without losing a change`,
          { cursor: cursor ?? null },
        ),
      );
    }
  }

  stats() {
    let queuedRows = 0;
    for (const s of this.groups.subscribers()) queuedRows += s.queuedRows;
    for (const s of this.joining) queuedRows += s.queuedRows;
    return {
      mechanism: 'trigger' as const,
      pollIntervalMs: this.pollIntervalMs,
      pending: this.pending.size,
      catchingUp: this.joining.size,
      live: this.groups.live,
      filterGroups: this.groups.size,
      catchUpWindows: this.windowUsers.size + (this.feedWindow ? 1 : 0),
      queuedRows,
      ...this.counters,
      // A snapshot, not a number: metrics read null (the cursor below says where the feed is).
      position: null,
      cursor: this.position === undefined ? null : encodeChangeCursor(this.stream, this.position),
    };
  }

  /** Subscribers of every state (the tick loop's and the database activity's "anyone subscribed"). */
  get size(): number {
    return this.pending.size + this.joining.size + this.groups.live;
  }

  /** One tick: steps while a page came back full (or a catching-up subscriber with room has more). */
  private async runTick(): Promise<void> {
    for (;;) {
      try {
        while (!this.stopped && (await this.step()));
        return;
      } catch (error) {
        // A position the database refuses must fail the subscriber who sent it, not the statement every
        // subscriber shares (and so every tick): decodeChangeCursor follows Postgres' parser, and this is
        // the net under it.
        if (!isDataException(error) || !(await this.dropRefusedPositions())) throw error;
      }
    }
  }

  /** Ends the catching-up subscribers whose position the database refuses; returns whether there were any. */
  private async dropRefusedPositions(): Promise<boolean> {
    let dropped = false;
    // One check per distinct position: subscribers resuming from one cursor share it.
    const accepted = new Map<string, boolean>();
    for (const subscriber of [...this.joining]) {
      if (subscriber.state !== 'joining' || subscriber.position === undefined) continue;
      const key = positionKey(subscriber.position);
      let ok = accepted.get(key);
      if (ok === undefined) {
        ok = await positionAccepted(this.db, subscriber.position);
        accepted.set(key, ok);
      }
      if (ok) continue;
      this.logger.warn('a live cursor names a position the database refuses; that subscriber is ended', {
        argument: subscriber.afterFrom,
      });
      subscriber.terminate(refusedCursor(subscriber.afterFrom));
      this.release(subscriber);
      dropped = true;
    }
    return dropped;
  }

  /** The poll in force: a rare safety net while NOTIFY wakes the feed at every commit, else the configured poll. */
  private get pollIntervalMs(): number {
    const { pollIntervalMs, notifiedPollIntervalMs } = this.config;
    return this.wakeUpsReliable() ? Math.max(pollIntervalMs, notifiedPollIntervalMs) : pollIntervalMs;
  }

  /**
   * One shared statement (plus a keyset read per catch-up window in use); returns whether another
   * step should follow at once.
   */
  private async step(): Promise<boolean> {
    const starting = [...this.pending];
    this.pending.clear();
    for (const subscriber of starting) {
      if (subscriber.state !== 'pending') continue;
      if (subscriber.resumeFrom === undefined) continue;
      subscriber.startJoining(subscriber.resumeFrom);
      this.joining.add(subscriber);
    }
    const newcomers = starting.filter((s) => s.state === 'pending');

    const limit = this.config.feedBatchRows;
    // Catch-up pages as large as half the buffer (the room a subscriber needs to take part).
    const catchUpLimit = Math.max(limit, Math.floor(this.config.subscriberBufferRows / 2));
    const requests: PositionRequest[] = [];
    const following = this.position !== undefined && this.groups.live > 0;
    // The feed reads its own position in the shared statement unless it is far behind (its window).
    const feedInStatement = following && !this.feedWindow && !this.feedWantsWindow;
    if (feedInStatement) requests.push({ position: this.position!, limit });
    const byPosition = new Map<string, { index: number; subscribers: ChangeSubscriber[] }>();
    /** Subscribers far behind, reading their window's pages, grouped by window and position. */
    const windowed = new Map<
      string,
      { window: CatchUpWindow; from: ChangePosition; subscribers: ChangeSubscriber[] }
    >();
    const toOpen = new Map<string, { from: ChangePosition; subscribers: ChangeSubscriber[] }>();
    for (const subscriber of this.joining) {
      if (!subscriber.hasRoom || subscriber.position === undefined) continue;
      const key = positionKey(subscriber.position);
      const window = this.windows.get(subscriber);
      if (window) {
        const group = `${window.id}|${key}`;
        const entry = windowed.get(group) ?? { window, from: subscriber.position, subscribers: [] };
        entry.subscribers.push(subscriber);
        windowed.set(group, entry);
        continue;
      }
      if (this.wantWindow.has(subscriber)) {
        const entry = toOpen.get(key) ?? { from: subscriber.position, subscribers: [] };
        entry.subscribers.push(subscriber);
        toOpen.set(key, entry);
        continue;
      }
      let entry = byPosition.get(key);
      if (!entry) {
        entry = { index: requests.length, subscribers: [] };
        requests.push({ position: subscriber.position, limit: catchUpLimit });
        byPosition.set(key, entry);
      }
      entry.subscribers.push(subscriber);
    }
    let read;
    try {
      this.counters.feedStatements += 1;
      if (byPosition.size > 0) this.counters.catchUpStatements += 1;
      read = await readNetChanges(this.db, this.relations, requests);
    } catch (error) {
      for (const subscriber of newcomers) if (subscriber.state === 'pending') this.pending.add(subscriber);
      throw error;
    }
    this.horizon = read.horizon;
    if (!read.intact) {
      // The table was replaced (a refresh that swaps in a new table) or a trigger was
      // dropped or disabled: changes may have gone unrecorded, so no position is exact
      // any more. Every stream ends with the way to recover; new ones start after the repair.
      // Repaired first: a client that re-reads on the error then gets a position past the repair.
      for (const subscriber of newcomers) if (subscriber.state === 'pending') this.pending.add(subscriber);
      await this.repair();
      this.epoch = undefined;
      const lost = [...this.joining, ...this.groups.subscribers()];
      for (const subscriber of lost) subscriber.terminate(captureLost());
      this.dropFeedWindow();
      this.position = undefined;
      return this.pending.size > 0;
    }
    // The streams that follow the feed may have lost changes, which used to go unnoticed, when another
    // gateway sharing this change record put the capture back since the feed's position (a trigger disabled
    // for a while, the gateway schema recreated; this read then finds it intact again), or when retention
    // deleted a change newer than the feed's stamp saw (a gateway paused past the shortest retention). The
    // pruner also passes a feed that merely sat idle between two polls, with nothing lost: its streams go on.
    // Catching-up subscribers are checked where they read.
    // The identity changed since the last read: the capture was put back after the feed's position. The same
    // as beforeRecapture, and also when a gateway of a version before recaptured_xid put it back.
    const epochChanged = this.epoch !== undefined && read.epoch !== this.epoch;
    this.epoch = read.epoch;
    this.recapturedXid = read.recapturedXid;
    const recaptured = following && (epochChanged || this.beforeRecapture(this.position!));
    const behind = following && this.belowHorizon(this.position!);
    const seen = behind ? positionSeq(this.position!) : null;
    if (recaptured || (behind && (seen === null || read.prunedSeq > seen))) {
      const lost = recaptured ? captureLost() : fellBehind();
      for (const subscriber of newcomers) if (subscriber.state === 'pending') this.pending.add(subscriber);
      for (const subscriber of this.groups.subscribers()) subscriber.terminate(lost);
      this.dropFeedWindow();
      this.position = undefined;
      return true;
    }
    let again = false;

    // The feed itself.
    const previous = this.position;
    if (feedInStatement) {
      const next = read.positions[0]!;
      this.position = next;
      await this.deliver(read.changes[0]!, previous!, next);
      if (read.more[0]) {
        again = true;
        // Full pages in a row: the rest of a long gap (one huge sync) comes from a window, not from a
        // rescan of the gap for every page. One full page (a sync a little over a page) reads on.
        this.feedFullPages += 1;
        if (this.feedFullPages >= 2) this.feedWantsWindow = true;
      } else {
        this.feedFullPages = 0;
      }
    } else if (following) {
      again = await this.feedFromWindow();
    } else {
      // Nobody follows: jump to the end instead of reading changes nobody wants.
      this.dropFeedWindow();
      this.position = atSnapshot(read.snapshot);
    }
    const feedKey = positionKey(this.position!);

    // Subscribers catching up: their page, then the feed once they reach its position.
    for (const { index, subscribers } of byPosition.values()) {
      const from = requests[index]!.position;
      const to = read.positions[index]!;
      for (const subscriber of subscribers) {
        if (!this.stillJoining(subscriber, from)) continue;
        const items = viewOf(subscriber.kind, subscriber.matches, read.changes[index]!);
        subscriber.offer({ ...items, from, to }, false);
        if (positionKey(to) === feedKey) this.goLive(subscriber);
        else if (subscriber.hasRoom) again = true;
        // Far behind: its next pages come from a window (computed once), not from a rescan of its gap each.
        if (read.more[index] && subscriber.state === 'joining') this.wantWindow.add(subscriber);
      }
    }
    for (const { window, from, subscribers } of windowed.values()) {
      const live = subscribers.filter((subscriber) => this.stillJoining(subscriber, from));
      if (live.length === 0) continue;
      this.counters.catchUpStatements += 1;
      const page = await readWindowPage(this.db, this.relations, window, from, catchUpLimit);
      if (page === null) {
        // Swept (or emptied by a crash): a new window from where they are.
        for (const subscriber of live) this.leaveWindow(subscriber, true);
        again = true;
        continue;
      }
      for (const subscriber of live) {
        const items = viewOf(subscriber.kind, subscriber.matches, page.changes);
        subscriber.offer({ ...items, from, to: page.position }, false);
        if (!page.more) this.leaveWindow(subscriber, false);
        if (positionKey(page.position) === feedKey) this.goLive(subscriber);
        else if (subscriber.hasRoom) again = true;
      }
    }
    for (const { from, subscribers } of toOpen.values()) {
      const live = subscribers.filter((subscriber) => this.stillJoining(subscriber, from));
      if (live.length === 0) continue;
      this.counters.catchUpStatements += 1;
      const window = await openWindow(this.db, this.relations, from);
      this.counters.windowsOpened += 1;
      this.logger.debug('live catch-up window opened', { rows: window.rows, subscribers: live.length });
      this.windowUsers.set(window.id, live.length);
      for (const subscriber of live) {
        this.wantWindow.delete(subscriber);
        this.windows.set(subscriber, window);
      }
      again = true;
    }
    for (const subscriber of newcomers) {
      if (subscriber.state !== 'pending') continue;
      const start = atSnapshot(read.snapshot);
      if (positionKey(start) === feedKey) {
        subscriber.startLive(start);
        this.groups.add(subscriber);
      } else {
        subscriber.startJoining(start);
        this.joining.add(subscriber);
        again = true;
      }
    }
    return again;
  }

  /**
   * Still catching up from `from`; ended with CURSOR_EXPIRED when the capture was put back since `from` or
   * retention dropped changes it needs.
   */
  private stillJoining(subscriber: ChangeSubscriber, from: ChangePosition): boolean {
    if (subscriber.state !== 'joining') return false;
    if (this.beforeRecapture(from)) {
      subscriber.terminate(captureLost());
      return false;
    }
    if (this.belowHorizon(from)) {
      subscriber.terminate(expired(subscriber.afterFrom, 'catching up'));
      return false;
    }
    return true;
  }

  /** Whether retention (or a recapture) moved the horizon past transactions `position` may still need. */
  private belowHorizon(position: ChangePosition): boolean {
    return this.horizon !== null && positionXmin(position) < this.horizon;
  }

  /** Whether `position` was taken before the capture was last put back: writes in between may be missing. */
  private beforeRecapture(position: ChangePosition): boolean {
    return this.recapturedXid !== null && !positionSees(position, this.recapturedXid);
  }

  /** The feed's next page from its window (opened first when it has none); returns whether to step again. */
  private async feedFromWindow(): Promise<boolean> {
    const previous = this.position!;
    if (!this.feedWindow) {
      this.counters.feedStatements += 1;
      this.feedWindow = await openWindow(this.db, this.relations, previous);
      this.counters.windowsOpened += 1;
      this.feedWantsWindow = false;
      this.logger.debug('live feed window opened', { rows: this.feedWindow.rows });
    }
    this.counters.feedStatements += 1;
    const page = await readWindowPage(this.db, this.relations, this.feedWindow, previous, this.config.feedBatchRows);
    if (page === null) {
      this.feedWindow = undefined;
      this.feedWantsWindow = true;
      return true;
    }
    this.position = page.position;
    await this.deliver(page.changes, previous, page.position);
    if (!page.more) this.dropFeedWindow();
    // After the last page, one more step reads what committed since the window's snapshot.
    return true;
  }

  private dropFeedWindow(): void {
    const window = this.feedWindow;
    this.feedWindow = undefined;
    this.feedWantsWindow = false;
    this.feedFullPages = 0;
    if (window) this.close(window);
  }

  /** The subscriber stops reading its window (done, gone, or the window vanished: then it wants a new one). */
  private leaveWindow(subscriber: ChangeSubscriber, wantAnother: boolean): void {
    this.wantWindow.delete(subscriber);
    if (wantAnother && subscriber.state === 'joining') this.wantWindow.add(subscriber);
    const window = this.windows.get(subscriber);
    if (!window) return;
    this.windows.delete(subscriber);
    const users = (this.windowUsers.get(window.id) ?? 1) - 1;
    if (users > 0) {
      this.windowUsers.set(window.id, users);
      return;
    }
    this.windowUsers.delete(window.id);
    this.close(window);
  }

  private close(window: CatchUpWindow): void {
    closeWindow(this.db, this.relations, window).catch((error: unknown) =>
      this.logger.warn('cannot drop a catch-up window; retention sweeps it later', {
        error: (error as Error).message,
      }),
    );
  }

  private goLive(subscriber: ChangeSubscriber): void {
    this.joining.delete(subscriber);
    this.leaveWindow(subscriber, false);
    subscriber.startLive(this.position!);
    this.groups.add(subscriber);
  }

  /** Hands a read's changes to every live subscriber (FilterGroups.fanOut: in slices, one view per filter). */
  private async deliver(changes: readonly NetChange[], from: ChangePosition, to: ChangePosition): Promise<void> {
    await this.groups.fanOut(
      (group): ChangeChunk => ({ ...viewOf(group.kind, group.matches, changes), from, to, shared: true }),
      (subscriber, chunk) => subscriber.offer(chunk, true),
    );
  }

  private release(subscriber: ChangeSubscriber): void {
    this.pending.delete(subscriber);
    this.joining.delete(subscriber);
    this.leaveWindow(subscriber, false);
    this.groups.delete(subscriber);
    this.loop.idle();
    this.activity.update(this.size > 0);
  }
}

/**
 * A read's net changes as one subscriber's view (docs/subscriptions.md,
 * "Filtered streams"): a row that enters the filter is an INSERT, one that
 * leaves it a DELETE, a change inside it an UPDATE. tripsAdded carries the
 * rows that appeared (inserted, or deleted and inserted again) inside it.
 */
export function viewOf(
  kind: StreamKind,
  matches: TripMatcher | null,
  changes: readonly NetChange[],
): { items: (TripRow | TripChangeEvent)[]; ids: bigint[] } {
  const test = (row: MatchableTripRow | null) => row !== null && (matches === null || matches(row));
  const items: (TripRow | TripChangeEvent)[] = [];
  const ids: bigint[] = [];
  for (const change of changes) {
    const after = test(change.after);
    if (kind === 'added') {
      if (after && (change.before === null || change.reinserted)) {
        items.push(change.after!);
        ids.push(BigInt(change.id));
      }
      continue;
    }
    const before = test(change.before);
    if (!before && !after) continue;
    const event: TripChangeEvent = !before
      ? { kind: 'INSERT', tripId: change.id, trip: change.after }
      : !after
        ? { kind: 'DELETE', tripId: change.id, trip: null }
        : { kind: 'UPDATE', tripId: change.id, trip: change.after };
    items.push(event);
    ids.push(BigInt(change.id));
  }
  return { items, ids };
}

/**
 * `catching up`: the cursor was valid when the subscription started, but the stream, still catching up from
 * it, fell behind what the change record keeps (retention is applied by every gateway sharing the gateway
 * schema, so the shortest LIVE_CHANGE_RETENTION_SECONDS among them is the one that counts).
 */
function expired(argument: string, when: 'at start' | 'catching up' = 'at start'): GraphQLError {
  // The horizon moves up for two reasons: retention, and the capture put back on the table (by any gateway).
  const why =
    '(older than LIVE_CHANGE_RETENTION_SECONDS, the shortest among gateways sharing GATEWAY_SCHEMA, or the ' +
    'change capture was put back on the table since: a trigger disabled for a while, a table replaced)';
  const what =
    when === 'at start'
      ? `the change record no longer reaches back to this cursor ${why}`
      : `while this stream was catching up, the change record dropped changes it still needed ${why}`;
  return new GraphQLError(`${argument}: ${what}; ${RECOVER_HINT}`, { extensions: { code: CURSOR_EXPIRED, argument } });
}

function refusedCursor(argument: string): GraphQLError {
  return new UserInputError(
    argument,
    `is not a valid stream cursor (the database cannot read its position); ${RECOVER_HINT}`,
  );
}

function fellBehind(): GraphQLError {
  return new GraphQLError(
    'this gateway fell behind the change record by more than LIVE_CHANGE_RETENTION_SECONDS (the shortest among ' +
      'gateways sharing GATEWAY_SCHEMA), and changes this stream had not delivered were dropped; ' +
      RECOVER_HINT,
    { extensions: { code: CURSOR_EXPIRED } },
  );
}

function captureLost(): GraphQLError {
  return new GraphQLError(
    'the synced table was replaced, or its change capture was dropped or disabled for a while: the changes in ' +
      `between are unknown, so this stream cannot continue exactly; ${RECOVER_HINT}`,
    { extensions: { code: CURSOR_EXPIRED } },
  );
}
