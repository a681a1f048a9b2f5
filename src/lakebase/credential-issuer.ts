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
import { SyncedTableReader, type SyncedTableApi, type SyncedTableApiLogger } from '../databricks/synced-table-api.js';
import { isPostgresSyncedTable } from '../sync/source.js';
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
 * Lifetime asked of an Autoscaling credential. The API accepts 300 s to
 * 3600 s; the longest keeps renewals rare, and TokenCache stops using a token
 * for new connections once it would not outlive one (PG_MAX_LIFETIME_SECONDS).
 */
export const CREDENTIAL_TTL_SECONDS = 3600;

/**
 * Lakebase Autoscaling: POST /api/2.0/postgres/credentials { endpoint, ttl }.
 * This SDK version has no typed Postgres service, so the call goes through its
 * API client, which still applies the workspace auth, retries and error parsing.
 */
export function endpointCredentialIssuer(
  workspace: WorkspaceClient,
  endpoint: string,
  ttlSeconds = CREDENTIAL_TTL_SECONDS,
): CredentialIssuer {
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
          // ttl is a protobuf Duration, whose JSON form is seconds with an "s" suffix.
          payload: { endpoint, ttl: `${ttlSeconds}s` },
        }),
      );
      return parseCredential(answer, 'expire_time', context.what);
    },
  };
}

/** An Autoscaling endpoint as GET /api/2.0/postgres/{branch}/endpoints lists it (the fields used here). */
export interface PostgresEndpoint {
  /** "projects/<p>/branches/<b>/endpoints/<e>". */
  name?: string;
  spec?: { endpoint_type?: string };
  status?: {
    endpoint_type?: string;
    hosts?: { host?: string; read_write_pooled_host?: string };
  };
}

const READ_WRITE = 'ENDPOINT_TYPE_READ_WRITE';
/** Pages of endpoints read at most; a branch has one read-write endpoint and a few read-only ones. */
const MAX_ENDPOINT_PAGES = 20;

/** The branch's read-write endpoint: the one the synced table is written through and the app reads. */
export async function readWriteEndpointOf(workspace: WorkspaceClient, branch: string): Promise<PostgresEndpoint> {
  let pageToken: string | undefined;
  for (let page = 0; page < MAX_ENDPOINT_PAGES; page += 1) {
    const answer = (await workspace.apiClient.request({
      path: `/api/2.0/postgres/${branch}/endpoints`,
      method: 'GET',
      headers: new Headers({ Accept: 'application/json' }),
      raw: false,
      ...(pageToken === undefined ? {} : { query: { page_token: pageToken } }),
    })) as { endpoints?: PostgresEndpoint[]; next_page_token?: string };
    const found = (answer.endpoints ?? []).find(
      (endpoint) => (endpoint.status?.endpoint_type ?? endpoint.spec?.endpoint_type) === READ_WRITE && endpoint.name,
    );
    if (found) return found;
    pageToken = answer.next_page_token || undefined;
    if (pageToken === undefined) break;
  }
  throw new LakebaseConnectionError(
    'credential-api',
    `branch "${branch}" has no read-write endpoint (${READ_WRITE}); set LAKEBASE_ENDPOINT`,
    undefined,
  );
}

/**
 * Neither endpoint nor instance configured: look the database up once from the
 * synced table. On Autoscaling its spec.branch leads to the branch's read-write
 * endpoint; on Provisioned it names its instance. Then behave like the
 * endpoint or instance issuer.
 */
export function syncedTableCredentialIssuer(
  workspace: WorkspaceClient,
  syncedTableName: string,
  api: SyncedTableApi = 'postgres',
  logger?: SyncedTableApiLogger,
): CredentialIssuer {
  let resolved: CredentialIssuer | undefined;
  // Shared by concurrent callers; cleared when settled so a failure is retried next time.
  let resolving: Promise<CredentialIssuer> | undefined;
  const reader = new SyncedTableReader(workspace, syncedTableName, api, logger);
  const resolve = async (): Promise<CredentialIssuer> => {
    const context: ApiCallContext = {
      what: `looking up the Lakebase database of synced table "${syncedTableName}" (neither LAKEBASE_ENDPOINT nor LAKEBASE_INSTANCE_NAME is set)`,
      forbiddenHint: `${servicePrincipal(workspace)} needs SELECT on ${syncedTableName} (app resource uc_securable TABLE), or set LAKEBASE_ENDPOINT`,
      notFoundHint: `no synced table "${syncedTableName}" in the postgres or database API; check SYNCED_TABLE_NAME or set LAKEBASE_ENDPOINT`,
    };
    const { table } = await callApi(workspace, context, () => reader.read());
    if (isPostgresSyncedTable(table)) {
      const branch = table.spec?.branch;
      if (!branch) {
        throw new LakebaseConnectionError(
          'credential-api',
          `${context.what}: the synced table reports no spec.branch; set LAKEBASE_ENDPOINT`,
          undefined,
        );
      }
      const endpoint = await callApi(
        workspace,
        {
          what: `listing the endpoints of branch "${branch}" (synced table "${syncedTableName}")`,
          forbiddenHint: `${servicePrincipal(workspace)} needs CAN_CONNECT_AND_CREATE on the project of "${branch}" (app resource postgres), or set LAKEBASE_ENDPOINT`,
          notFoundHint: `no branch "${branch}"; set LAKEBASE_ENDPOINT`,
        },
        () => readWriteEndpointOf(workspace, branch),
      );
      logger?.info('Lakebase endpoint resolved from the synced table', {
        table: syncedTableName,
        endpoint: endpoint.name,
      });
      return endpointCredentialIssuer(workspace, endpoint.name ?? '');
    }
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
    description: `the Lakebase database of synced table "${syncedTableName}"`,
    async issue() {
      if (resolved === undefined) {
        resolving ??= resolve().finally(() => {
          resolving = undefined;
        });
        resolved = await resolving;
      }
      return resolved.issue();
    },
  };
}

export function credentialIssuerFor(
  workspace: WorkspaceClient,
  target: LakebaseTarget,
  logger?: SyncedTableApiLogger,
): CredentialIssuer {
  switch (target.kind) {
    case 'instance':
      return instanceCredentialIssuer(workspace, target.instanceName);
    case 'endpoint':
      return endpointCredentialIssuer(workspace, target.endpoint);
    case 'synced-table':
      return syncedTableCredentialIssuer(workspace, target.syncedTableName, target.api, logger);
  }
}
