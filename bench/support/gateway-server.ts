/**
 * Child-process entry: the gateway exactly as src/main.ts wires it (createApp
 * + listen), on 127.0.0.1 and a free port, configured by the environment it is
 * given (DATABASE_URL, PG_POOL_MAX, ...). Started by startChildServer.
 */
import { announceReady, exitOnSignal } from './child-server.js';
import { createApp, createLogger, listen, loadConfig } from './gateway-modules.js';

// Started with production's V8 flags (child-server.ts passes V8_FLAGS, as app.yaml does).
const config = loadConfig();
if (!config.database) throw new Error('gateway-server: set DATABASE_URL (the benchmark passes it)');
const logger = createLogger(config.logLevel, { service: 'lakebase-graphql-bench' });
const app = createApp({ config: { ...config, database: config.database }, logger });
await app.initialised;
const server = await listen(app.gateway, 0, '127.0.0.1');
exitOnSignal(async () => {
  await server.close();
  await app.close();
});
announceReady(server.url);
