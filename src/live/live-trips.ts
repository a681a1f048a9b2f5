import type { DatabaseConfig } from '../config/env.js';
import type { LiveConfig } from '../config/live.js';
import type { Db } from '../db/database.js';
import { connectDedicatedClient } from '../db/dedicated-client.js';
import type { PasswordSource } from '../db/pool.js';
import type { Logger } from '../logger.js';
import { NotifyListener } from './notify-listener.js';
import { streamIdentity } from './stream-cursor.js';
import { TripFeed } from './trip-feed.js';

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
}

export function createLiveTrips({ db, database, live, logger, password }: LiveTripsOptions): LiveTrips {
  const log = logger.child({ component: 'live-trips' });
  const feed = new TripFeed({ db, config: live, stream: streamIdentity(database.schema, database.table), logger: log });
  const listener =
    live.notifyChannel === null
      ? undefined
      : new NotifyListener({
          channel: live.notifyChannel,
          connect: () => connectDedicatedClient(database, { password, applicationName: 'lakebase-graphql-listen' }),
          onNotify: () => feed.wake('notify'),
          onListening: () => feed.wake('listening'),
          logger: log,
          maxLifetimeMs: database.maxLifetimeSeconds * 1000,
        });
  return {
    feed,
    listener,
    start: () => listener?.start(),
    async stop() {
      await Promise.all([feed.stop(), listener?.stop()]);
    },
    wake: (reason) => feed.wake(reason),
  };
}
