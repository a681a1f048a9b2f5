import { ConfigError, intVar, nonEmpty, type Env } from './variables.js';
import { parseLiveConfig, type LiveConfig } from './live.js';

export { ConfigError, intVar } from './variables.js';

/**
 * All configuration comes from the environment (as Databricks Apps supplies it)
 * and is parsed here, once, at startup. Anything malformed stops startup with a
 * ConfigError that names the variable, so a bad deploy fails loudly instead of
 * serving with a half-understood setting.
 */

export type SslMode = 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
const SSL_MODES: readonly SslMode[] = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

/** Where the Postgres connection settings came from; drives the startup log line. */
export type DatabaseSource = 'DATABASE_URL' | 'PG*' | 'embedded';

export interface DatabaseConfig {
  source: DatabaseSource;
  host: string;
  port: number;
  database: string;
  user: string;
  /** Static password; absent when an OAuth token provider supplies one per connection. */
  password: string | undefined;
  sslMode: SslMode;
  /** Schema holding the synced table ("default" in the reference app). */
  schema: string;
  table: string;
  /** Schema the gateway owns for its reference data and rollups. */
  gatewaySchema: string;
  poolMax: number;
  /** Seconds; connections are retired before this so none outlives an OAuth token. */
  maxLifetimeSeconds: number;
  statementTimeoutMs: number;
}

export interface LimitsConfig {
  /** Cap on trips(first/last). */
  maxPageSize: number;
  defaultPageSize: number;
  /** Cap on tripGroups(first) and on the number of groups a time bucketing may produce. */
  maxGroups: number;
  maxDepth: number;
  maxCost: number;
  maxAliases: number;
}

export interface RollupConfig {
  /** ROLLUPS=off answers every aggregate from the synced table. */
  enabled: boolean;
  /** ROLLUP_POLL_MS: how often the rollup's signature is compared with the synced table's; 0 = never. */
  pollMs: number;
  /**
   * ROLLUP_FRESHNESS: `trigger` (default) proves freshness exactly with statement triggers the gateway puts on
   * the synced table; `statistics` needs no DDL there but may miss an update or delete for about a second.
   */
  freshness: RollupFreshness;
}

export const ROLLUP_FRESHNESS = ['trigger', 'statistics'] as const;
export type RollupFreshness = (typeof ROLLUP_FRESHNESS)[number];

export interface Config {
  production: boolean;
  port: number;
  host: string;
  logLevel: LogLevel;
  /** Null when no database is configured: the dev entrypoint may then start an embedded one. */
  database: DatabaseConfig | null;
  limits: LimitsConfig;
  live: LiveConfig;
  rollups: RollupConfig;
  fastPaths: FastPathsConfig;
}

/** Switches for the fast paths that rely on what their platforms do not promise (src/server/fast-paths/). */
export interface FastPathsConfig {
  /** GRAPHQL_JIT: queries run as code compiled by graphql-jit; off runs them on graphql-js. */
  graphqlJit: boolean;
  /** SSE_DIRECT_WRITES: shared subscription events written straight to sockets; off sends them through the stream. */
  sseDirectWrites: boolean;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  const match = allowed.find((candidate) => candidate === raw.toLowerCase());
  if (!match) throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got "${raw}"`);
  return match;
}

function identifier(env: Env, name: string, fallback: string): string {
  const value = nonEmpty(env, name) ?? fallback;
  // Identifiers are always quoted in SQL; this only rejects values that are
  // certainly typos (empty, or containing quotes / NUL) and would be confusing.
  if (value.length > 63 || /["\0]/.test(value)) {
    throw new ConfigError(name, `"${value}" is not a valid Postgres identifier`);
  }
  return value;
}

export function isProduction(env: Env): boolean {
  return env.NODE_ENV === 'production' || nonEmpty(env, 'DATABRICKS_APP_NAME') !== undefined;
}

function parseDatabase(env: Env): DatabaseConfig | null {
  const common = {
    schema: identifier(env, 'PGSCHEMA', 'default'),
    table: identifier(env, 'TRIPS_TABLE', 'trips_synced'),
    gatewaySchema: identifier(env, 'GATEWAY_SCHEMA', 'lakebase_graphql'),
    poolMax: intVar(env, 'PG_POOL_MAX', 10, 1, 1000),
    // Lakebase OAuth tokens live one hour and are checked only at login, so a
    // connection must be retired before the token that opened it expires.
    maxLifetimeSeconds: intVar(env, 'PG_MAX_LIFETIME_SECONDS', 45 * 60, 10, 24 * 3600),
    statementTimeoutMs: intVar(env, 'PG_STATEMENT_TIMEOUT_MS', 30_000, 0, 3_600_000),
  };
  const url = nonEmpty(env, 'DATABASE_URL');
  if (url !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError(
        'DATABASE_URL',
        'is not a valid URL (expected postgres://user:password@host:port/database)',
      );
    }
    if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
      throw new ConfigError('DATABASE_URL', `expected a postgres:// URL, got protocol "${parsed.protocol}"`);
    }
    const port = parsed.port === '' ? 5432 : Number(parsed.port);
    const sslParam = parsed.searchParams.get('sslmode');
    const sslMode = sslParam === null ? oneOf(env, 'PGSSLMODE', SSL_MODES, 'prefer') : toSslMode(sslParam);
    return {
      ...common,
      source: 'DATABASE_URL',
      host: decodeURIComponent(parsed.hostname),
      port,
      database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || 'postgres',
      user: decodeURIComponent(parsed.username) || 'postgres',
      password: parsed.password === '' ? nonEmpty(env, 'PGPASSWORD') : decodeURIComponent(parsed.password),
      sslMode,
    };
  }
  const host = nonEmpty(env, 'PGHOST');
  if (host === undefined) return null;
  const user = nonEmpty(env, 'PGUSER');
  if (user === undefined) throw new ConfigError('PGUSER', 'is required when PGHOST is set');
  return {
    ...common,
    source: 'PG*',
    host,
    port: intVar(env, 'PGPORT', 5432, 1, 65535),
    database: nonEmpty(env, 'PGDATABASE') ?? 'databricks_postgres',
    user,
    password: nonEmpty(env, 'PGPASSWORD'),
    sslMode: oneOf(env, 'PGSSLMODE', SSL_MODES, 'prefer'),
  };
}

function toSslMode(raw: string): SslMode {
  const match = SSL_MODES.find((mode) => mode === raw.toLowerCase());
  if (!match) throw new ConfigError('DATABASE_URL', `sslmode must be one of ${SSL_MODES.join(', ')}, got "${raw}"`);
  return match;
}

export function loadConfig(env: Env = process.env): Config {
  const production = isProduction(env);
  // Databricks Apps assigns DATABRICKS_APP_PORT; PORT is the common convention elsewhere.
  const portVar = nonEmpty(env, 'DATABRICKS_APP_PORT') !== undefined ? 'DATABRICKS_APP_PORT' : 'PORT';
  const database = parseDatabase(env);
  if (production && database === null) {
    throw new ConfigError(
      'PGHOST',
      'no database configured: set PGHOST/PGUSER (Databricks Apps database resource) or DATABASE_URL. ' +
        'The embedded development database is disabled in production.',
    );
  }
  const maxPageSize = intVar(env, 'MAX_PAGE_SIZE', 1000, 1, 100_000);
  const maxGroups = intVar(env, 'MAX_GROUPS', 10_000, 1, 1_000_000);
  return {
    production,
    port: intVar(env, portVar, 8000, 0, 65535),
    host: nonEmpty(env, 'HOST') ?? '0.0.0.0',
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    database,
    limits: {
      maxPageSize,
      defaultPageSize: intVar(env, 'DEFAULT_PAGE_SIZE', Math.min(100, maxPageSize), 1, maxPageSize),
      maxGroups,
      maxDepth: intVar(env, 'MAX_QUERY_DEPTH', 10, 2, 100),
      // Cost measures the response (one point per field per object). A BI tool asks for every group of a
      // question at once, so the default admits one full-size tripGroups answer with every field (24 per
      // group), and not two.
      maxCost: intVar(env, 'MAX_QUERY_COST', Math.max(50_000, 30 * maxGroups), 10, 100_000_000),
      maxAliases: intVar(env, 'MAX_ALIASES', 250, 1, 10_000),
    },
    live: parseLiveConfig(env),
    rollups: {
      enabled: oneOf(env, 'ROLLUPS', ['on', 'off'] as const, 'on') === 'on',
      pollMs: intVar(env, 'ROLLUP_POLL_MS', 10_000, 0, 3_600_000),
      freshness: oneOf(env, 'ROLLUP_FRESHNESS', ROLLUP_FRESHNESS, 'trigger'),
    },
    fastPaths: {
      graphqlJit: oneOf(env, 'GRAPHQL_JIT', ['on', 'off'] as const, 'on') === 'on',
      sseDirectWrites: oneOf(env, 'SSE_DIRECT_WRITES', ['on', 'off'] as const, 'on') === 'on',
    },
  };
}
