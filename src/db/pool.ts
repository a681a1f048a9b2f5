import pg from 'pg';
import type { DatabaseConfig } from '../config/env.js';
import type { Logger } from '../logger.js';
import { clientClassFor } from './preferred-tls.js';
import { pgSslOption } from './ssl.js';
import { gatewayTypeParsers } from './timestamptz-parser.js';

/** A static password, or a function pg calls for every new connection (Lakebase OAuth tokens). */
export type PasswordSource = string | (() => Promise<string>);

export interface PoolOptions {
  password?: PasswordSource;
  /** Client class; see lakebase/pg-client.ts for why OAuth connections use their own. */
  Client?: typeof pg.Client;
  logger: Logger;
  /**
   * 'gateway' (the default): timestamptz read by db/timestamptz-parser.ts, the same Dates faster.
   * 'pg': pg's own parsers, for a benchmark baseline that stands for plain `pg` as its users run it.
   */
  typeParsers?: 'gateway' | 'pg';
}

/** Where and as whom to connect: shared by the pool and the dedicated (LISTEN) connections. */
export function connectionSettings(config: DatabaseConfig, password: PasswordSource | undefined) {
  return {
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.user,
    password: password ?? config.password,
    ssl: pgSslOption(config),
  };
}

export function createPool(config: DatabaseConfig, options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    ...connectionSettings(config, options.password),
    max: config.poolMax,
    maxLifetimeSeconds: config.maxLifetimeSeconds,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: config.poolWaitMs,
    statement_timeout: config.statementTimeoutMs || undefined,
    application_name: config.applicationName,
    ...(options.typeParsers === 'pg' ? {} : { types: gatewayTypeParsers }),
    Client: clientClassFor(config, options.logger, options.Client),
  });
  // An idle connection that dies (database restart, network blip, token-expired
  // disconnect) emits 'error' on the pool; unhandled, that would kill the process.
  pool.on('error', (error) => {
    // While the pool ends (shutdown), its connections may still be closing when the server stops: expected.
    if (pool.ending)
      options.logger.debug('idle database connection closed while the pool ends', { error: error.message });
    else options.logger.warn('idle database connection closed', { error: error.message });
  });
  // A checked-out connection that dies between two statements (a transaction,
  // a rollup build holding its advisory lock) emits 'error' on the client
  // itself, where the pool's handler does not hear it; unhandled, that too
  // would kill the process. The holder still learns of it: its next query fails.
  pool.on('connect', (client) => {
    client.on('error', (error) => {
      options.logger.debug('database connection closed while checked out', { error: error.message });
    });
  });
  return pool;
}
