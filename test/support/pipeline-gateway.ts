/**
 * A gateway on a real port over a database fed by the local sync pipeline
 * (src/dev/pipeline), wired as `npm start` wires it in development: its sync
 * status and "Sync now" come from the emulated pipeline, in the Databricks
 * shape. Used by the dashboard's browser tests, the pipeline's live tests and
 * bench/web-page.ts; it lives here, not in src/, so the gateway's own code
 * never carries test wiring.
 */
import type pg from 'pg';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/env.js';
import { LocalSyncSource } from '../../src/dev/pipeline/local-sync-source.js';
import type { PipelineNames } from '../../src/dev/pipeline/names.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { listen, type Listening } from '../../src/server/http/listen.js';
import { CachedSyncStatus } from '../../src/sync/cached-sync-status.js';

export interface PipelineGatewayOptions {
  /** The database's connection string. */
  url: string;
  /** A pool on it for the emulated pipeline's status and refresh. */
  pool: pg.Pool;
  names: PipelineNames;
  /** Configuration over the defaults (PGSCHEMA and TRIPS_TABLE come from names). */
  env?: Record<string, string>;
  /** 0 picks a free port; a given port restarts a gateway where the last one listened. */
  port?: number;
  /** SYNC_STATUS_CACHE_SECONDS and how often subscribers' status is polled (CachedSyncStatus). */
  status?: { ttlSeconds: number; pollIntervalMs?: number };
  /**
   * Callers allowed to refresh, named by the identity header the Databricks Apps proxy adds
   * (X-Forwarded-Email), which is then trusted; none: nobody may.
   */
  admins?: readonly string[];
  /** GATEWAY_ADMIN_TOKEN. */
  adminToken?: string;
  logger?: Logger;
}

export interface PipelineGateway {
  app: App;
  http: Listening;
  origin: string;
  /** The GraphQL endpoint's URL. */
  url: string;
  source: LocalSyncSource;
  status: CachedSyncStatus;
  /** Ends live streams with their resume cursor (as `npm start` does on SIGTERM), then closes. */
  close(): Promise<void>;
}

export async function startPipelineGateway(options: PipelineGatewayOptions): Promise<PipelineGateway> {
  const { names, logger = silentLogger, admins = [], adminToken } = options;
  const loaded = loadConfig({
    DATABASE_URL: options.url,
    PGSCHEMA: names.syncedSchema,
    TRIPS_TABLE: names.syncedTable,
    ...options.env,
  });
  const source = new LocalSyncSource(options.pool, { names });
  const status = new CachedSyncStatus(source, { ttlSeconds: 5, ...options.status, logger });
  const app = createApp({
    config: { ...loaded, database: loaded.database! },
    logger,
    sync: {
      status,
      admin: {
        principals: new Set(admins),
        token: adminToken,
        trustForwardedIdentity: admins.length > 0,
        identityHeader: 'x-forwarded-email',
      },
    },
  });
  await app.initialised;
  const http = await listen(app.gateway, options.port ?? 0, '127.0.0.1');
  return {
    app,
    http,
    origin: new URL(http.url).origin,
    url: http.url,
    source,
    status,
    async close() {
      await app.live.stop();
      await http.close();
      await app.close();
    },
  };
}
