import type pg from 'pg';
import { errorMessage } from '../../errors.js';
import { withTimeout } from '../../with-timeout.js';

export interface Readiness {
  /** Set once startup work that needs the database (reference data) has finished. */
  initialised: boolean;
  /** Why the last attempt at that work failed (the step and what to check, for Lakebase), while it is retried. */
  lastFailure?: string;
}

/**
 * /health: the process is up (liveness; never touches the database, so a
 * database outage does not get the app restarted in a loop).
 * /ready: the gateway can serve queries now (database reachable and initialised).
 */
export interface HealthDetails {
  /** How live changes are found: trigger (exact), key-high-water (fallback) or pending. */
  liveChanges?: () => string;
  /**
   * Whether background database work is paused for a quiet period (db/database-activity.ts): /health reports
   * it, and while it is, /ready answers without a query, since a probe's `SELECT 1` every few seconds would keep
   * a scale-to-zero compute awake for ever.
   */
  databaseActivity?: { readonly paused: boolean; readonly idleAfterMs: number };
  /** Extra facts for /health and /ready (e.g. the response cache's mode); must not touch the database. */
  report?: () => Record<string, unknown>;
  /** Which code answers (observability/build-identity.ts): /health says it, so a mixed deploy can be told apart. */
  identity?: { version: string; build: string };
}

/**
 * Which probe a path asks for: /health and /ready, under /api/ as well (behind the Databricks Apps proxy a token
 * caller, a script or a monitor, reaches only those). The rate limit exempts the same paths.
 */
export function probePath(pathname: string): '/health' | '/ready' | undefined {
  const match = /^(?:\/api)?(\/health|\/ready)$/.exec(pathname);
  return match ? (match[1] as '/health' | '/ready') : undefined;
}

export function healthRoutes(pool: pg.Pool, readiness: Readiness, details: HealthDetails = {}, timeoutMs = 2000) {
  const report = details.report ?? (() => ({}));
  return async (request: Request): Promise<Response | undefined> => {
    // HEAD too: load balancers and uptime checks probe with it (node:http leaves the body out).
    if (request.method !== 'GET' && request.method !== 'HEAD') return undefined;
    const pathname = probePath(new URL(request.url).pathname);
    if (pathname === '/health') {
      return Response.json({
        status: 'ok',
        ...(details.identity ? { version: details.identity.version, build: details.identity.build } : {}),
        ...(details.liveChanges ? { liveChanges: details.liveChanges() } : {}),
        ...(details.databaseActivity
          ? {
              backgroundDatabaseWork: {
                state: details.databaseActivity.paused ? 'paused' : 'running',
                idleAfterMs: details.databaseActivity.idleAfterMs,
              },
            }
          : {}),
        ...report(),
      });
    }
    if (pathname !== '/ready') return undefined;
    if (!readiness.initialised) {
      const reason =
        readiness.lastFailure === undefined
          ? 'database initialisation has not completed'
          : `database initialisation has not completed; the last attempt failed: ${readiness.lastFailure}`;
      return Response.json({ status: 'starting', reason }, { status: 503 });
    }
    if (details.databaseActivity?.paused) {
      // Ready, unverified: a suspended compute wakes on the next query, and that query (a request, so activity)
      // makes the following probe check the database again.
      return Response.json({
        status: 'ready',
        database: 'not probed while the gateway is idle (DB_IDLE_AFTER_MS), so a scale-to-zero compute may suspend',
        ...report(),
      });
    }
    try {
      await withTimeout(pool.query('SELECT 1'), timeoutMs);
      return Response.json({ status: 'ready', ...report() });
    } catch (error) {
      return Response.json(
        { status: 'unavailable', reason: `database unreachable: ${errorMessage(error)}` },
        { status: 503 },
      );
    }
  };
}
