import type pg from 'pg';
import type { DatabaseConfig } from '../config/env.js';
import type { LiveConfig } from '../config/live.js';
import type { Db } from '../db/database.js';
import type { PasswordSource } from '../db/pool.js';
import { qualified } from '../db/sql-identifiers.js';
import { sqlState } from '../db/sql-state.js';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { CachedSyncStatus } from '../sync/cached-sync-status.js';
import { readStreamPosition, type StreamRead } from '../trips/queries.js';
import { CaptureUnavailable, installCapture } from './capture/install.js';
import { readStamp, type CaptureRelations } from './capture/queries.js';
import { ChangeFeed } from './change-feed.js';
import { startChangePruning } from './change-pruner.js';
import type { ChangeStreamEvent } from './change-subscriber.js';
import { createFeedListener } from './feed-listener.js';
import { captureUnavailable, warnKeyFallback } from './key-fallback.js';
import type { NotifyListener } from './notify-listener.js';
import { encodeStreamCursor, streamIdentity } from './stream-cursor.js';
import type { SubscribeArgs } from './subscribe-args.js';
import type { TripStreamEvent } from './subscriber.js';
import { syncStatusFollower } from './sync-status-follower.js';
import { TripFeed } from './trip-feed.js';

/**
 * How live changes are found (docs/subscriptions.md):
 * - `trigger`: the exact change capture (statement triggers into a change record);
 * - `key-high-water`: the fallback when the role may not install it: `id > last seen`,
 *   which misses rows whose id is below the newest one streamed (see the startup warning);
 * - `pending`: not decided yet (the synced table does not exist yet).
 */
export type LiveMechanism = 'trigger' | 'key-high-water' | 'pending';

type Subscription = AsyncIterableIterator<TripStreamEvent | ChangeStreamEvent>;

/** What resolvers use: the streams, whichever mechanism serves them. */
export interface LiveStreams {
  readonly mechanism: LiveMechanism;
  subscribeAdded(args: SubscribeArgs): Subscription | Promise<Subscription>;
  subscribeChanges(args: SubscribeArgs): Subscription | Promise<Subscription>;
  /** Where the stream stands in `trx`'s snapshot, for cursorOfRead (in a trips page's own transaction). */
  readPosition(trx: Db): Promise<StreamRead>;
  /** The stream cursor of a read: its stamp (exact capture) or the newest id it saw (fallback). */
  cursorOfRead(read: StreamRead): string;
}

/** The live trips machinery of one gateway process: the shared feed and what wakes it. */
export interface LiveTrips extends LiveStreams {
  /** The feed in use (the fallback feed until the mechanism is decided). */
  readonly feed: TripFeed | ChangeFeed;
  /**
   * Decides the mechanism: installs the change capture if the role may. Resolves once
   * decided; if the synced table does not exist yet, resolves at once and keeps trying.
   */
  prepare(): Promise<void>;
  /** Undefined when LIVE_NOTIFY_CHANNEL=off. */
  readonly listener: NotifyListener | undefined;
  /** Starts listening for sync notifications (the feed itself polls only while anyone subscribes). */
  start(): void;
  /** Ends every stream with a resumable terminal error and closes the LISTEN connection. */
  stop(): Promise<void>;
  /** New rows may be there (e.g. the sync status reports a new lastSync): tick now. */
  wake(reason: string): void;
}

export interface LiveTripsOptions {
  /** The feeds' reads. */
  db: Db;
  /** Installing the capture, checking the role's rights, pruning. Default db. */
  maintenanceDb?: Db;
  database: DatabaseConfig;
  live: LiveConfig;
  logger: Logger;
  password?: PasswordSource;
  /** The pool's Client class (Lakebase OAuth), for the LISTEN connection too. */
  pgClient?: typeof pg.Client;
  /**
   * Followed while anyone subscribes: a changed status (a new lastSync) means
   * new rows may be there. Where nothing NOTIFYs (Lakebase's managed pipeline),
   * this wakes the feed sooner than its poll.
   */
  syncStatus?: Pick<CachedSyncStatus, 'subscribe'>;
  /** Called when a notification says the synced table's rows changed (and after each reconnect: some may be lost). */
  onRowsChanged?: () => void;
  /** Delay between attempts while the synced table does not exist yet. */
  retryMs?: number;
  /** While paused (db/database-activity.ts), no pruning and no LISTEN reconnects; listener.resume() ends it. */
  activity?: { readonly paused: boolean };
}

export function createLiveTrips({
  db,
  maintenanceDb = db,
  database,
  live,
  logger,
  password,
  pgClient,
  syncStatus,
  onRowsChanged,
  retryMs = 2000,
  activity,
}: LiveTripsOptions): LiveTrips {
  const log = logger.child({ component: 'live-trips' });
  const stream = streamIdentity(database.schema, database.table);
  const relations: CaptureRelations = {
    synced: qualified(database.schema, database.table),
    schema: database.schema,
    table: database.table,
    gatewaySchema: database.gatewaySchema,
  };
  const captureTarget = { ...relations, notifyChannel: live.notifyChannel };
  const fallback = {
    switchedOff: live.capture === 'off',
    synced: relations.synced,
    gatewaySchema: database.gatewaySchema,
  };
  const wake = (reason: string) => (changeFeed ?? keyFeed).wake(reason);
  const followSyncStatus = syncStatusFollower(syncStatus, wake, log);
  const paused = () => activity?.paused ?? false;
  const keyFeed = new TripFeed({ db, config: live, stream, logger: log, onActivityChange: followSyncStatus });
  let changeFeed: ChangeFeed | undefined;
  let mechanism: LiveMechanism = 'pending';
  let decided: () => void = () => undefined;
  const decision = new Promise<void>((resolve) => (decided = resolve));
  let stopped = false;
  let stopPruning: (() => void) | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  const listener = createFeedListener({ database, live, logger: log, password, pgClient, wake, onRowsChanged, paused });

  const fallBack = async (reason: string) => {
    mechanism = 'key-high-water';
    await warnKeyFallback(maintenanceDb, log, fallback, reason);
  };

  /** Decides the mechanism; false when it cannot be decided yet (try again later). */
  const prepareOnce = async (): Promise<boolean> => {
    if (fallback.switchedOff) {
      await fallBack('LIVE_CHANGE_CAPTURE=off');
      return true;
    }
    try {
      await installCapture(maintenanceDb, captureTarget);
    } catch (error) {
      const state = captureSqlState(error);
      // The table is not there yet, or the pipeline held it locked: try again later.
      if (state === '42P01' || state === '55P03' || state === '40P01') {
        log.info('live changes: the change capture is not installed yet; retrying', {
          error: describeError(error),
        });
        return false;
      }
      if (error instanceof CaptureUnavailable || state !== undefined) {
        await fallBack(describeError(error));
        return true;
      }
      throw error;
    }
    mechanism = 'trigger';
    changeFeed = new ChangeFeed({
      db,
      config: live,
      relations,
      stream,
      logger: log,
      onActivityChange: followSyncStatus,
      repair: async () => {
        log.warn('live changes: the synced table was replaced or its change capture changed; reinstalling it', {
          table: relations.synced,
        });
        await installCapture(maintenanceDb, captureTarget);
      },
      // The capture's triggers NOTIFY at every writing commit; heard only while LISTEN is connected.
      wakeUpsReliable: () => listener?.listening === true,
    });
    log.info('live changes: exact capture by statement triggers into a change record', {
      mechanism,
      table: relations.synced,
      retentionSeconds: live.changeRetentionSeconds,
    });
    stopPruning = startChangePruning({
      db: maintenanceDb,
      relations,
      retentionSeconds: live.changeRetentionSeconds,
      logger: log,
      paused,
    });
    return true;
  };

  const prepare = async (): Promise<void> => {
    if (mechanism !== 'pending') return;
    if (await prepareOnce()) {
      decided();
      return;
    }
    const retry = () => {
      retryTimer = setTimeout(() => {
        if (stopped) return;
        void prepareOnce().then(
          (done) => (done ? decided() : retry()),
          () => retry(),
        );
      }, retryMs);
      retryTimer.unref();
    };
    retry();
  };

  const whenDecided = <T>(run: () => T): T | Promise<T> => (mechanism === 'pending' ? decision.then(run) : run());
  return {
    get feed() {
      return changeFeed ?? keyFeed;
    },
    get mechanism() {
      return mechanism;
    },
    listener,
    prepare,
    subscribeAdded: (args) =>
      whenDecided((): Subscription => (changeFeed ? changeFeed.subscribe('added', args) : keyFeed.subscribe(args))),
    subscribeChanges: (args) =>
      whenDecided((): Subscription => {
        if (changeFeed) return changeFeed.subscribe('changes', args);
        throw captureUnavailable(fallback);
      }),
    // The exact capture's position is a stamp (capture/position.ts), and needs no newest id; the fallback's
    // is the newest id.
    readPosition: async (trx) =>
      changeFeed ? { snapshot: await readStamp(trx, relations), newestId: null } : readStreamPosition(trx),
    cursorOfRead: (read) =>
      changeFeed
        ? changeFeed.cursorAt(read.snapshot)
        : encodeStreamCursor(stream, read.newestId === null ? null : BigInt(read.newestId)),
    start: () => listener?.start(),
    async stop() {
      stopped = true;
      stopPruning?.();
      clearTimeout(retryTimer);
      followSyncStatus(false);
      await Promise.all([keyFeed.stop(), changeFeed?.stop(), listener?.stop()]);
    },
    wake,
  };
}

function captureSqlState(error: unknown): string | undefined {
  return error instanceof CaptureUnavailable ? error.sqlState : sqlState(error);
}
