/**
 * Connection for the dev CLI commands: DATABASE_URL / PG* when set, else the
 * embedded development database (.data/pg on EMBEDDED_PG_PORT, default 54329),
 * reusing the one a running dev server already started, or starting it for the
 * duration of the command.
 */
import pg from 'pg';
import { ConfigError, intVar, loadConfig, type DatabaseConfig } from '../config/env.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';

export const DEFAULT_EMBEDDED_PORT = 54329;
export const EMBEDDED_DATA_DIR = '.data/pg';

export interface DevDatabase {
  pool: pg.Pool;
  /** Synced table location from PGSCHEMA / TRIPS_TABLE (defaults "default"."trips_synced"). */
  schema: string;
  table: string;
  /** "DATABASE_URL", "PG*", "embedded (running)" or "embedded (started)", for log lines. */
  origin: string;
  close(): Promise<void>;
}

type Env = Readonly<Record<string, string | undefined>>;

export async function openDevDatabase(
  env: Env = process.env,
  options: { poolMax?: number } = {},
): Promise<DevDatabase> {
  const config = loadConfig(env);
  if (config.production) {
    throw new ConfigError(
      'NODE_ENV',
      'the dev data commands write the source and synced tables and refuse to run in production',
    );
  }
  const max = options.poolMax ?? 4;
  if (config.database) {
    const pool = new pg.Pool({ ...connectionOptions(config.database), max, application_name: 'lakebase-dev-cli' });
    return {
      pool,
      schema: config.database.schema,
      table: config.database.table,
      origin: config.database.source,
      close: () => pool.end(),
    };
  }
  const port = intVar(env, 'EMBEDDED_PG_PORT', DEFAULT_EMBEDDED_PORT, 1, 65535);
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  let stop: (() => Promise<void>) | null = null;
  if (!(await accepts(url, port))) {
    const embedded = await startEmbeddedPostgres({ dataDir: EMBEDDED_DATA_DIR, port });
    stop = embedded.stop;
  }
  const pool = new pg.Pool({ connectionString: url, max, application_name: 'lakebase-dev-cli' });
  return {
    pool,
    schema: 'default',
    table: 'trips_synced',
    origin: stop ? 'embedded (started)' : 'embedded (running)',
    async close() {
      await pool.end();
      await stop?.();
    },
  };
}

function connectionOptions(db: DatabaseConfig): pg.PoolConfig {
  return {
    host: db.host,
    port: db.port,
    database: db.database,
    user: db.user,
    password: db.password,
    ssl:
      db.sslMode === 'require' || db.sslMode === 'verify-ca' || db.sslMode === 'verify-full'
        ? { rejectUnauthorized: db.sslMode === 'verify-full' }
        : undefined,
  };
}

/** True when a server answers; false when nothing listens (so one may be started); throws otherwise. */
async function accepts(url: string, port: number): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch (error) {
    if (typeof error === 'object' && error !== null && 'code' in error && error.code === 'ECONNREFUSED') return false;
    throw new Error(
      `EMBEDDED_PG_PORT=${port}: something listens there but the dev database login failed ` +
        `(${error instanceof Error ? error.message : String(error)}); set DATABASE_URL or another EMBEDDED_PG_PORT`,
      { cause: error },
    );
  }
}
