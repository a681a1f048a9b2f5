/**
 * Asks the workspace for a Lakebase database credential: a short-lived OAuth
 * token that Postgres accepts as the password of the caller's role.
 * Provisioned instances and Autoscaling endpoints use different APIs; both
 * answer with a token and its expiry, which is all TokenCache needs.
 */
import { randomUUID } from 'node:crypto';
import type { WorkspaceClient } from '@databricks/sdk-experimental';
import type { LakebaseTarget } from '../config/databricks.js';
import { describeApiFailure, type ApiCallContext } from '../databricks/api-errors.js';
import { authenticateWorkspace, WorkspaceAuthError } from '../databricks/workspace-client.js';
import { LakebaseConnectionError } from './errors.js';

export interface IssuedCredential {
  token: string;
  expiresAt: Date;
}

export interface CredentialIssuer {
  /** For logs and errors, e.g. `instance "trips-db"`. */
  readonly description: string;
  issue(): Promise<IssuedCredential>;
}

function servicePrincipal(workspace: WorkspaceClient): string {
  const clientId = workspace.config.clientId;
  return clientId ? `the app's service principal (${clientId})` : 'the calling identity';
}

async function callApi<T>(workspace: WorkspaceClient, context: ApiCallContext, call: () => Promise<T>): Promise<T> {
  try {
    await authenticateWorkspace(workspace);
  } catch (error) {
    if (error instanceof WorkspaceAuthError) {
      throw new LakebaseConnectionError('workspace-auth', error.message, undefined, { cause: error.cause });
    }
    throw error;
  }
  try {
    return await call();
  } catch (error) {
    const failure = describeApiFailure(error, context);
    throw new LakebaseConnectionError('credential-api', failure.message, failure.status, { cause: error });
  }
}

/** Validates the credential answer; both APIs mark every field optional. */
function parseCredential(body: unknown, expiryField: string, what: string): IssuedCredential {
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const token = record.token;
  const expiry = record[expiryField];
  const expiresAt = typeof expiry === 'string' ? new Date(expiry) : undefined;
  if (typeof token !== 'string' || token === '' || expiresAt === undefined || Number.isNaN(expiresAt.getTime())) {
    throw new LakebaseConnectionError(
      'credential-api',
      `${what}: the answer lacks "token" or a valid "${expiryField}" (got fields: ${Object.keys(record).join(', ') || 'none'})`,
      undefined,
    );
  }
  return { token, expiresAt };
}

/** Lakebase Provisioned: POST /api/2.0/database/credentials. */
export function instanceCredentialIssuer(workspace: WorkspaceClient, instanceName: string): CredentialIssuer {
  const context: ApiCallContext = {
    what: `database credential for instance "${instanceName}"`,
    forbiddenHint: `${servicePrincipal(workspace)} needs CAN_CONNECT_AND_CREATE on database instance "${instanceName}"; add the instance as an app resource (database, CAN_CONNECT_AND_CREATE)`,
    notFoundHint: `no database instance "${instanceName}" in this workspace; check LAKEBASE_INSTANCE_NAME`,
  };
  return {
    description: `instance "${instanceName}"`,
    async issue() {
      const answer = await callApi(workspace, context, () =>
        // request_id makes a retried request idempotent on the server side.
        workspace.database.generateDatabaseCredential({ instance_names: [instanceName], request_id: randomUUID() }),
      );
      return parseCredential(answer, 'expiration_time', context.what);
    },
  };
}

/**
 * Lakebase Autoscaling: POST /api/2.0/postgres/credentials. This SDK version
 * has no typed Postgres service, so the call goes through its API client,
 * which still applies the workspace auth, retries and error parsing.
 */
export function endpointCredentialIssuer(workspace: WorkspaceClient, endpoint: string): CredentialIssuer {
  const context: ApiCallContext = {
    what: `database credential for endpoint "${endpoint}"`,
    forbiddenHint: `${servicePrincipal(workspace)} needs CAN_CONNECT_AND_CREATE on the Lakebase project of "${endpoint}"; add it as an app resource (postgres, CAN_CONNECT_AND_CREATE)`,
    notFoundHint: `no endpoint "${endpoint}" in this workspace; check LAKEBASE_ENDPOINT`,
  };
  return {
    description: `endpoint "${endpoint}"`,
    async issue() {
      const answer = await callApi(workspace, context, () =>
        workspace.apiClient.request({
          path: '/api/2.0/postgres/credentials',
          method: 'POST',
          headers: new Headers({ Accept: 'application/json', 'Content-Type': 'application/json' }),
          raw: false,
          payload: { endpoint },
        }),
      );
      return parseCredential(answer, 'expire_time', context.what);
    },
  };
}

/**
 * No instance configured: look it up once from the synced table, which always
 * reports the instance it lives in, then behave like instanceCredentialIssuer.
 */
export function syncedTableInstanceCredentialIssuer(
  workspace: WorkspaceClient,
  syncedTableName: string,
): CredentialIssuer {
  let instanceIssuer: CredentialIssuer | undefined;
  // Shared by concurrent callers; cleared when settled so a failure is retried next time.
  let resolving: Promise<CredentialIssuer> | undefined;
  const resolve = async (): Promise<CredentialIssuer> => {
    const context: ApiCallContext = {
      what: `looking up the database instance of synced table "${syncedTableName}" (LAKEBASE_INSTANCE_NAME is not set)`,
      forbiddenHint: `${servicePrincipal(workspace)} needs SELECT on ${syncedTableName} (app resource uc_securable TABLE), or set LAKEBASE_INSTANCE_NAME`,
      notFoundHint: `no synced table "${syncedTableName}"; check SYNCED_TABLE_NAME or set LAKEBASE_INSTANCE_NAME`,
    };
    const table = await callApi(workspace, context, () =>
      workspace.database.getSyncedDatabaseTable({ name: syncedTableName }),
    );
    const instanceName = table.effective_database_instance_name ?? table.database_instance_name;
    if (!instanceName) {
      throw new LakebaseConnectionError(
        'credential-api',
        `${context.what}: the synced table reports no database instance; set LAKEBASE_INSTANCE_NAME`,
        undefined,
      );
    }
    return instanceCredentialIssuer(workspace, instanceName);
  };
  return {
    description: `the instance of synced table "${syncedTableName}"`,
    async issue() {
      if (instanceIssuer === undefined) {
        resolving ??= resolve().finally(() => {
          resolving = undefined;
        });
        instanceIssuer = await resolving;
      }
      return instanceIssuer.issue();
    },
  };
}

export function credentialIssuerFor(workspace: WorkspaceClient, target: LakebaseTarget): CredentialIssuer {
  switch (target.kind) {
    case 'instance':
      return instanceCredentialIssuer(workspace, target.instanceName);
    case 'endpoint':
      return endpointCredentialIssuer(workspace, target.endpoint);
    case 'synced-table-instance':
      return syncedTableInstanceCredentialIssuer(workspace, target.syncedTableName);
  }
}
