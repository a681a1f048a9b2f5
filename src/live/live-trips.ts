import { gatewayError } from '../errors.js';
import { CompiledQuery } from 'kysely';
import type pg from 'pg';
import type { DatabaseConfig } from '../config/env.js';
import type { LiveConfig } from '../config/live.js';
import type { Db } from '../db/database.js';
import { connectDedicatedClient } from '../db/dedicated-client.js';
import type { PasswordSource } from '../db/pool.js';
import type { Logger } from '../logger.js';
import type { CachedSyncStatus } from '../sync/cached-sync-status.js';
import { parseSyncNotification, parseTableChange } from '../sync/sync-notification.js';
import { qualified } from '../db/sql-identifiers.js';
import { sqlState } from '../db/sql-state.js';
import { CaptureUnavailable, installCapture } from './capture/install.js';
import { readStamp, type CaptureRelations } from './capture/queries.js';
import { pruneChangeRecord } from './capture/retention.js';
import { ChangeFeed } from './change-feed.js';
import type { SubscribeArgs } from './subscribe-args.js';
import type { ChangeStreamEvent } from './change-subscriber.js';
import { verifyListenDelivers } from './listen-probe.js';
import { NotifyListener } from './notify-listener.js';
import { encodeStreamCursor, streamIdentity } from './stream-cursor.js';
import { readStreamPosition, type StreamRead } from '../trips/queries.js';
import type { TripStreamEvent } from './subscriber.js';
import { TripFeed } from './trip-feed.js';
import { describeError } from '../errors.js';

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
  let following: AbortController | undefined;
  const followSyncStatus = (active: boolean) => {
    if (!syncStatus) return;
    if (active && !following) {
      const controller = new AbortController();
      following = controller;
      void (async () => {
        try {
          for await (const _status of syncStatus.subscribe(controller.signal)) feed.wake('sync status changed');
        } catch (error) {
          log.warn('stopped following the sync status; the feed still polls', { error: describeError(error) });
        }
      })();
    } else if (!active && following) {
      following.abort();
      following = undefined;
    }
  };
  const listenHost = live.listenHost;
  const listenWhere = listenHost
    ? `LIVE_LISTEN_HOST ${listenHost.host}:${listenHost.port ?? database.port}`
    : `${database.host}:${database.port}`;
  if (live.notifyChannel !== null) {
    log.info('LISTEN connection host', {
      host: listenWhere,
      direct: listenHost !== null ? 'LIVE_LISTEN_HOST' : "the database's own host (checked by a probe notification)",
    });
  }
  const keyFeed = new TripFeed({ db, config: live, stream, logger: log, onActivityChange: followSyncStatus });
  let changeFeed: ChangeFeed | undefined;
  let mechanism: LiveMechanism = 'pending';
  let decided: () => void = () => undefined;
  const decision = new Promise<void>((resolve) => (decided = resolve));
  let stopped = false;
  let pruneTimer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  const feed = {
    wake: (reason: string) => (changeFeed ?? keyFeed).wake(reason),
  };

  const startPruning = () => {
    const everyMs = Math.max(1000, Math.min(300_000, (live.changeRetentionSeconds * 1000) / 4));
    const prune = async () => {
      // Retention is a bound, not a schedule: a paused gateway prunes at its first tick after resuming.
      if (activity?.paused) return;
      try {
        const result = await pruneChangeRecord(maintenanceDb, relations, live.changeRetentionSeconds);
        if (result.dropped > 0) log.info('pruned the change record', { ...result });
      } catch (error) {
        log.warn('cannot prune the change record; will retry', { error: describeError(error) });
      }
    };
    void prune();
    pruneTimer = setInterval(() => void prune(), everyMs);
    pruneTimer.unref();
  };

  // Switched off on purpose: the advice is to switch it on, not a grant.
  const switchedOff = live.capture === 'off';
  const fallBack = async (reason: string) => {
    mechanism = 'key-high-water';
    let replication = false;
    try {
      const { rows } = await maintenanceDb.executeQuery<{ replication: boolean; role: string }>(
        CompiledQuery.raw(
          'SELECT rolreplication AS replication, current_user AS role FROM pg_roles WHERE rolname = current_user',
        ),
      );
      replication = rows[0]?.replication === true;
    } catch {
      // The warning below is what matters.
    }
    const consequence =
      'tripsAdded falls back to the key high-water mark (id > newest id streamed): a row whose id is not above ' +
      'the newest one streamed, or that commits after a higher id, is never streamed; tripChanges is unavailable. ';
    log.warn(
      switchedOff
        ? `live changes: NOT exact. LIVE_CHANGE_CAPTURE=off, so ${consequence}Fix: unset LIVE_CHANGE_CAPTURE (or set it to auto) and restart.`
        : `live changes: NOT exact. The change capture cannot be installed, so ${consequence}` +
            `Fix: GRANT TRIGGER ON ${relations.synced} TO <the gateway role>, and let that role create objects in ` +
            `schema ${database.gatewaySchema} (GRANT CREATE ON SCHEMA ... or make it the owner), then restart.`,
      { reason, replicationRole: replication, mechanism },
    );
  };

  const prepareOnce = async (): Promise<boolean> => {
    if (live.capture === 'off') {
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
    startPruning();
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
  const subscribeAdded = (args: SubscribeArgs) =>
    whenDecided((): Subscription => (changeFeed ? changeFeed.subscribe('added', args) : keyFeed.subscribe(args)));
  const subscribeChanges = (args: SubscribeArgs) =>
    whenDecided((): Subscription => {
      if (changeFeed) return changeFeed.subscribe('changes', args);
      throw gatewayError(
        'CHANGE_CAPTURE_UNAVAILABLE',
        switchedOff
          ? 'tripChanges: the change capture is switched off on this gateway (LIVE_CHANGE_CAPTURE=off), so changes ' +
              'cannot be streamed exactly; see /health (liveChanges).'
          : 'tripChanges: this gateway cannot capture changes exactly (the role may not install the change capture ' +
              `on ${relations.synced}); GRANT TRIGGER on it to the gateway's role and restart. See /health (liveChanges).`,
      );
    });
  const listener =
    live.notifyChannel === null
      ? undefined
      : new NotifyListener({
          channel: live.notifyChannel,
          connect: async () => {
            const client = await connectDedicatedClient(database, {
              password,
              Client: pgClient,
              applicationName: 'lakebase-graphql-listen',
              host: listenHost,
            });
            try {
              // A pooled host accepts LISTEN and then loses notifications; a failed
              // probe makes the listener report it and retry at its slowest rate.
              await verifyListenDelivers(client, listenWhere);
            } catch (error) {
              await client.end().catch(() => {});
              throw error;
            }
            return client;
          },
          onNotify: (payload) => {
            // A notification about another table, or about a status change
            // without rows, brings nothing to stream. Anything unparsable
            // (an operator's bare NOTIFY) wakes the feed: a tick is cheap.
            const notification = parseSyncNotification(payload) ?? parseTableChange(payload);
            if (notification?.event === 'status') return;
            if (notification && (notification.schema !== database.schema || notification.table !== database.table)) {
              return;
            }
            feed.wake('notify');
            onRowsChanged?.();
          },
          onListening: () => {
            feed.wake('listening');
            onRowsChanged?.();
          },
          // Back to the short poll at once: the next tick must not wait for the safety net's interval.
          onLost: () => feed.wake('listen lost'),
          logger: log,
          maxLifetimeMs: database.maxLifetimeSeconds * 1000,
          paused: () => activity?.paused ?? false,
        });
  return {
    get feed() {
      return changeFeed ?? keyFeed;
    },
    get mechanism() {
      return mechanism;
    },
    listener,
    prepare,
    subscribeAdded,
    subscribeChanges,
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
      clearInterval(pruneTimer);
      clearTimeout(retryTimer);
      following?.abort();
      following = undefined;
      await Promise.all([keyFeed.stop(), changeFeed?.stop(), listener?.stop()]);
    },
    wake: (reason) => feed.wake(reason),
  };
}

function captureSqlState(error: unknown): string | undefined {
  return error instanceof CaptureUnavailable ? error.sqlState : sqlState(error);
}
