import type { GraphQLError } from 'graphql';
import { gatewayError } from '../errors.js';
import type { LiveConfig } from '../config/live.js';
import type { Db } from '../db/database.js';
import { isDataException } from '../db/sql-state.js';
import type { Logger } from '../logger.js';
import { parseTripFilter } from '../trips/parse-filter.js';
import { compileTripMatcher, type TripMatcher } from '../trips/match-filter.js';
import { decodeChangeCursor, encodeChangeCursor } from './capture/cursor.js';
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
  type ChangeRead,
  type NetChange,
  type PositionRequest,
} from './capture/queries.js';
import { closeWindow, openWindow, readWindowPage, type CatchUpWindow } from './capture/windows.js';
import { ChangeSubscriber, type ChangeChunk, type ChangeStreamEvent, type StreamKind } from './change-subscriber.js';
import { captureLost, cursorExpired, cursorRefused, feedFellBehind } from './change-errors.js';
import { viewOf } from './change-view.js';
import { ActivitySignal, FilterGroups, type FilterGroup } from './filter-groups.js';
import type { SubscribeArgs } from './subscribe-args.js';
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

/** Who takes part in one step, and where each catching-up subscriber's next page comes from. */
interface StepPlan {
  /** Subscribers without a cursor, placed at the statement's snapshot once it is read. */
  newcomers: ChangeSubscriber[];
  /** The shared statement's positions: the feed's first when feedInStatement, then one per catch-up position. */
  requests: PositionRequest[];
  /** The feed has a position and live subscribers to deliver to. */
  following: boolean;
  feedInStatement: boolean;
  catchUpLimit: number;
  /** Catching up in the shared statement, by position: the index of their request. */
  byPosition: Map<string, { index: number; subscribers: ChangeSubscriber[] }>;
  /** Far behind, reading their window's pages, by window and position. */
  windowed: Map<string, { window: CatchUpWindow; from: ChangePosition; subscribers: ChangeSubscriber[] }>;
  /** Their last page came back full: a window is opened for them, by position. */
  toOpen: Map<string, { from: ChangePosition; subscribers: ChangeSubscriber[] }>;
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
      throw cursorExpired(afterFrom);
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
      subscriber.terminate(cursorRefused(subscriber.afterFrom));
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
    const plan = this.planStep();
    let read: ChangeRead;
    try {
      this.counters.feedStatements += 1;
      if (plan.byPosition.size > 0) this.counters.catchUpStatements += 1;
      read = await readNetChanges(this.db, this.relations, plan.requests);
    } catch (error) {
      this.requeue(plan.newcomers);
      throw error;
    }
    this.horizon = read.horizon;
    if (!read.intact) return this.restartAfterRepair(plan);
    const lost = this.followersLost(plan, read);
    if (lost) {
      this.requeue(plan.newcomers);
      for (const subscriber of this.groups.subscribers()) subscriber.terminate(lost);
      this.dropFeedWindow();
      this.position = undefined;
      return true;
    }
    // Each phase runs whatever the others answered: the step repeats if any of them wants it.
    const again = [await this.advanceFeed(plan, read)];
    const feedKey = positionKey(this.position!);
    again.push(this.offerCatchUpPages(plan, read, feedKey));
    again.push(await this.offerWindowPages(plan, feedKey));
    again.push(await this.openWindows(plan));
    again.push(this.placeNewcomers(plan, read, feedKey));
    return again.includes(true);
  }

  /**
   * Who takes part in this step and how: newcomers with a cursor start catching up, and every catching-up
   * subscriber with room is grouped by where its next page comes from (the shared statement, a window, or
   * a window to open).
   */
  private planStep(): StepPlan {
    const starting = [...this.pending];
    this.pending.clear();
    for (const subscriber of starting) {
      if (subscriber.state !== 'pending') continue;
      if (subscriber.resumeFrom === undefined) continue;
      subscriber.startJoining(subscriber.resumeFrom);
      this.joining.add(subscriber);
    }
    const limit = this.config.feedBatchRows;
    const following = this.position !== undefined && this.groups.live > 0;
    const plan: StepPlan = {
      newcomers: starting.filter((s) => s.state === 'pending'),
      requests: [],
      following,
      // The feed reads its own position in the shared statement unless it is far behind (its window).
      feedInStatement: following && !this.feedWindow && !this.feedWantsWindow,
      // Catch-up pages as large as half the buffer (the room a subscriber needs to take part).
      catchUpLimit: Math.max(limit, Math.floor(this.config.subscriberBufferRows / 2)),
      byPosition: new Map(),
      windowed: new Map(),
      toOpen: new Map(),
    };
    if (plan.feedInStatement) plan.requests.push({ position: this.position!, limit });
    for (const subscriber of this.joining) {
      if (!subscriber.hasRoom || subscriber.position === undefined) continue;
      const key = positionKey(subscriber.position);
      const window = this.windows.get(subscriber);
      if (window) {
        const group = `${window.id}|${key}`;
        const entry = plan.windowed.get(group) ?? { window, from: subscriber.position, subscribers: [] };
        entry.subscribers.push(subscriber);
        plan.windowed.set(group, entry);
        continue;
      }
      if (this.wantWindow.has(subscriber)) {
        const entry = plan.toOpen.get(key) ?? { from: subscriber.position, subscribers: [] };
        entry.subscribers.push(subscriber);
        plan.toOpen.set(key, entry);
        continue;
      }
      let entry = plan.byPosition.get(key);
      if (!entry) {
        entry = { index: plan.requests.length, subscribers: [] };
        plan.requests.push({ position: subscriber.position, limit: plan.catchUpLimit });
        plan.byPosition.set(key, entry);
      }
      entry.subscribers.push(subscriber);
    }
    return plan;
  }

  /** Newcomers not placed by a step that ended early wait for the next one. */
  private requeue(newcomers: readonly ChangeSubscriber[]): void {
    for (const subscriber of newcomers) if (subscriber.state === 'pending') this.pending.add(subscriber);
  }

  /**
   * The table was replaced (a refresh that swaps in a new table) or a trigger was dropped or disabled:
   * changes may have gone unrecorded, so no position is exact any more. Every stream ends with the way to
   * recover; new ones start after the repair. Repaired first: a client that re-reads on the error then gets
   * a position past the repair.
   */
  private async restartAfterRepair(plan: StepPlan): Promise<boolean> {
    this.requeue(plan.newcomers);
    await this.repair();
    this.epoch = undefined;
    const lost = [...this.joining, ...this.groups.subscribers()];
    for (const subscriber of lost) subscriber.terminate(captureLost());
    this.dropFeedWindow();
    this.position = undefined;
    return this.pending.size > 0;
  }

  /**
   * Why the streams that follow the feed must end, if they may have lost changes (which used to go unnoticed):
   * another gateway sharing this change record put the capture back since the feed's position (a trigger
   * disabled for a while, the gateway schema recreated; this read then finds it intact again), or retention
   * deleted a change newer than the feed's stamp saw (a gateway paused past the shortest retention). The
   * pruner also passes a feed that merely sat idle between two polls, with nothing lost: its streams go on.
   * Catching-up subscribers are checked where they read (stillJoining).
   */
  private followersLost(plan: StepPlan, read: ChangeRead): GraphQLError | null {
    // The identity changed since the last read: the capture was put back after the feed's position. The same
    // as beforeRecapture, and also when a gateway of a version before recaptured_xid put it back.
    const epochChanged = this.epoch !== undefined && read.epoch !== this.epoch;
    this.epoch = read.epoch;
    this.recapturedXid = read.recapturedXid;
    if (!plan.following) return null;
    if (epochChanged || this.beforeRecapture(this.position!)) return captureLost();
    if (!this.belowHorizon(this.position!)) return null;
    const seen = positionSeq(this.position!);
    return seen === null || read.prunedSeq > seen ? feedFellBehind() : null;
  }

  /** The feed's own next page (from the shared statement or its window); returns whether to step again. */
  private async advanceFeed(plan: StepPlan, read: ChangeRead): Promise<boolean> {
    if (!plan.following) {
      // Nobody follows: jump to the end instead of reading changes nobody wants.
      this.dropFeedWindow();
      this.position = atSnapshot(read.snapshot);
      return false;
    }
    if (!plan.feedInStatement) return this.feedFromWindow();
    const previous = this.position!;
    const next = read.positions[0]!;
    this.position = next;
    await this.deliver(read.changes[0]!, previous, next);
    if (!read.more[0]) {
      this.feedFullPages = 0;
      return false;
    }
    // Full pages in a row: the rest of a long gap (one huge sync) comes from a window, not from a rescan of
    // the gap for every page. One full page (a sync a little over a page) reads on.
    this.feedFullPages += 1;
    if (this.feedFullPages >= 2) this.feedWantsWindow = true;
    return true;
  }

  /** Subscribers catching up in the shared statement: their page, then the feed once they reach its position. */
  private offerCatchUpPages(plan: StepPlan, read: ChangeRead, feedKey: string): boolean {
    let again = false;
    for (const { index, subscribers } of plan.byPosition.values()) {
      const from = plan.requests[index]!.position;
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
    return again;
  }

  /** Subscribers far behind: the next page of their window, read once per window and position. */
  private async offerWindowPages(plan: StepPlan, feedKey: string): Promise<boolean> {
    let again = false;
    for (const { window, from, subscribers } of plan.windowed.values()) {
      const live = subscribers.filter((subscriber) => this.stillJoining(subscriber, from));
      if (live.length === 0) continue;
      this.counters.catchUpStatements += 1;
      const page = await readWindowPage(this.db, this.relations, window, from, plan.catchUpLimit);
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
    return again;
  }

  /** One window per position for the subscribers whose last page came back full; they read it next step. */
  private async openWindows(plan: StepPlan): Promise<boolean> {
    let again = false;
    for (const { from, subscribers } of plan.toOpen.values()) {
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
    return again;
  }

  /**
   * Newcomers without a cursor start at the statement's snapshot: live at once when that is the feed's
   * position, else catching up to it.
   */
  private placeNewcomers(plan: StepPlan, read: ChangeRead, feedKey: string): boolean {
    let again = false;
    for (const subscriber of plan.newcomers) {
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
      subscriber.terminate(cursorExpired(subscriber.afterFrom, 'catching up'));
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
