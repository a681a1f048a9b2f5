/**
 * The dashboard as a user gets it: the gateway on a real port over a test
 * database fed by the local sync pipeline (an emulated source table and a
 * worker syncing it, woken by each source commit), serving the built page.
 */
import type pg from 'pg';
import type { PipelineNames } from '../../src/dev/pipeline/names.js';
import { ensureWebBuild } from '../../src/dev/web-build.js';
import { silentLogger } from '../../src/logger.js';
import { DEFAULT_WEB_DIR } from '../../src/server/web-page.js';
import { startPipelineGateway, type PipelineGateway } from './pipeline-gateway.js';

export const ADMIN_EMAIL = 'ada@example.com';
/** GATEWAY_ADMIN_TOKEN of the dashboard's gateway: what a local user enters in the sync panel. */
export const ADMIN_TOKEN = 'dashboard-admin-token-0123456789';

/** Builds web/dist unless it is the build of the current sources; a failed build fails the tests (never an old page). */
export async function buildDashboard(): Promise<void> {
  await ensureWebBuild(DEFAULT_WEB_DIR, silentLogger, { required: true });
}

export type DashboardGateway = PipelineGateway;

/** A gateway over the pipeline's synced table; port 0 picks one, a given port restarts on it. */
export function startDashboardGateway(
  url: string,
  pool: pg.Pool,
  names: PipelineNames,
  port = 0,
  env: Record<string, string> = {},
): Promise<DashboardGateway> {
  return startPipelineGateway({
    url,
    pool,
    names,
    port,
    env: {
      // Only the pipeline's NOTIFYs wake the live feed: a row that arrives proves the push path.
      LIVE_POLL_INTERVAL_MS: '3600000',
      // Off, as for every test gateway (test/support/gateway.ts): these tests are about the page and the live stream.
      RESPONSE_CACHE: 'off',
      ...env,
    },
    status: { ttlSeconds: 1 },
    // As on Databricks Apps: the proxy's identity header names the caller; only ADMIN_EMAIL may refresh.
    admins: [ADMIN_EMAIL],
    adminToken: ADMIN_TOKEN,
  });
}
