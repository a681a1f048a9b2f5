import type { CompiledQuery } from 'kysely';
import type pg from 'pg';
import { RollupService } from './aggregates/rollup/service.js';
import { DatabaseActivity } from './db/database-activity.js';
import type { Config, DatabaseConfig } from './config/env.js';
import { createDb, StatementCounter, type Db } from './db/database.js';
import { createPool, type PasswordSource } from './db/pool.js';
import { createLiveTrips, type LiveTrips } from './live/live-trips.js';
import type { Logger } from './logger.js';
import type { GatewayServices } from './schema/context.js';
import { buildSchema } from './schema/index.js';
import type { SyncService } from './sync/service.js';
import { ResponseStore } from './cache/response-store.js';
import { TableVersionTracker } from './cache/table-version.js';
import { connectDedicatedClient } from './db/dedicated-client.js';
import { createMetrics } from './observability/metrics.js';
import { createTracing, type Tracing } from './observability/tracing.js';
import { healthRoutes, probePath, type Readiness } from './server/http/health.js';
import { useClientLimits } from './server/plugins/client-limits.js';
import { useDatabaseActivity } from './server/plugins/database-activity.js';
import { useGatewayResponseCache } from './server/plugins/response-cache.js';
import { useSharedSubscriptionResults } from './server/plugins/shared-subscription-results.js';
import { useSseTransports } from './server/sse/transport.js';
import { createGateway, type Gateway } from './server/http/gateway.js';
import { webPageRoutes } from './server/web-page.js';
import { dashboardLimitProblems } from './server/dashboard-limits.js';
import { readPersistedManifest } from './server/plugins/persisted-operations.js';
import { persistedDocumentSet } from './server/sse/persisted-only.js';
import { buildIdentity } from './observability/build-identity.js';
import { installGatewaySchema } from './db/gateway-schema/installer.js';
import { zipZonesStep } from './zones/install-zip-zones.js';
import { answersIdentity } from './cache/answers-identity.js';
import { cursorGenerationStep } from './cache/cursor-generation.js';
import { describeError } from './errors.js';

export interface App {
  gateway: Gateway;
  /** What resolvers see; lets tests build a second gateway over the same parts. */
  services: GatewayServices;
  pool: pg.Pool;
  db: Db;
  statements: StatementCounter;
  rollups: RollupService;
  /** The response cache (null with RESPONSE_CACHE=off). */
  responseCache: { versions: TableVersionTracker; store: ResponseStore } | null;
  readiness: Readiness;
  /** Set when OTEL_EXPORTER_OTLP_ENDPOINT is. */
  tracing: Tracing | undefined;
  /**
   * Live trips (Subscription.tripsAdded): already started. Call live.wake()
   * when new rows may have arrived, e.g. on a sync status change.
   */
  live: LiveTrips;
  /** Resolves once the gateway's own schema is installed (retrying while the database is unreachable). */
  initialised: Promise<void>;
  close(): Promise<void>;
}

export interface AppOptions {
  config: Config & { database: DatabaseConfig };
  logger: Logger;
  /** Overrides the configured static password, e.g. with a Lakebase OAuth token provider. */
  password?: PasswordSource;
  /** pg Client class for the pool; Lakebase OAuth uses one that gets its credential before connecting. */
  pgClient?: typeof pg.Client;
  /** Sync status and refresh (Databricks or the local emulator); without it those fields report SYNC_NOT_CONFIGURED. */
  sync?: SyncService | null;
  /** Delay between attempts to initialise while the database is unreachable. */
  retryMs?: number;
  /** Sees every statement sent while serving requests (benchmarks). */
  onQuery?: (query: CompiledQuery) => void;
  /** Lakebase OAuth credentials (TokenCache), for the token metrics. */
  tokens?: { readonly issuedCount: number; readonly failedCount: number };
  /** OTEL_* variables; tracing is on when OTEL_EXPORTER_OTLP_ENDPOINT is set. */
  otelEnv?: Readonly<Record<string, string | undefined>>;
  /** The dashboard's Vite build, served at `/`; default web/dist of this checkout. */
  webDir?: string;
}

/** Wires the gateway: pool, Kysely, schema, yoga. No listening socket; see server/http/listen.ts. */
export function createApp({
  config,
  logger,
  password,
  pgClient,
  sync,
  retryMs = 2000,
  onQuery,
  tokens,
  otelEnv = {},
  webDir,
}: AppOptions): App {
  const pool = createPool(config.database, { password, Client: pgClient, logger });
  const statements = new StatementCounter();
  const db = createDb(pool, config.database, statements, onQuery);
  const readiness: Readiness = { initialised: false };
  // Background work (installs, rollup builds) shares the pool but is not counted as serving requests.
  const maintenanceDb = createDb(pool, config.database);
  const idleAfterMs = config.database.idleAfterMs ?? 0;
  // `live` is created below; the subscriber count is read only when a quiet period is checked.
  const activity = new DatabaseActivity({ idleAfterMs, busy: () => live.feed.size > 0, logger });
  const rollups = new RollupService({
    db,
    maintenanceDb,
    schema: config.database.schema,
    table: config.database.table,
    gatewaySchema: config.database.gatewaySchema,
    notifyChannel: config.live.notifyChannel,
    logger,
    options: config.rollups,
    activity,
  });
  // The feeds' reads are shared by every subscriber, not work done for a request: not counted either.
  const live = createLiveTrips({
    db: maintenanceDb,
    database: config.database,
    live: config.live,
    logger,
    password,
    pgClient,
    syncStatus: sync?.status,
    onRowsChanged: () => rollups.wake(),
    retryMs,
    activity,
  });
  activity.onResume(() => {
    live.listener?.resume();
    rollups.wake();
  });
  const services = { config, db, statements, logger, sync: sync ?? null, live, rollups };
  const responseCache = config.responseCache.enabled ? createResponseCache() : null;
  function createResponseCache() {
    const versions = new TableVersionTracker({
      db,
      target: rollups.signatureTarget,
      syncStatus: sync?.status ?? null,
      logger,
      connect: () =>
        connectDedicatedClient(config.database, {
          password,
          Client: pgClient,
          applicationName: `${config.database.applicationName} response cache`,
        }),
      maxConnectionLifetimeMs: config.database.maxLifetimeSeconds * 1000,
    });
    return { versions, store: new ResponseStore(versions, config.responseCache.maxBytes) };
  }
  const { edge } = config;
  warnOfDashboardLimits(edge.persistedOperationsManifest, config.limits, logger);
  const clientLimits = useClientLimits({
    trustProxy: edge.trustProxy,
    rateLimitRequests: edge.rateLimitRequests,
    rateLimitWindowMs: edge.rateLimitWindowMs,
    maxSubscriptionsPerClient: edge.maxSubscriptionsPerClient,
    exempt: (pathname) => probePath(pathname) !== undefined || pathname === '/metrics',
  });
  const metrics = edge.metrics
    ? createMetrics({
        pool,
        poolMax: config.database.poolMax,
        statements,
        // The feed in use, read at each scrape: the mechanism is decided during initialisation.
        tripFeed: { stats: () => live.feed.stats() },
        rollups,
        sync: sync ?? null,
        tokens,
        subscriptions: clientLimits.openSubscriptions,
        databaseActivity: activity,
      })
    : undefined;
  const tracing: Tracing | undefined = createTracing(otelEnv, statements, logger);
  const schema = buildSchema();
  const answers = responseCache
    ? answersIdentity({
        schema,
        limits: config.limits,
        table: { schema: config.database.schema, table: config.database.table },
      })
    : '';
  const gateway = createGateway({
    schema,
    services,
    firstPlugins: [
      // With no quiet period to end (DB_IDLE_AFTER_MS=0, the default off Autoscaling) no request needs to say so.
      ...(idleAfterMs > 0 ? [useDatabaseActivity(activity)] : []),
      clientLimits.plugin,
      ...(tracing ? [tracing.plugin] : []),
      ...(metrics?.plugins ?? []),
    ],
    plugins: [
      ...(responseCache
        ? useGatewayResponseCache({
            ...responseCache,
            admin: sync?.admin ?? null,
            cursorLifetimeMs: config.live.changeRetentionSeconds * 1000,
            // A restart with LIVE_CHANGE_CAPTURE switched (or a role granted TRIGGER) changes the stream cursors in
            // answers while the table's version stays: 304 kept the other mechanism's cursor, which it refuses.
            answers: () => `${answers}.${live.mechanism}`,
          })
        : []),
      ...useSseTransports({
        keepAliveMs: config.live.keepAliveMs,
        maxRequestBodyBytes: edge.maxRequestBodyBytes,
        reservationTtlMs: edge.streamReservationTtlMs,
        streamsPerClient: { max: edge.maxStreamsPerClient, identity: clientLimits.identityOf },
        directWrites: config.fastPaths.sseDirectWrites,
        persistedOnly:
          edge.persistedOperations === 'only'
            ? persistedDocumentSet(readPersistedManifest(edge.persistedOperationsManifest))
            : undefined,
      }),
      useSharedSubscriptionResults(),
    ],
    routes: firstAnswer(
      healthRoutes(pool, readiness, {
        identity: buildIdentity(),
        liveChanges: () => live.mechanism,
        databaseActivity: activity,
        report: () => ({
          responseCache: responseCache
            ? { mode: responseCache.versions.latest.mode, ...responseCache.store.stats }
            : { mode: 'off', reason: 'RESPONSE_CACHE=off' },
        }),
      }),
      webPageRoutes(webDir, { graphiql: edge.graphiql }),
    ),
  });
  live.start();

  let closed = false;
  const initialised = (async () => {
    for (let attempt = 1; !closed; attempt += 1) {
      try {
        // Everything the gateway owns, in one transaction under one lock (db/gateway-schema).
        const [zones] = await installGatewaySchema(
          maintenanceDb,
          config.database.gatewaySchema,
          [
            zipZonesStep(),
            ...rollups.schemaSteps({ changeSignal: Boolean(responseCache) }),
            ...(responseCache ? [cursorGenerationStep(rollups.signatureTarget)] : []),
          ],
          logger,
        );
        await live.prepare();
        await rollups.install({ schemaInstalled: true });
        // The response cache keys on the rollups' change signal, which it needs even with ROLLUPS=off.
        if (responseCache && !rollups.enabled) await rollups.installChangeSignal({ schemaInstalled: true });
        rollups.start();
        // /health shows the cache's mode as of its last version read: read one now, not at the first query.
        if (responseCache) void responseCache.versions.fresh();
        readiness.initialised = true;
        delete readiness.lastFailure;
        logger.info('gateway schema ready', { schema: config.database.gatewaySchema, zipZones: zones.total });
        return;
      } catch (error) {
        // Closed while installing (a start that failed later, such as a HOST that cannot be listened on): the
        // failure is the close's doing, not the database's.
        if (closed) return;
        // /ready repeats it: a platform's health page shows that, not the log.
        readiness.lastFailure = describeError(error);
        // Every retryMs for the first attempts (a database still starting, a lock held a moment), then doubling up
        // to 15 s: a database that refuses the login stays refused, and a line every 2 s buried the rest.
        const retryInMs = Math.min(retryMs * 2 ** Math.max(0, Math.min(attempt - 5, 10)), Math.max(retryMs, 15_000));
        logger.error('cannot initialise the gateway schema; retrying', {
          attempt,
          retryInMs,
          schema: config.database.gatewaySchema,
          error: readiness.lastFailure,
        });
        await new Promise((resolve) => setTimeout(resolve, retryInMs));
      }
    }
  })();

  return {
    gateway,
    services,
    pool,
    db,
    statements,
    rollups,
    responseCache,
    readiness,
    tracing,
    live,
    initialised,
    async close() {
      closed = true;
      await live.stop();
      await responseCache?.versions.close();
      await rollups.close();
      await db.destroy();
      await tracing?.shutdown();
    },
  };
}

type Route = (request: Request) => Promise<Response | undefined> | Response | undefined;

/** Route tables tried in order; the first that answers wins, else the request goes on to GraphQL. */
function firstAnswer(...routes: Route[]): Route {
  return async (request) => {
    for (const route of routes) {
      const response = await route(request);
      if (response) return response;
    }
    return undefined;
  };
}

/** The dashboard's operations against the limits (dashboard-limits.ts); without its manifest, nothing to say. */
function warnOfDashboardLimits(manifestPath: string, limits: Config['limits'], logger: Logger): void {
  let documents: ReadonlyMap<string, string>;
  try {
    documents = readPersistedManifest(manifestPath);
  } catch {
    return;
  }
  for (const problem of dashboardLimitProblems(documents.values(), limits)) {
    logger.warn(`the dashboard at / cannot load: ${problem}`);
  }
}
