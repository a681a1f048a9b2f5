/**
 * A gateway in its own process, for measurements that must not see the test
 * runner's heap: `node --expose-gc --import tsx gateway-child.ts` with
 * DATABASE_URL (and any other configuration) in its environment. It sends
 * `{ origin }` once listening, and answers each "memory" message with its
 * heap and RSS after a full garbage collection.
 */
import { createApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/env.js';
import { ensureSyncedTable } from '../../src/dev/synced-table.js';
import { silentLogger } from '../../src/logger.js';
import { listen } from '../../src/server/http/listen.js';

const loaded = loadConfig(process.env);
if (!loaded.database) throw new Error('gateway-child needs DATABASE_URL');
const config = { ...loaded, database: loaded.database };
const app = createApp({ config, logger: silentLogger });
const setup = await import('pg').then(async ({ default: pg }) => {
  const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 1 });
  await ensureSyncedTable(pool, 'default', 'trips_synced');
  await pool.end();
});
void setup;
await app.initialised;
const http = await listen(app.gateway, 0, '127.0.0.1', config.edge);
const gc = (globalThis as { gc?: () => void }).gc;

process.on('message', (message) => {
  if (message === 'memory') {
    // Twice: the first collection can leave garbage that finalizers freed for the second.
    gc?.();
    gc?.();
    const { heapUsed, rss } = process.memoryUsage();
    process.send?.({ heapUsed, rss });
  } else if (message === 'stop') {
    void http
      .close()
      .then(() => app.close())
      .then(() => process.exit(0));
  }
});
process.send?.({ origin: new URL(http.url).origin });
