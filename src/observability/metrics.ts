import type { ExecutionResult, GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type pg from 'pg';
import { Counter, Gauge, Registry } from 'prom-client';
import type { RollupService } from '../aggregates/rollup/service.js';
import type { StatementCounter } from '../db/database.js';
import type { TripFeedStats } from '../live/trip-feed.js';
import { useGraphQLMetrics } from './graphql-metrics.js';
import { SeriesCounter, SeriesHistogram } from './series-metrics.js';
import { sentStatus } from './sent-status.js';
import type { SyncService } from '../sync/service.js';
import { staleness } from '../sync/to-sync-status.js';

/** What /metrics reads at scrape time: the counters the gateway keeps anyway. */
export interface MetricSources {
  pool: pg.Pool;
  poolMax: number;
  statements: StatementCounter;
  /** The live feed in use (either mechanism). */
  tripFeed: {
    stats(): Pick<
      TripFeedStats,
      | 'pending'
      | 'catchingUp'
      | 'live'
      | 'ticks'
      | 'feedStatements'
      | 'catchUpStatements'
      | 'failedStatements'
      | 'directEvents'
      | 'rowsDelivered'
      | 'tooSlow'
      | 'filterGroups'
      | 'queuedRows'
      | 'position'
    >;
  };
  rollups: RollupService;
  sync: SyncService | null;
  /** Lakebase OAuth credentials (TokenCache), when used. */
  tokens?: { readonly issuedCount: number; readonly failedCount: number };
  /** Subscriptions currently held, per transport and in total (edge bookkeeping). */
  subscriptions?: () => number;
  /** Whether background database work is paused for a quiet period (db/database-activity.ts). */
  databaseActivity?: { readonly paused: boolean };
}

/** Distinct operation names kept as label values; later ones are reported as "other" (label cardinality is memory). */
const MAX_OPERATION_NAMES = 200;

/**
 * Prometheus metrics on /metrics: graphql-metrics.ts times requests and GraphQL
 * phases by operation and result (the metrics of yoga's Prometheus plugin, at a
 * fraction of its cost per request); the gauges and counters below are
 * read at scrape time from what the gateway already counts (statements, the
 * pool, TripFeed.stats(), the rollup's answers, token renewals, sync status).
 * One registry per gateway, so tests and benchmarks can run several.
 */
export function createMetrics(sources: MetricSources) {
  const registry = new Registry();
  const names = new Set<string>();
  const operationLabel = (name: string | undefined): string => {
    const value = name ?? 'Anonymous';
    if (names.has(value)) return value;
    if (names.size >= MAX_OPERATION_NAMES || value.length > 100) return 'other';
    names.add(value);
    return value;
  };

  const errors = new Counter({
    name: 'lakebase_graphql_errors_total',
    help: 'GraphQL errors sent to clients, by extensions.code',
    labelNames: ['code'],
    registers: [registry],
  });
  // Counted on every request and statement: series-metrics.ts (the SQL series are kept here).
  const responses = new SeriesCounter({
    name: 'lakebase_http_responses_total',
    help: 'HTTP responses by status code (including requests refused before GraphQL: 413, 415, 429, 403)',
    labelNames: ['status'],
    registry,
  });
  const sqlDuration = new SeriesHistogram({
    name: 'lakebase_sql_statement_duration_seconds',
    help: 'Duration of SQL statements sent while serving requests and the live feed, by result',
    labelNames: ['result'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registry,
  });
  const sqlOk = sqlDuration.series({ result: 'ok' });
  const sqlError = sqlDuration.series({ result: 'error' });
  const previous = sources.statements.onStatement;
  sources.statements.onStatement = (ok, ms, sql) => {
    previous?.(ok, ms, sql);
    (ok ? sqlOk : sqlError).observe(ms / 1000);
  };

  gauge(registry, 'lakebase_sql_statements', 'SQL statements sent (total since start)', ['result'], (set) => {
    set({ result: 'ok' }, sources.statements.total - sources.statements.errors);
    set({ result: 'error' }, sources.statements.errors);
  });
  gauge(registry, 'lakebase_pg_pool_connections', 'Postgres pool connections by state', ['state'], (set) => {
    set({ state: 'total' }, sources.pool.totalCount);
    set({ state: 'idle' }, sources.pool.idleCount);
    set({ state: 'waiting_clients' }, sources.pool.waitingCount);
    set({ state: 'max' }, sources.poolMax);
  });
  gauge(registry, 'lakebase_live_subscribers', 'tripsAdded subscribers by state', ['state'], (set) => {
    const stats = sources.tripFeed.stats();
    set({ state: 'pending' }, stats.pending);
    set({ state: 'catching_up' }, stats.catchingUp);
    set({ state: 'live' }, stats.live);
  });
  gauge(
    registry,
    'lakebase_live_feed',
    'Live feed counters (TripFeed.stats(); totals since start)',
    ['stat'],
    (set) => {
      const stats = sources.tripFeed.stats();
      set({ stat: 'ticks' }, stats.ticks);
      set({ stat: 'feed_statements' }, stats.feedStatements);
      set({ stat: 'catch_up_statements' }, stats.catchUpStatements);
      set({ stat: 'failed_statements' }, stats.failedStatements);
      set({ stat: 'direct_events' }, stats.directEvents);
      set({ stat: 'rows_delivered' }, stats.rowsDelivered);
      set({ stat: 'too_slow_cutoffs' }, stats.tooSlow);
      set({ stat: 'filter_groups' }, stats.filterGroups);
      // Lag: rows handed to subscribers that their clients have not read yet.
      set({ stat: 'queued_rows' }, stats.queuedRows);
      set({ stat: 'position' }, stats.position === null ? 0 : Number(stats.position));
    },
  );
  gauge(
    registry,
    'lakebase_rollup_answers',
    'Aggregate queries answered, by source (total since start)',
    ['source'],
    (set) => {
      set({ source: 'rollup' }, sources.rollups.served.rollup);
      set({ source: 'table' }, sources.rollups.served.raw);
    },
  );
  gauge(registry, 'lakebase_rollup_builds', 'Rollup builds, by kind (total since start)', ['kind'], (set) => {
    for (const [kind, count] of Object.entries(sources.rollups.builds)) set({ kind }, count);
  });
  gauge(
    registry,
    'lakebase_oauth_tokens',
    'Lakebase OAuth credential requests (total since start)',
    ['result'],
    (set) => {
      set({ result: 'issued' }, sources.tokens?.issuedCount ?? 0);
      set({ result: 'failed' }, sources.tokens?.failedCount ?? 0);
    },
  );
  if (sources.subscriptions) {
    const count = sources.subscriptions;
    gauge(registry, 'lakebase_subscriptions_open', 'Open subscriptions (all transports)', [], (set) =>
      set({}, count()),
    );
  }
  if (sources.databaseActivity) {
    const activity = sources.databaseActivity;
    gauge(
      registry,
      'lakebase_background_database_work_paused',
      '1 while the gateway sends no background queries, so that a scale-to-zero compute can suspend (DB_IDLE_AFTER_MS)',
      [],
      (set) => set({}, activity.paused ? 1 : 0),
    );
  }
  new Gauge({
    name: 'lakebase_sync_staleness_seconds',
    help: 'Seconds since the last successful sync of the synced table ended (absent when unknown)',
    registers: [registry],
    async collect() {
      this.reset();
      if (!sources.sync) return;
      try {
        const status = await sources.sync.status.get();
        // At the scrape, not at the status read (reused for SYNC_STATUS_CACHE_SECONDS).
        const seconds = staleness(status.lastSync, new Date());
        if (seconds !== null) this.set(seconds);
      } catch {
        // The sync API is down: no sample rather than a stale one; the sync status field reports the reason.
      }
    },
  });

  // Operation names come from clients: unbounded label values would be a memory leak, so only the HTTP
  // histogram has them, bounded above; the phase metrics are by operation type.
  const requestMetrics = useGraphQLMetrics({
    registry,
    endpoint: '/metrics',
    httpLabels: ({ operationName, operationType, method, statusCode }) => ({
      operationName: operationLabel(operationName),
      operationType: operationType ?? 'unknown',
      method,
      statusCode,
    }),
  });

  const countErrors = (list: readonly GraphQLError[] | undefined) => {
    for (const error of list ?? []) errors.inc({ code: String(error.extensions?.code ?? 'UNKNOWN').slice(0, 50) });
  };
  const observer: Plugin = {
    onResultProcess({ result }) {
      if (Array.isArray(result)) for (const item of result) countErrors((item as ExecutionResult).errors);
      else if (!isAsyncIterable(result)) countErrors((result as ExecutionResult).errors);
    },
    onResponse({ request, response, serverContext }) {
      responses.series({ status: String(sentStatus(request, response, serverContext)) }).inc();
    },
  };
  return { registry, plugins: [requestMetrics, observer] };
}

type SetFn = (labels: Record<string, string>, value: number) => void;

/** A gauge whose values are read from elsewhere when Prometheus scrapes. */
function gauge(registry: Registry, name: string, help: string, labelNames: string[], read: (set: SetFn) => void): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      read((labels, value) => this.set(labels, value));
    },
  });
}
