import type { LogLevel } from '../logger.js';
import { parseEdgeConfig, type EdgeConfig } from './edge.js';
import { parseLiveConfig, type LiveConfig } from './live.js';
import { readSslRootCert, type SslRootCert } from '../db/ssl.js';
import {
  applicationNameProblem,
  ConfigError,
  read,
  SSL_MODES,
  type Env,
  type RollupFreshness,
  type SslMode,
} from './variables.js';

export type { LogLevel } from '../logger.js';
export { ConfigError, ROLLUP_FRESHNESS, type RollupFreshness, type SslMode } from './variables.js';

/**
 * All configuration comes from the environment (as Databricks Apps supplies it)
 * and is parsed here, once, at startup. Anything malformed stops startup with a
 * ConfigError that names the variable, so a bad deploy fails loudly instead of
 * serving with a half-understood setting.
 */

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
  /** PGSSLROOTCERT / `sslrootcert`: the CAs the server's certificate must chain to (db/ssl.ts). */
  sslRootCert?: SslRootCert | undefined;
  /** Schema holding the synced table ("default" in the reference app). */
  schema: string;
  table: string;
  /** Schema the gateway owns for its reference data and rollups. */
  gatewaySchema: string;
  poolMax: number;
  /** How long a query waits for a free pooled connection before DATABASE_BUSY. */
  poolWaitMs: number;
  /** Seconds; connections are retired before this so none outlives an OAuth token. */
  maxLifetimeSeconds: number;
  /**
   * DB_IDLE_AFTER_MS: background queries pause after this long without requests or subscribers (0 = never);
   * undefined until main.ts derives it from the Lakebase target (db/database-activity.ts).
   */
  idleAfterMs: number | undefined;
  statementTimeoutMs: number;
  /**
   * `application_name` in DATABASE_URL, else PGAPPNAME, as libpq reads them: what pg_stat_activity shows for the
   * pool's connections, so an operator can tell two deployments (or the LISTEN connection) apart.
   */
  applicationName: string;
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

export interface ResponseCacheConfig {
  /** RESPONSE_CACHE=off answers every query from the database. */
  enabled: boolean;
  /** RESPONSE_CACHE_MAX_BYTES: the cache's bound (serialized answers plus keys); least recently used go first. */
  maxBytes: number;
}

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
  responseCache: ResponseCacheConfig;
  fastPaths: FastPathsConfig;
  edge: EdgeConfig;
}

/** Switches for the fast paths that rely on what their platforms do not promise (src/server/fast-paths/). */
export interface FastPathsConfig {
  /** GRAPHQL_JIT: queries run as code compiled by graphql-jit; off runs them on graphql-js. */
  graphqlJit: boolean;
  /** SSE_DIRECT_WRITES: shared subscription events written straight to sockets; off sends them through the stream. */
  sseDirectWrites: boolean;
}

export function isProduction(env: Env): boolean {
  return env.NODE_ENV === 'production' || read(env, 'DATABRICKS_APP_NAME') !== undefined;
}

function parseDatabase(env: Env): DatabaseConfig | null {
  const common = {
    schema: read(env, 'PGSCHEMA'),
    table: read(env, 'TRIPS_TABLE'),
    gatewaySchema: read(env, 'GATEWAY_SCHEMA'),
    poolMax: read(env, 'PG_POOL_MAX'),
    poolWaitMs: read(env, 'PG_POOL_WAIT_MS'),
    // Lakebase OAuth tokens live one hour and are checked only at login, so a
    // connection must be retired before the token that opened it expires.
    maxLifetimeSeconds: read(env, 'PG_MAX_LIFETIME_SECONDS'),
    idleAfterMs: read(env, 'DB_IDLE_AFTER_MS'),
    statementTimeoutMs: read(env, 'PG_STATEMENT_TIMEOUT_MS'),
    applicationName: read(env, 'PGAPPNAME'),
  };
  const url = read(env, 'DATABASE_URL');
  if (url !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError(
        'DATABASE_URL',
        'is not a valid URL (expected one such as postgres://gateway@db.example.com:5432/trips, the password after the user or in PGPASSWORD)',
      );
    }
    if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
      throw new ConfigError('DATABASE_URL', `expected a postgres:// URL, got protocol "${parsed.protocol}"`);
    }
    const port = parsed.port === '' ? 5432 : Number(parsed.port);
    const sslParam = parsed.searchParams.get('sslmode');
    const sslMode = sslParam === null ? read(env, 'PGSSLMODE') : toSslMode(sslParam);
    const rootCertParam = parsed.searchParams.get('sslrootcert');
    const applicationName = parsed.searchParams.get('application_name');
    return {
      ...common,
      ...(applicationName === null ? {} : { applicationName: readApplicationName('DATABASE_URL', applicationName) }),
      source: 'DATABASE_URL',
      // An IPv6 literal keeps its brackets in URL.hostname ([::1]); a connection needs the address itself.
      host: decodeUrlPart(parsed.hostname.replace(/^\[(.*)\]$/, '$1'), 'host'),
      port,
      database: decodeUrlPart(parsed.pathname.replace(/^\//, ''), 'database name') || 'postgres',
      user: decodeUrlPart(parsed.username, 'user') || 'postgres',
      password: parsed.password === '' ? read(env, 'PGPASSWORD') : decodeUrlPart(parsed.password, 'password'),
      sslMode,
      sslRootCert:
        rootCertParam === null
          ? readSslRootCert('PGSSLROOTCERT', read(env, 'PGSSLROOTCERT'), sslMode)
          : readSslRootCert('DATABASE_URL', rootCertParam, sslMode),
    };
  }
  const host = read(env, 'PGHOST');
  if (host === undefined) return null;
  const user = read(env, 'PGUSER');
  if (user === undefined) throw new ConfigError('PGUSER', 'is required when PGHOST is set');
  return {
    ...common,
    source: 'PG*',
    host,
    port: read(env, 'PGPORT'),
    database: read(env, 'PGDATABASE') ?? 'databricks_postgres',
    user,
    password: read(env, 'PGPASSWORD'),
    sslMode: read(env, 'PGSSLMODE'),
    sslRootCert: readSslRootCert('PGSSLROOTCERT', read(env, 'PGSSLROOTCERT'), read(env, 'PGSSLMODE')),
  };
}

/** A percent-encoded part of DATABASE_URL; a bad escape is named without quoting the value (it may be a password). */
function decodeUrlPart(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new ConfigError('DATABASE_URL', `the ${what} holds a malformed percent-escape (write % itself as %25)`);
  }
}

function readApplicationName(variable: string, value: string): string {
  const problem = applicationNameProblem(value);
  if (problem !== undefined) throw new ConfigError(variable, `application_name ${problem}`);
  return value;
}

function toSslMode(raw: string): SslMode {
  const match = SSL_MODES.find((mode) => mode === raw.toLowerCase());
  if (!match) throw new ConfigError('DATABASE_URL', `sslmode must be one of ${SSL_MODES.join(', ')}, got "${raw}"`);
  return match;
}

export function loadConfig(env: Env = process.env): Config {
  const production = isProduction(env);
  // Databricks Apps assigns DATABRICKS_APP_PORT; PORT is the common convention elsewhere.
  const port = read(env, 'DATABRICKS_APP_PORT') ?? read(env, 'PORT');
  const database = parseDatabase(env);
  if (production && database === null) {
    throw new ConfigError(
      'PGHOST',
      'no database configured: set PGHOST/PGUSER (Databricks Apps database resource) or DATABASE_URL. ' +
        'The embedded development database is disabled in production.',
    );
  }
  const maxPageSize = read(env, 'MAX_PAGE_SIZE');
  const maxGroups = read(env, 'MAX_GROUPS');
  return {
    production,
    port,
    host: read(env, 'HOST') ?? '0.0.0.0',
    logLevel: read(env, 'LOG_LEVEL'),
    database,
    limits: {
      maxPageSize,
      defaultPageSize: atMost(env, 'DEFAULT_PAGE_SIZE', Math.min(100, maxPageSize), maxPageSize),
      maxGroups,
      maxDepth: read(env, 'MAX_QUERY_DEPTH'),
      // Cost measures the response (one point per field per object). A BI tool asks for every group of a
      // question at once, so the default admits one full-size tripGroups answer with every field (24 per
      // group), and not two.
      maxCost: read(env, 'MAX_QUERY_COST') ?? Math.max(50_000, 30 * maxGroups),
      maxAliases: read(env, 'MAX_ALIASES'),
    },
    live: parseLiveConfig(env),
    rollups: {
      enabled: read(env, 'ROLLUPS'),
      pollMs: read(env, 'ROLLUP_POLL_MS'),
      freshness: read(env, 'ROLLUP_FRESHNESS'),
    },
    responseCache: {
      enabled: read(env, 'RESPONSE_CACHE'),
      maxBytes: read(env, 'RESPONSE_CACHE_MAX_BYTES'),
    },
    fastPaths: {
      graphqlJit: read(env, 'GRAPHQL_JIT'),
      sseDirectWrites: read(env, 'SSE_DIRECT_WRITES'),
    },
    edge: parseEdgeConfig(env, production),
  };
}

/** A variable whose upper bound is another variable's value (DEFAULT_PAGE_SIZE ≤ MAX_PAGE_SIZE). */
function atMost(env: Env, name: 'DEFAULT_PAGE_SIZE', fallback: number, max: number): number {
  const value = read(env, name);
  if (value === undefined) return fallback;
  if (value > max) throw new ConfigError(name, `must be between 1 and ${max}, got ${value}`);
  return value;
}
