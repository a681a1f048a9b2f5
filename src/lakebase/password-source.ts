/**
 * Decides where the Postgres password comes from. A static password
 * (PGPASSWORD, DATABASE_URL) always wins, so plain Postgres keeps working;
 * otherwise, with a Lakebase target and a workspace, each new connection gets
 * an OAuth database credential.
 */
import type { WorkspaceClient } from '@databricks/sdk-experimental';
import type pg from 'pg';
import type { DatabricksConfig } from '../config/databricks.js';
import { ConfigError, type DatabaseConfig } from '../config/env.js';
import { createWorkspaceClient } from '../databricks/workspace-client.js';
import { credentialIssuerFor } from './credential-issuer.js';
import { credentialFirstClient } from './pg-client.js';
import { TokenCache } from './token-cache.js';
import type { Logger } from '../logger.js';

export type PasswordChoice =
  | { kind: 'static'; password: string }
  | {
      kind: 'oauth';
      /** Give this to pg as `password`. */
      password: () => Promise<string>;
      /** Give this to pg.Pool as `Client`: a failed credential then opens no socket (see pg-client.ts). */
      Client: typeof pg.Client;
      cache: TokenCache;
      /** For the startup log, e.g. `Lakebase OAuth credentials for instance "trips-db"`. */
      description: string;
    }
  | { kind: 'none' };

export interface PasswordChoiceOptions {
  /** Reuse the gateway's client; by default one is created from the config. */
  workspace?: WorkspaceClient;
  logger?: Pick<Logger, 'info' | 'warn'>;
  now?: () => number;
}

/**
 * The Lakebase target whose OAuth tokens are the password, from the configuration alone; null for a static
 * password or none. An explicit endpoint or instance counts without a workspace (choosePasswordSource then
 * refuses the configuration); a synced table only names one through a workspace.
 */
function oauthTarget(
  database: DatabaseConfig,
  databricks: DatabricksConfig,
): NonNullable<DatabricksConfig['lakebase']> | null {
  const target = databricks.lakebase;
  if (database.password !== undefined || target === null) return null;
  return databricks.workspaceConfigured || target.kind !== 'synced-table' ? target : null;
}

/** Whether the password will be a Lakebase OAuth token: main.ts settles the TLS mode on it before the source exists. */
export function passwordIsLakebaseToken(database: DatabaseConfig, databricks: DatabricksConfig): boolean {
  return oauthTarget(database, databricks) !== null;
}

export function choosePasswordSource(
  database: DatabaseConfig,
  databricks: DatabricksConfig,
  options: PasswordChoiceOptions = {},
): PasswordChoice {
  if (database.password !== undefined) return { kind: 'static', password: database.password };
  const target = oauthTarget(database, databricks);
  if (target === null) {
    if (databricks.workspaceConfigured && database.source === 'PG*') {
      // On Databricks Apps this is the usual forgotten setting; without it the
      // login would fail later with a bare "password authentication failed".
      throw new ConfigError(
        'LAKEBASE_INSTANCE_NAME',
        'PGHOST is set without PGPASSWORD: set LAKEBASE_INSTANCE_NAME (Lakebase Provisioned), LAKEBASE_ENDPOINT ' +
          '(Lakebase Autoscaling) or SYNCED_TABLE_NAME so the gateway can request OAuth database credentials',
      );
    }
    return { kind: 'none' };
  }
  if (!databricks.workspaceConfigured) {
    throw new ConfigError(
      'DATABRICKS_HOST',
      `${target.kind === 'endpoint' ? 'LAKEBASE_ENDPOINT' : 'LAKEBASE_INSTANCE_NAME'} is set but no workspace is ` +
        'configured to request credentials from: set DATABRICKS_HOST with DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET, ' +
        'or DATABRICKS_CONFIG_PROFILE',
    );
  }
  const workspace = options.workspace ?? createWorkspaceClient(databricks);
  const issuer = credentialIssuerFor(workspace, target, options.logger);
  const cache = new TokenCache(issuer, {
    maxConnectionLifetimeSeconds: database.maxLifetimeSeconds,
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  return {
    kind: 'oauth',
    password: cache.password,
    Client: credentialFirstClient(cache, database.sslMode),
    cache,
    description: `Lakebase OAuth credentials for ${issuer.description}`,
  };
}
