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
 * Whether the password will be a Lakebase OAuth token, from the configuration alone: exactly when
 * choosePasswordSource answers 'oauth' (or refuses the configuration). main.ts settles the TLS mode on it before
 * the password source exists.
 */
export function passwordIsLakebaseToken(database: DatabaseConfig, databricks: DatabricksConfig): boolean {
  if (database.password !== undefined) return false;
  const target = databricks.lakebase;
  if (target === null) return false;
  return databricks.workspaceConfigured || target.kind !== 'synced-table';
}

export function choosePasswordSource(
  database: DatabaseConfig,
  databricks: DatabricksConfig,
  options: PasswordChoiceOptions = {},
): PasswordChoice {
  if (database.password !== undefined) return { kind: 'static', password: database.password };
  const target = databricks.lakebase;
  const explicitTarget = target !== null && target.kind !== 'synced-table';
  if (target === null || (!databricks.workspaceConfigured && !explicitTarget)) {
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
