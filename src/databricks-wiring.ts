/**
 * Production wiring of the Databricks side: the Postgres password (static, or
 * Lakebase OAuth credentials) and the sync status of the synced table.
 */
import type pg from 'pg';
import type { DatabricksConfig } from './config/databricks.js';
import type { DatabaseConfig } from './config/env.js';
import type { PasswordSource } from './db/pool.js';
import { choosePasswordSource } from './lakebase/password-source.js';
import type { Logger } from './logger.js';
import { CachedSyncStatus } from './sync/cached-sync-status.js';
import { DatabricksSyncSource } from './sync/databricks-source.js';
import type { SyncService } from './sync/service.js';
import { createWorkspaceClient } from './databricks/workspace-client.js';

export interface DatabricksWiring {
  /** Undefined: the configured static password (or none). */
  password: PasswordSource | undefined;
  pgClient: typeof pg.Client | undefined;
  sync: SyncService | null;
  /** Lakebase OAuth credentials, when used: renewals and failures are exported as metrics. */
  tokens?: { readonly issuedCount: number; readonly failedCount: number };
}

export function wireDatabricks(
  databricks: DatabricksConfig,
  database: DatabaseConfig | null,
  logger: Logger,
): DatabricksWiring {
  const workspace = databricks.workspaceConfigured ? createWorkspaceClient(databricks) : undefined;
  const wiring: DatabricksWiring = { password: undefined, pgClient: undefined, sync: null };

  if (database !== null) {
    const choice = choosePasswordSource(database, databricks, {
      ...(workspace === undefined ? {} : { workspace }),
      logger,
    });
    if (choice.kind === 'oauth') {
      wiring.password = choice.password;
      wiring.pgClient = choice.Client;
      wiring.tokens = choice.cache;
      logger.info('database password: OAuth', {
        credentials: choice.description,
        maxLifetimeSeconds: database.maxLifetimeSeconds,
      });
    } else {
      logger.info(`database password: ${choice.kind === 'static' ? 'static (PGPASSWORD / DATABASE_URL)' : 'none'}`);
    }
  }

  if (databricks.syncedTableName !== undefined && workspace !== undefined) {
    const source = new DatabricksSyncSource(workspace, databricks.syncedTableName, {
      api: databricks.syncedTableApi,
      logger,
    });
    wiring.sync = {
      status: new CachedSyncStatus(source, {
        ttlSeconds: databricks.syncStatusCacheSeconds,
        logger,
      }),
      admin: databricks.admin,
    };
    logger.info('sync status from Databricks', {
      table: databricks.syncedTableName,
      api: databricks.syncedTableApi,
      cacheSeconds: databricks.syncStatusCacheSeconds,
      refreshAdmins: databricks.admin.principals.size,
      refreshToken: databricks.admin.token !== undefined,
    });
  }
  return wiring;
}
