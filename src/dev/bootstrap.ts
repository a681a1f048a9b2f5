/**
 * Development fallback used by src/main.ts when no database is configured
 * outside production: an embedded PostgreSQL holding the synced table exactly
 * as Lakebase would, filled with the synthetic sample on first start.
 */
import path from 'node:path';
import pg from 'pg';
import { intVar, loadConfig, type DatabaseConfig } from '../config/env.js';
import type { Logger } from '../logger.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { loadSyntheticTrips } from './load/synthetic-trips.js';
import { ensureSyncedTable } from './synced-table.js';

/** Size of the reference data set (samples.nyctaxi.trips) the sample imitates. */
export const SAMPLE_ROWS = 21_932;

export interface DevEnvironment {
  database: DatabaseConfig;
  stop(): Promise<void>;
}

export async function startDevEnvironment(
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DevEnvironment> {
  const port = intVar(env, 'EMBEDDED_PG_PORT', 54329, 1, 65535);
  const dataDir = path.resolve(env.EMBEDDED_PG_DIR ?? '.data/pg');
  logger.warn(
    'No database configured (DATABASE_URL / PGHOST unset): starting the EMBEDDED PostgreSQL for local development. ' +
      'It is not Lakebase and is never used in production.',
    { dataDir, port },
  );
  const embedded = await startEmbeddedPostgres({ dataDir, port, persistent: true, log: (line) => logger.debug(line) });
  const loaded = loadConfig({ ...env, DATABASE_URL: embedded.connectionString });
  if (!loaded.database) throw new Error('embedded database configuration missing');
  const database: DatabaseConfig = { ...loaded.database, source: 'embedded' };

  const pool = new pg.Pool({ connectionString: embedded.connectionString, max: 2 });
  try {
    await ensureSyncedTable(pool, database.schema, database.table);
    const { rows } = await pool.query<{ count: string }>(
      `SELECT count(*) AS count FROM "${database.schema}"."${database.table}"`,
    );
    const existing = Number(rows[0]?.count ?? 0);
    if (existing === 0) {
      const result = await loadSyntheticTrips(pool, {
        schema: database.schema,
        table: database.table,
        rows: SAMPLE_ROWS,
      });
      logger.info('loaded the synthetic NYC taxi sample into the embedded database', {
        rows: result.rows,
        table: `${database.schema}.${database.table}`,
      });
    } else {
      logger.info('reusing the embedded database', { rows: existing, dataDir });
    }
  } finally {
    await pool.end();
  }
  logger.info('using the embedded development database', {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    table: `${database.schema}.${database.table}`,
  });
  return { database, stop: () => embedded.stop() };
}
