/**
 * The database the dev CLI commands work on: the one configured in the
 * environment (DATABASE_URL or PG*), else the embedded development database in
 * .data/pg, reused when `npm start` already runs it and started otherwise.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { ConfigError, loadConfig } from '../config/env.js';
import { read } from '../config/variables.js';
import { qualified } from '../db/sql-identifiers.js';
import { connectionSettings } from '../db/pool.js';
import { clientClassFor } from '../db/preferred-tls.js';
import { settleSslMode } from '../db/ssl-preference.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { runningServerOf, stopServer } from './orphaned-postgres.js';
import type { TripsTable } from './load/copy-trips.js';
import { ensureSyncedTable } from './synced-table.js';

export interface DevDatabase {
  pool: pg.Pool;
  /** The synced table (PGSCHEMA / TRIPS_TABLE, default "default"."trips_synced"). */
  target: TripsTable;
  schema: string;
  table: string;
  /** Where the data goes, for the user. */
  description: string;
  /** The embedded development database (not one configured by DATABASE_URL / PG*): an empty one gets the sample. */
  embedded: boolean;
  close(): Promise<void>;
}

type Env = Readonly<Record<string, string | undefined>>;

export const DEV_DATA_DIR = fileURLToPath(new URL('../../.data/pg', import.meta.url));

/** EMBEDDED_PG_DIR (relative to the working directory), else .data/pg of this checkout: one cluster for `npm start` and `npm run data`. */
export function embeddedDataDir(env: Env = process.env): string {
  const configured = read(env, 'EMBEDDED_PG_DIR');
  return configured === undefined ? DEV_DATA_DIR : path.resolve(configured);
}

export interface OpenOptions {
  log?: (line: string) => void;
  poolMax?: number;
}

export async function openDevDatabase(env: Env = process.env, options: OpenOptions = {}): Promise<DevDatabase> {
  const log = options.log ?? ((line: string) => console.error(line));
  const max = options.poolMax ?? 4;
  const config = loadConfig(env);
  if (config.production) {
    throw new ConfigError(
      'NODE_ENV',
      'the dev data commands write the source and synced tables and refuse to run in production',
    );
  }
  if (config.database) {
    // As the gateway settles it (db/ssl-preference.ts): unsettled, `prefer` meant the clear.
    const db = await settleSslMode(
      config.database,
      { lakebaseCredentials: false },
      {
        info: () => {},
        warn: (message) => log(`warning: ${message}`),
      },
    );
    const target = { schema: db.schema, table: db.table };
    // The gateway's own settings and Client: a `prefer` the server could not be asked about yet asks again per
    // connection (db/preferred-tls.ts) instead of meaning the clear.
    const pool = new pg.Pool({
      ...connectionSettings(db, undefined),
      Client: clientClassFor(db, { info: (message) => log(message) }),
      max,
      application_name: 'lakebase-dev-cli',
    });
    const description = `${db.source} database ${db.user}@${db.host}:${db.port}/${db.database}`;
    log(`using the ${description}`);
    return opened(pool, target, { description, embedded: false }, async () => {});
  }

  const port = read(env, 'EMBEDDED_PG_PORT');
  const dataDir = embeddedDataDir(env);
  // Same names as a configured database would use (PGSCHEMA, TRIPS_TABLE).
  const target = { schema: read(env, 'PGSCHEMA'), table: read(env, 'TRIPS_TABLE') };
  const url = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  let stop: () => Promise<void>;
  let description = `embedded development database on port ${port} (already running)`;
  const pool = new pg.Pool({ connectionString: url, max, application_name: 'lakebase-dev-cli' });
  if (!(await accepts(url, port))) {
    log(`starting the embedded development database in ${dataDir} on port ${port}`);
    const embedded = await startEmbeddedPostgres({ dataDir, port });
    // Stopped when the command ends, unless another command (or a gateway) connected to it meanwhile: stopping
    // it killed theirs mid-way. Left running, it is reused by the next command and taken over by `npm start`.
    stop = async () => {
      const others = await otherClients(url);
      if (others > 0) {
        log(`leaving the embedded development database running: ${others} other connection(s) use it`);
        embedded.release();
        return;
      }
      await embedded.stop();
    };
    description = `embedded development database in ${dataDir} on port ${port}`;
  } else {
    // Left running by a command that ended while this one used it: this one stops it when it is the last to use
    // it. One that `npm start` runs (its parent is alive) is left alone.
    stop = async () => {
      const running = await runningServerOf(dataDir);
      if (!running?.orphaned || (await otherClients(url)) > 0) return;
      log('stopping the embedded development database that another command left running (nothing else uses it)');
      await stopServer(running.pid);
    };
  }
  log(`using the ${description} (for development only)`);
  return opened(pool, target, { description, embedded: true }, stop);
}

/** Client connections to the database other than this process's own (its pool is closed by then). */
async function otherClients(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const { rows } = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()`,
    );
    return rows[0]?.n ?? 0;
  } catch {
    return 0;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function opened(
  pool: pg.Pool,
  target: TripsTable,
  { description, embedded }: { description: string; embedded: boolean },
  stop: () => Promise<void>,
): Promise<DevDatabase> {
  // An idle connection the server ends (the database stopped by the process that started it, a restart of
  // `npm start`) is an 'error' event on the pool: unhandled, it killed the command with a dump of the client.
  // A query in flight fails on its own, and the command says so in one line (cli.ts).
  let closing = false;
  pool.on('error', (error) => {
    if (!closing) console.error(`the database connection was closed: ${error.message}`);
  });
  const close = async () => {
    closing = true;
    await pool.end();
    await stop();
  };
  try {
    await ensureTable(pool, target);
  } catch (error) {
    await close();
    throw error;
  }
  return { pool, target, schema: target.schema, table: target.table, description, embedded, close };
}

/** Creates the synced table only when missing: on a real Lakebase the sync pipeline owns it. */
async function ensureTable(pool: pg.Pool, target: TripsTable): Promise<void> {
  const { rows } = await pool.query<{ found: string | null }>('SELECT to_regclass($1) AS found', [
    qualified(target.schema, target.table),
  ]);
  if (rows[0]?.found === null) await ensureSyncedTable(pool, target.schema, target.table);
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
