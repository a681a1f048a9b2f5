import type pg from 'pg';
import type { DatabaseConfig } from '../config/env.js';
import type { LiveConfig } from '../config/live.js';
import type { Db } from '../db/database.js';
import { connectDedicatedClient } from '../db/dedicated-client.js';
import type { PasswordSource } from '../db/pool.js';
import type { Logger } from '../logger.js';
import type { CachedSyncStatus } from '../sync/cached-sync-status.js';
import { parseSyncNotification, parseTableChange } from '../sync/sync-notification.js';
import { verifyListenDelivers } from './listen-probe.js';
import { NotifyListener } from './notify-listener.js';
import { streamIdentity } from './stream-cursor.js';
import { TripFeed } from './trip-feed.js';
import { describeError } from '../errors.js';

/** The live trips machinery of one gateway process: the shared feed and what wakes it. */
export interface LiveTrips {
  readonly feed: TripFeed;
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
  db: Db;
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
}

export function createLiveTrips({
  db,
  database,
  live,
  logger,
  password,
  pgClient,
  syncStatus,
  onRowsChanged,
}: LiveTripsOptions): LiveTrips {
  const log = logger.child({ component: 'live-trips' });
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
  const feed = new TripFeed({
    db,
    config: live,
    stream: streamIdentity(database.schema, database.table),
    logger: log,
    onActivityChange: followSyncStatus,
  });
  const listenHost = live.listenHost;
  const listenWhere = listenHost
    ? `LIVE_LISTEN_HOST ${listenHost.host}:${listenHost.port ?? database.port}`
    : `${database.host}:${database.port}`;
  if (live.notifyChannel !== null) {
    log.info('LISTEN connection host', {
      host: listenWhere,
      direct: listenHost !== null ? 'LIVE_LISTEN_HOST' : 'PGHOST (checked by a probe notification)',
    });
  }
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
          logger: log,
          maxLifetimeMs: database.maxLifetimeSeconds * 1000,
        });
  return {
    feed,
    listener,
    start: () => listener?.start(),
    async stop() {
      following?.abort();
      following = undefined;
      await Promise.all([feed.stop(), listener?.stop()]);
    },
    wake: (reason) => feed.wake(reason),
  };
}
