/**
 * The dashboard as a user gets it: the gateway on a real port over a test
 * database fed by the local sync pipeline (an emulated source table and a
 * worker syncing it, woken by each source commit), serving the built page.
 */
import type pg from 'pg';
import { createApp, type App } from '../../src/app.js';
import { loadConfig } from '../../src/config/env.js';
import { LocalSyncSource } from '../../src/dev/pipeline/local-sync-source.js';
import type { PipelineNames } from '../../src/dev/pipeline/names.js';
import { ensureWebBuild } from '../../src/dev/web-build.js';
import { silentLogger } from '../../src/logger.js';
import { listen, type Listening } from '../../src/server/http/listen.js';
import { DEFAULT_WEB_DIR } from '../../src/server/web-page.js';
import { CachedSyncStatus } from '../../src/sync/cached-sync-status.js';

export const ADMIN_EMAIL = 'ada@example.com';

/** Builds web/dist when missing or older than web/src (as `npm start` does). */
export function buildDashboard(): Promise<void> {
  return ensureWebBuild(DEFAULT_WEB_DIR, silentLogger);
}

export interface DashboardGateway {
  app: App;
  http: Listening;
  origin: string;
  close(): Promise<void>;
}

/** A gateway over the pipeline's synced table; port 0 picks one, a given port restarts on it. */
export async function startDashboardGateway(
  url: string,
  pool: pg.Pool,
  names: PipelineNames,
  port = 0,
): Promise<DashboardGateway> {
  const loaded = loadConfig({
    DATABASE_URL: url,
    PGSCHEMA: names.syncedSchema,
    TRIPS_TABLE: names.syncedTable,
    // Only the pipeline's NOTIFYs wake the live feed: a row that arrives proves the push path.
    LIVE_POLL_INTERVAL_MS: '3600000',
    // Off, as for every test gateway (test/support/gateway.ts): these tests are about the page and the live stream.
    RESPONSE_CACHE: 'off',
  });
  const status = new CachedSyncStatus(new LocalSyncSource(pool, { names }), { ttlSeconds: 1, logger: silentLogger });
  const app = createApp({
    config: { ...loaded, database: loaded.database! },
    logger: silentLogger,
    // As on Databricks Apps: the proxy's identity header names the caller; only ADMIN_EMAIL may refresh.
    sync: {
      status,
      admin: {
        principals: new Set([ADMIN_EMAIL]),
        token: undefined,
        trustForwardedIdentity: true,
        identityHeader: 'x-forwarded-email',
      },
    },
  });
  await app.initialised;
  const http = await listen(app.gateway, port, '127.0.0.1');
  return {
    app,
    http,
    origin: new URL(http.url).origin,
    async close() {
      await app.live.stop();
      await http.close();
      await app.close();
    },
  };
}
