import type { CompiledQuery } from 'kysely';
import type pg from 'pg';
import { RollupService } from './aggregates/rollup/service.js';
import type { Config, DatabaseConfig } from './config/env.js';
import { createDb, StatementCounter, type Db } from './db/database.js';
import { createPool, type PasswordSource } from './db/pool.js';
import type { Logger } from './logger.js';
import { buildSchema } from './schema/index.js';
import { healthRoutes, type Readiness } from './server/health.js';
import { createGateway, type Gateway } from './server/yoga.js';
import { installZipZones } from './zones/install-zip-zones.js';

export interface App {
  gateway: Gateway;
  pool: pg.Pool;
  db: Db;
  statements: StatementCounter;
  rollups: RollupService;
  readiness: Readiness;
  /** Resolves once the gateway's own schema is installed (retrying while the database is unreachable). */
  initialised: Promise<void>;
  close(): Promise<void>;
}

export interface AppOptions {
  config: Config & { database: DatabaseConfig };
  logger: Logger;
  /** Overrides the configured static password, e.g. with a Lakebase OAuth token provider. */
  password?: PasswordSource;
  /** Delay between attempts to initialise while the database is unreachable. */
  retryMs?: number;
  /** Sees every statement sent while serving requests (benchmarks). */
  onQuery?: (query: CompiledQuery) => void;
}

/** Wires the gateway: pool, Kysely, schema, yoga. No listening socket; see server/http.ts. */
export function createApp({ config, logger, password, retryMs = 2000, onQuery }: AppOptions): App {
  const pool = createPool(config.database, { password, logger });
  const statements = new StatementCounter();
  const db = createDb(pool, config.database, statements, onQuery);
  const readiness: Readiness = { initialised: false };
  const rollups = new RollupService({
    db,
    // Background rollup work shares the pool but is not counted as serving requests.
    maintenanceDb: createDb(pool, config.database),
    schema: config.database.schema,
    table: config.database.table,
    gatewaySchema: config.database.gatewaySchema,
    logger,
    options: config.rollups,
  });
  const services = { config, db, statements, logger, rollups };
  const gateway = createGateway({ schema: buildSchema(), services, routes: healthRoutes(pool, readiness) });

  let closed = false;
  const initialised = (async () => {
    for (let attempt = 1; !closed; attempt += 1) {
      try {
        const zones = await installZipZones(pool, config.database.gatewaySchema);
        await rollups.install();
        rollups.start();
        readiness.initialised = true;
        logger.info('gateway schema ready', { schema: config.database.gatewaySchema, zipZones: zones.total });
        return;
      } catch (error) {
        logger.error('cannot initialise the gateway schema; retrying', {
          attempt,
          schema: config.database.gatewaySchema,
          error: (error as Error).message,
        });
        await new Promise((resolve) => setTimeout(resolve, retryMs));
      }
    }
  })();

  return {
    gateway,
    pool,
    db,
    statements,
    rollups,
    readiness,
    initialised,
    async close() {
      closed = true;
      await rollups.close();
      await db.destroy();
    },
  };
}
