/**
 * The database the data CLI works on: the one configured in the environment
 * (DATABASE_URL or PG*), else the embedded development database in .data/pg,
 * which it reuses when `npm start` already runs it and starts otherwise.
 */
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { intVar, loadConfig, type DatabaseConfig } from '../config/env.js';
import { qualified } from '../db/sql-identifiers.js';
import type { TripsTable } from './load/copy-trips.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { ensureSyncedTable } from './synced-table.js';

export interface DevDatabase {
  pool: pg.Pool;
  target: TripsTable;
  /** Where the data goes, for the user. */
  description: string;
  close(): Promise<void>;
}

type Env = Readonly<Record<string, string | undefined>>;

export const DEV_DATA_DIR = fileURLToPath(new URL('../../.data/pg', import.meta.url));
export const DEFAULT_EMBEDDED_PORT = 54329;

function sslOption(config: DatabaseConfig): pg.PoolConfig['ssl'] {
  switch (config.sslMode) {
    case 'disable':
    case 'allow':
    case 'prefer':
      return false;
    case 'require':
      return { rejectUnauthorized: false };
    default:
      return { rejectUnauthorized: true };
  }
}

async function reachable(connectionString: string): Promise<boolean> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Creates the synced table only when missing: on a real Lakebase the sync pipeline owns it. */
async function ensureTable(pool: pg.Pool, target: TripsTable): Promise<void> {
  const { rows } = await pool.query<{ found: string | null }>('SELECT to_regclass($1) AS found', [
    qualified(target.schema, target.table),
  ]);
  if (rows[0]?.found === null) await ensureSyncedTable(pool, target.schema, target.table);
}

export async function openDevDatabase(env: Env, log: (line: string) => void): Promise<DevDatabase> {
  const config = loadConfig(env);
  if (config.database) {
    const db = config.database;
    const target = { schema: db.schema, table: db.table };
    const pool = new pg.Pool({
      host: db.host,
      port: db.port,
      database: db.database,
      user: db.user,
      password: db.password,
      ssl: sslOption(db),
      max: 2,
    });
    await ensureTable(pool, target);
    const description = `${db.source} database ${db.user}@${db.host}:${db.port}/${db.database}`;
    log(`using the ${description}`);
    return { pool, target, description, close: () => pool.end() };
  }

  const port = intVar(env, 'EMBEDDED_PG_PORT', DEFAULT_EMBEDDED_PORT, 1, 65535);
  // Same names as a configured database would use (PGSCHEMA, TRIPS_TABLE).
  const target = { schema: env.PGSCHEMA?.trim() || 'default', table: env.TRIPS_TABLE?.trim() || 'trips_synced' };
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  let stop = async (): Promise<void> => {};
  let description = `embedded development database on port ${port} (already running)`;
  if (!(await reachable(url))) {
    log(`starting the embedded development database in ${DEV_DATA_DIR} on port ${port}`);
    const embedded = await startEmbeddedPostgres({ dataDir: DEV_DATA_DIR, port });
    stop = () => embedded.stop();
    description = `embedded development database in ${DEV_DATA_DIR} on port ${port}`;
  }
  log(`using the ${description} (for development only)`);
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  try {
    await ensureTable(pool, target);
  } catch (error) {
    await pool.end();
    await stop();
    throw error;
  }
  return {
    pool,
    target,
    description,
    close: async () => {
      await pool.end();
      await stop();
    },
  };
}
