import type { RollupService } from '../aggregates/rollup/service.js';
import type { Config } from '../config/env.js';
import type { Db, StatementCounter } from '../db/database.js';
import type { LiveStreams } from '../live/live-trips.js';
import type { Logger } from '../logger.js';
import type { SyncService } from '../sync/service.js';

/** Long-lived dependencies the schema's resolvers reach through the context. */
export interface GatewayServices {
  config: Config;
  db: Db;
  statements: StatementCounter;
  logger: Logger;
  /** Null when neither a Databricks synced table nor the local emulator is configured. */
  sync: SyncService | null;
  /** The process-wide live streams behind Subscription.tripsAdded and tripChanges. */
  live: LiveStreams;
  rollups: RollupService;
}

/** Per-request context; DataLoaders are created per request by the dataloader plugin. */
export interface GatewayContext extends GatewayServices {
  requestId: string;
  request: Request;
  /**
   * Cancels the statements run for this request when its client goes away: the request's signal for queries and
   * mutations; undefined for subscriptions, whose statements serve every subscriber sharing an event
   * (server/plugins/statement-cancellation.ts).
   */
  statementSignal?: AbortSignal;
}
