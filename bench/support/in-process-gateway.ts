/**
 * The gateway app in the benchmark's own process, from its production build
 * (dist/), over the aggregates benchmark's database (.data/bench-pg,
 * bench_<rows>: run `npm run bench -- aggregates --rows <rows>` once first),
 * with rollups refreshed and the response cache off: for harnesses that call
 * gateway.fetch and the layers below it side by side.
 */
import { fileURLToPath } from 'node:url';
import type { CompiledQuery } from 'kysely';
import { startEmbeddedPostgres } from '../../src/dev/embedded-postgres.js';
import { buildGateway } from './production-build.js';

export async function startInProcessGateway(rows: number, onQuery?: (statement: CompiledQuery) => void) {
  // gateway-modules picks the tree from the environment when it is first imported: build, then import.
  Object.assign(process.env, await buildGateway(console.log));
  const modules = await import('./gateway-modules.js');
  const embedded = await startEmbeddedPostgres({
    dataDir: fileURLToPath(new URL('../../.data/bench-pg', import.meta.url)),
    persistent: true,
  });
  const url = embedded.connectionString.replace(/\/postgres$/, `/bench_${rows}`);
  const loaded = modules.loadConfig({
    ...process.env,
    DATABASE_URL: url,
    ROLLUP_POLL_MS: '0',
    LOG_LEVEL: 'warn',
    RESPONSE_CACHE: 'off',
  });
  if (!loaded.database) throw new Error('no database in the configuration');
  const app = modules.createApp({
    config: { ...loaded, database: loaded.database },
    logger: modules.createLogger('warn'),
    onQuery,
  });
  const close = async () => {
    await app.close();
    await embedded.stop();
  };
  try {
    await app.initialised;
    await app.rollups.refresh();
  } catch (error) {
    await close();
    throw error;
  }
  return { app, url, modules, close };
}
