/**
 * Entrypoint: `npm start`. Reads the environment, connects (or, in
 * development with no database configured, starts the embedded one), serves.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createApp, type App } from './app.js';
import { defaultIdleAfterMs, loadDatabricksConfig, type DatabricksConfig } from './config/databricks.js';
import { ConfigError, loadConfig, type DatabaseConfig } from './config/env.js';
import { wireDatabricks } from './databricks-wiring.js';
import { errorMessage } from './errors.js';
import { raiseSslForLakebase, resolvePreferredSsl } from './db/ssl-preference.js';
import { passwordIsLakebaseToken } from './lakebase/password-source.js';
import { createLogger, type Logger } from './logger.js';
import { loggableEndpoint, tracingSettings } from './observability/tracing.js';
import { logRefusedRequest } from './observability/access-log.js';
import { listen } from './server/http/listen.js';
import { v8FlagsState } from './server/fast-paths/v8-flags.js';
import { DEFAULT_WEB_DIR } from './server/web-page.js';
import { buildIdentity } from './observability/build-identity.js';
import { CachedSyncStatus } from './sync/cached-sync-status.js';
import type { SyncService } from './sync/service.js';
import type { SyncSource } from './sync/source.js';

interface DevEnvironment {
  database: DatabaseConfig;
  syncSource: SyncSource;
  stop(): Promise<void>;
}

async function main(): Promise<void> {
  const config = exitOnConfigError(() => loadConfig());
  const logger = createLogger(config.logLevel, { service: 'lakebase-graphql' });
  // Which code this is: in a rolling deploy, instances of two builds answer side by side (also on /health).
  logger.info('lakebase-graphql starting', { ...buildIdentity(), node: process.version });
  // Fast paths (src/server/fast-paths/README.md): what is on, so a slow instance can be told from a switched-off one.
  logger.info('fast paths', { ...v8FlagsState(), ...config.fastPaths });
  // Before any database work: a Lakebase setting missing on Databricks Apps should stop startup at once.
  const databricksConfig = exitOnConfigError(() => loadDatabricksConfig());
  // Before the password source and the pool are made from the settings: on Lakebase, require means verify-full.
  const configuredDatabase =
    config.database &&
    raiseSslForLakebase(
      config.database,
      { lakebaseCredentials: passwordIsLakebaseToken(config.database, databricksConfig) },
      logger,
    );
  const databricks = exitOnConfigError(() => wireDatabricks(databricksConfig, configuredDatabase, logger));
  const tracing = exitOnConfigError(() => tracingSettings(process.env));
  if (tracing) logger.info('tracing on', { endpoint: loggableEndpoint(tracing.endpoint), protocol: tracing.protocol });

  let dev: DevEnvironment | undefined;
  let database = configuredDatabase;
  if (database === null) {
    // Loaded lazily so production never even imports the development machinery.
    const { startDevEnvironment } = await import('./dev/bootstrap.js');
    dev = await startDevEnvironment(logger);
    database = dev.database;
  } else {
    database = { ...database, idleAfterMs: database.idleAfterMs ?? defaultIdleAfterMs(databricksConfig) };
    logger.info('using the configured database', { ...describe(database), idleAfterMs: database.idleAfterMs });
  }

  // Nothing started here may outlive a failed start: the embedded cluster above would keep its port and
  // data directory, and the next `npm start` would find them taken.
  let app: App | undefined;
  let server: Awaited<ReturnType<typeof listen>>;
  try {
    database = await resolvePreferredSsl(database, logger);
    if (!config.production) {
      const { ensureWebBuild } = await import('./dev/web-build.js');
      await ensureWebBuild(DEFAULT_WEB_DIR, logger);
    } else if (!existsSync(path.join(DEFAULT_WEB_DIR, 'index.html'))) {
      logger.warn('the dashboard is not built (web/dist missing): run `npm run build`; / answers 503 until then');
    }

    app = createApp({
      config: { ...config, database },
      logger,
      password: databricks.password,
      pgClient: databricks.pgClient,
      tokens: databricks.tokens,
      otelEnv: process.env,
      // Locally the emulated pipeline answers in the Databricks shape, so sync
      // status, refresh (same admin rules) and syncStatusChanged behave identically.
      sync: databricks.sync ?? (dev ? localSync(dev.syncSource, databricksConfig, logger) : null),
    });
    server = await listen(
      app.gateway,
      config.port,
      config.host,
      config.edge,
      config.edge.accessLog ? logRefusedRequest(logger) : undefined,
    );
  } catch (error) {
    await app?.close().catch(() => undefined);
    await dev?.stop().catch(() => undefined);
    const code = (error as NodeJS.ErrnoException | null)?.code;
    if (code === 'EADDRINUSE') {
      throw new Error(`port ${config.port} on ${config.host} is already in use: stop what holds it, or set PORT`, {
        cause: error,
      });
    }
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EADDRNOTAVAIL') {
      throw new ConfigError(
        'HOST',
        `${JSON.stringify(config.host)} is not an address of this machine to listen on (${code}); ` +
          'use 0.0.0.0 (every interface), 127.0.0.1 (this machine only) or one of its addresses',
        { cause: error },
      );
    }
    throw error;
  }
  const started = app;
  logger.info(`GraphQL endpoint ready at ${server.url}`, { port: config.port, host: config.host });
  logger.info(`Dashboard at ${new URL('/', server.url).href}`, { graphiql: server.url });
  started.initialised.catch(() => {});

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    const began = performance.now();
    try {
      // Live streams first: subscribers get SHUTTING_DOWN with their resume
      // cursor instead of a dropped connection.
      await started.live.stop();
      const { cut } = await server.close();
      if (cut > 0) {
        logger.warn('requests still running at the end of SHUTDOWN_GRACE_MS were cut', { requests: cut });
      }
      await started.close();
      await dev?.stop();
    } catch (error) {
      logUnexpected(logger, 'shutdown failed', error);
      process.exit(1);
    }
    logger.info('stopped', { signal, ms: Math.round(performance.now() - began) });
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('unhandledRejection', (reason) => logUnexpected(logger, 'unhandled rejection', reason));
}

function localSync(source: SyncSource, databricks: DatabricksConfig, logger: Logger): SyncService {
  return {
    status: new CachedSyncStatus(source, {
      ttlSeconds: databricks.syncStatusCacheSeconds,
      logger,
    }),
    admin: databricks.admin,
  };
}

function exitOnConfigError<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof ConfigError) {
      // Through errorMessage: a value quoted back may hold a credential (https://user:token@host).
      process.stderr.write(`lakebase-graphql: configuration error: ${errorMessage(error)}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
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
  // Found only once startup got that far (HOST when listening, the persisted operations manifest): still a
  // setting to fix, not a crash, so no stack trace and the same exit status as the others.
  if (error instanceof ConfigError) {
    process.stderr.write(`lakebase-graphql: configuration error: ${error.message}\n`);
    process.exit(78);
  }
  if (error instanceof Error && error.name === 'EmbeddedPostgresSetupError') {
    // A setup the embedded database cannot work in; the message says what to do.
    process.stderr.write(`lakebase-graphql: cannot start the embedded database: ${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`lakebase-graphql: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
