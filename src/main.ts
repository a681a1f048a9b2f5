/**
 * Entrypoint: `npm start`. Reads the environment, connects (or, in
 * development with no database configured, starts the embedded one), serves.
 */
import { createApp } from './app.js';
import { ConfigError, loadConfig, type Config, type DatabaseConfig } from './config/env.js';
import { createLogger, type Logger } from './logger.js';
import { listen } from './server/http.js';

interface DevEnvironment {
  database: DatabaseConfig;
  stop(): Promise<void>;
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`lakebase-graphql: configuration error: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const logger = createLogger(config.logLevel, { service: 'lakebase-graphql' });

  let dev: DevEnvironment | undefined;
  let database = config.database;
  if (database === null) {
    // Loaded lazily so production never even imports the development machinery.
    const { startDevEnvironment } = await import('./dev/bootstrap.js');
    dev = await startDevEnvironment(logger);
    database = dev.database;
  } else {
    logger.info('using the configured database', describe(database));
  }

  const app = createApp({ config: { ...config, database }, logger });
  const server = await listen(app.gateway, config.port, config.host);
  logger.info(`GraphQL endpoint ready at ${server.url}`, { port: config.port, host: config.host });
  app.initialised.catch(() => {});

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    await server.close();
    await app.close();
    await dev?.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('unhandledRejection', (reason) => logUnexpected(logger, 'unhandled rejection', reason));
}

function describe(database: DatabaseConfig) {
  return {
    source: database.source,
    host: database.host,
    port: database.port,
    database: database.database,
    user: database.user,
    sslMode: database.sslMode,
    table: `${database.schema}.${database.table}`,
  };
}

function logUnexpected(logger: Logger, message: string, reason: unknown): void {
  logger.error(message, { error: reason instanceof Error ? reason.stack : String(reason) });
}

main().catch((error: unknown) => {
  process.stderr.write(`lakebase-graphql: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
