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
import { loadSampleIfEmpty } from './load/sample-if-empty.js';
import { ensureSyncedTable } from './synced-table.js';

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
    const sample = await loadSampleIfEmpty(pool, { schema: database.schema, table: database.table });
    if (sample.action === 'loaded') {
      logger.info('loaded the synthetic NYC taxi sample into the embedded database', {
        rows: sample.rows,
        seed: sample.seed,
        table: `${database.schema}.${database.table}`,
      });
    } else {
      logger.info('reusing the embedded database and its data', {
        dataDir,
        table: `${database.schema}.${database.table}`,
      });
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
