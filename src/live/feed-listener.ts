import type pg from 'pg';
import type { DatabaseConfig } from '../config/env.js';
import type { LiveConfig } from '../config/live.js';
import { connectDedicatedClient } from '../db/dedicated-client.js';
import type { PasswordSource } from '../db/pool.js';
import type { Logger } from '../logger.js';
import { parseSyncNotification, parseTableChange } from '../sync/sync-notification.js';
import { verifyListenDelivers } from './listen-probe.js';
import { NotifyListener } from './notify-listener.js';

export interface FeedListenerOptions {
  database: DatabaseConfig;
  live: LiveConfig;
  logger: Logger;
  password?: PasswordSource;
  pgClient?: typeof pg.Client;
  /** Ticks the feed now. */
  wake: (reason: string) => void;
  /** The synced table's rows may have changed (a notification about them, or a reconnect that may have lost some). */
  onRowsChanged?: () => void;
  /** While true, no reconnects (db/database-activity.ts). */
  paused: () => boolean;
}

/**
 * The LISTEN connection that wakes the feed at every writing commit (the capture's triggers and the sync
 * pipeline NOTIFY), or undefined with LIVE_NOTIFY_CHANNEL=off. It connects to LIVE_LISTEN_HOST when set (a
 * pooled host accepts LISTEN and then loses notifications), and proves delivery with a probe first.
 */
export function createFeedListener(options: FeedListenerOptions): NotifyListener | undefined {
  const { database, live, logger, wake, onRowsChanged } = options;
  if (live.notifyChannel === null) return undefined;
  const listenHost = live.listenHost;
  const listenWhere = listenHost
    ? `LIVE_LISTEN_HOST ${listenHost.host}:${listenHost.port ?? database.port}`
    : `${database.host}:${database.port}`;
  logger.info('LISTEN connection host', {
    host: listenWhere,
    direct: listenHost !== null ? 'LIVE_LISTEN_HOST' : "the database's own host (checked by a probe notification)",
  });
  return new NotifyListener({
    channel: live.notifyChannel,
    connect: async () => {
      const client = await connectDedicatedClient(database, {
        password: options.password,
        Client: options.pgClient,
        applicationName: `${database.applicationName}-listen`,
        host: listenHost,
      });
      try {
        // A failed probe makes the listener report it and retry at its slowest rate.
        await verifyListenDelivers(client, listenWhere);
      } catch (error) {
        await client.end().catch(() => {});
        throw error;
      }
      return client;
    },
    onNotify: (payload) => {
      // A notification about another table, or about a status change without rows, brings nothing to
      // stream. Anything unparsable (an operator's bare NOTIFY) wakes the feed: a tick is cheap.
      const notification = parseSyncNotification(payload) ?? parseTableChange(payload);
      if (notification?.event === 'status') return;
      if (notification && (notification.schema !== database.schema || notification.table !== database.table)) {
        return;
      }
      wake('notify');
      onRowsChanged?.();
    },
    onListening: () => {
      wake('listening');
      onRowsChanged?.();
    },
    // Back to the short poll at once: the next tick must not wait for the safety net's interval.
    onLost: () => wake('listen lost'),
    logger,
    maxLifetimeMs: database.maxLifetimeSeconds * 1000,
    paused: options.paused,
  });
}
