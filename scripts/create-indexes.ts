/**
 * `npm run indexes` creates the indexes recommended for the aggregate API on
 * the synced table (see src/aggregates/indexes.ts and docs/aggregates.md).
 * Idempotent and online (CREATE INDEX CONCURRENTLY); safe to run again after
 * every deploy. `--print` only prints the statements.
 *
 * Database: DATABASE_URL or PGHOST/PGUSER/... (as the gateway), else the
 * embedded development database.
 */
import { RECOMMENDED_INDEXES, createRecommendedIndexes, indexDdl } from '../src/aggregates/indexes.js';
import { loadConfig } from '../src/config/env.js';
import { createPool } from '../src/db/pool.js';
import { settleSslMode } from '../src/db/ssl-preference.js';
import { createLogger } from '../src/logger.js';

const config = loadConfig();
const out = (line: string) => console.log(line);

if (process.argv.includes('--print')) {
  const schema = config.database?.schema ?? 'default';
  const table = config.database?.table ?? 'trips_synced';
  for (const index of RECOMMENDED_INDEXES) out(`${indexDdl(schema, table, index)};`);
} else if (config.database) {
  // Index builds take minutes on large tables: no statement timeout for this session.
  const logger = createLogger('warn');
  // As the gateway settles it (src/db/ssl-preference.ts): unsettled, `prefer` meant the clear.
  const database = await settleSslMode(config.database, { lakebaseCredentials: false }, logger);
  const pool = createPool({ ...database, statementTimeoutMs: 0, poolMax: 1 }, { logger });
  try {
    await createRecommendedIndexes(pool, config.database.schema, config.database.table, out);
  } finally {
    await pool.end();
  }
} else {
  const { openDevDatabase } = await import('../src/dev/dev-database.js');
  const dev = await openDevDatabase(process.env, { log: out });
  try {
    await createRecommendedIndexes(dev.pool, dev.target.schema, dev.target.table, out);
  } finally {
    await dev.close();
  }
}
