/**
 * A local HTTP server that plays a Databricks workspace for the real
 * @databricks/sdk-experimental client: OIDC discovery, the OAuth
 * client-credentials token endpoint, and the Database (Provisioned), Postgres
 * (Autoscaling) and Pipelines endpoints the gateway calls, answering with the
 * documented JSON shapes (databricks-sdk-go service/database, service/postgres).
 * Any route can be scripted to fail (401, 403, 404, 429, 5xx) a given number of
 * times, and credential issuance can run a hook (e.g. ALTER ROLE ... PASSWORD)
 * before the answer is sent, or be held until the test releases it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PostgresEndpoint } from '../../src/lakebase/credential-issuer.js';
import { isPostgresSyncedTable, type AnySyncedTable, type SyncedTableInfo } from '../../src/sync/source.js';

export type FakeRoute =
  | 'oidc-discovery'
  | 'oauth-token'
  | 'database-credentials'
  | 'postgres-credentials'
  | 'synced-table'
  | 'postgres-synced-table'
  | 'postgres-endpoints'
  | 'pipeline-update';

export interface RecordedRequest {
  route: FakeRoute | 'unknown';
  method: string;
  path: string;
  authorization: string | undefined;
  /** Parsed JSON body, or the form fields of the token request. */
  body: Record<string, unknown>;
}

export interface ScriptedFailure {
  status: number;
  /** Databricks error_code; defaults by status. */
  errorCode?: string;
  message?: string;
  /** A redirect instead of an error body: the status (3xx) with this Location and a small HTML page. */
  location?: string;
}

export interface IssuedCredentialRecord {
  token: string;
  expiresAt: Date;
  /** The instance name or endpoint it was requested for. */
  target: string;
}

export interface FakeWorkspaceOptions {
  clientId: string;
  clientSecret: string;
  /** Lakebase Provisioned instances that exist. */
  instances?: string[];
  /** Lakebase Autoscaling endpoints that exist. */
  endpoints?: string[];
  /** Clock for credential expiry times (ms since epoch); tests advance it to rotate tokens. */
  now?: () => number;
  /** Lifetime of issued database credentials. Default one hour, as Lakebase. */
  credentialLifetimeSeconds?: number;
}

export interface FakeWorkspace {
  url: string;
  requests: RecordedRequest[];
  issued: IssuedCredentialRecord[];
  count(route: FakeRoute): number;
  /** The next `times` requests to `route` fail with `failure`. */
  failNext(route: FakeRoute, failure: ScriptedFailure, times?: number): void;
  /** Requests to `route` wait, unanswered, until the returned release is called (a hung or throttled API). */
  hold(route: FakeRoute): () => void;
  /** Forgets recorded requests, issued credentials, unused scripted failures and the issue hook. */
  reset(): void;
  /**
   * The token the next credential request will receive. Lets a test make it a
   * role's password before any login that will use it begins: Postgres reads
   * the role's password when the login starts, not when the password arrives.
   */
  peekNextToken(): string;
  /** Runs before a database credential is returned; the answer waits for it. */
  onCredentialIssued: ((credential: IssuedCredentialRecord) => Promise<void> | void) | undefined;
  /** Serves the table from the API whose shape it has (postgres: `status`, database: `data_synchronization_status`). */
  setSyncedTable(info: AnySyncedTable): void;
  /** Forgets the table in both APIs. */
  deleteSyncedTable(fullName: string): void;
  /**
   * The endpoints GET /api/2.0/postgres/{branch}/endpoints lists (branch: projects/<p>/branches/<b>), `pageSize`
   * at a time: like the real API, a longer list comes in pages linked by an opaque `next_page_token`, asked for
   * again with `page_token`. Default: every endpoint on one page.
   */
  setBranchEndpoints(branch: string, endpoints: PostgresEndpoint[], pageSize?: number): void;
  /** Pipelines that accept updates (others answer 404). */
  pipelines: Set<string>;
  /** Updates started through the Pipelines API. */
  updates: Array<{ pipelineId: string; updateId: string; fullRefresh: boolean; cause: unknown }>;
  close(): Promise<void>;
}

const DEFAULT_ERROR_CODES: Record<number, string> = {
  400: 'INVALID_PARAMETER_VALUE',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'RESOURCE_DOES_NOT_EXIST',
  409: 'RESOURCE_CONFLICT',
  429: 'REQUEST_LIMIT_EXCEEDED',
  500: 'INTERNAL_ERROR',
  502: 'BAD_GATEWAY',
  503: 'TEMPORARILY_UNAVAILABLE',
};

function routeOf(method: string, path: string): { route: FakeRoute | 'unknown'; param?: string } {
  if (method === 'GET' && path === '/oidc/.well-known/oauth-authorization-server') return { route: 'oidc-discovery' };
  if (method === 'POST' && path === '/oidc/v1/token') return { route: 'oauth-token' };
  if (method === 'POST' && path === '/api/2.0/database/credentials') return { route: 'database-credentials' };
  if (method === 'POST' && path === '/api/2.0/postgres/credentials') return { route: 'postgres-credentials' };
  const postgresSynced = /^\/api\/2\.0\/postgres\/synced_tables\/([^/]+)$/.exec(path);
  if (method === 'GET' && postgresSynced) {
    return { route: 'postgres-synced-table', param: decodeURIComponent(postgresSynced[1] ?? '') };
  }
  const endpointsOf = /^\/api\/2\.0\/postgres\/(projects\/[^/]+\/branches\/[^/]+)\/endpoints$/.exec(path);
  if (method === 'GET' && endpointsOf) return { route: 'postgres-endpoints', param: endpointsOf[1] ?? '' };
  const synced = /^\/api\/2\.0\/database\/synced_tables\/([^/]+)$/.exec(path);
  if (method === 'GET' && synced) return { route: 'synced-table', param: decodeURIComponent(synced[1] ?? '') };
  const updates = /^\/api\/2\.0\/pipelines\/([^/]+)\/updates$/.exec(path);
  if (method === 'POST' && updates) return { route: 'pipeline-update', param: decodeURIComponent(updates[1] ?? '') };
  return { route: 'unknown' };
}

async function readBody(request: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  if (raw === '') return {};
  if (contentType?.includes('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(raw));
  }
  try {
    const parsed: unknown = JSON.parse(raw);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return { unparsable: raw };
  }
}

function sendJson(response: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  response.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

function sendError(response: http.ServerResponse, failure: ScriptedFailure) {
  const errorCode = failure.errorCode ?? DEFAULT_ERROR_CODES[failure.status] ?? 'UNKNOWN';
  const headers: Record<string, string> = failure.status === 429 ? { 'Retry-After': '1' } : {};
  sendJson(
    response,
    failure.status,
    {
      error_code: errorCode,
      message: failure.message ?? `scripted ${failure.status} from the fake workspace`,
      // What every real error carries (databricks-sdk-go apierr/details.go): a RequestInfo entry, with no
      // `metadata`, which @databricks/sdk-experimental 0.17 cannot parse (src/databricks/api-errors.ts).
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.RequestInfo',
          request_id: randomUUID(),
          serving_data: '',
        },
      ],
    },
    headers,
  );
}

export async function startFakeWorkspace(options: FakeWorkspaceOptions): Promise<FakeWorkspace> {
  const now = options.now ?? Date.now;
  const lifetimeMs = (options.credentialLifetimeSeconds ?? 3600) * 1000;
  const instances = new Set(options.instances ?? []);
  const endpoints = new Set(options.endpoints ?? []);
  const accessTokens = new Set<string>();
  const syncedTables = new Map<string, SyncedTableInfo>();
  const postgresSyncedTables = new Map<string, AnySyncedTable>();
  const branchEndpoints = new Map<string, { list: PostgresEndpoint[]; pageSize: number }>();
  const scripted = new Map<FakeRoute, ScriptedFailure[]>();
  const held = new Map<FakeRoute, Promise<void>>();
  let url = '';
  let upcomingToken: string | undefined;
  // Lakebase tokens are JWTs; any opaque string does for Postgres.
  const newToken = () => `lbtok_${randomBytes(12).toString('hex')}`;

  const workspace: FakeWorkspace = {
    url: '',
    requests: [],
    issued: [],
    count: (route) => workspace.requests.filter((request) => request.route === route).length,
    failNext(route, failure, times = 1) {
      const queue = scripted.get(route) ?? [];
      for (let i = 0; i < times; i += 1) queue.push(failure);
      scripted.set(route, queue);
    },
    hold(route) {
      let release = () => {};
      held.set(
        route,
        new Promise<void>((resolve) => {
          release = () => {
            held.delete(route);
            resolve();
          };
        }),
      );
      return release;
    },
    peekNextToken() {
      upcomingToken ??= newToken();
      return upcomingToken;
    },
    reset() {
      workspace.requests.length = 0;
      workspace.issued.length = 0;
      workspace.updates.length = 0;
      workspace.onCredentialIssued = undefined;
      scripted.clear();
      upcomingToken = undefined;
    },
    onCredentialIssued: undefined,
    setSyncedTable(info) {
      if (isPostgresSyncedTable(info)) {
        postgresSyncedTables.set(info.name.replace(/^synced_tables\//, ''), structuredClone(info));
      } else {
        syncedTables.set(info.name, structuredClone(info));
      }
    },
    deleteSyncedTable(fullName) {
      syncedTables.delete(fullName);
      postgresSyncedTables.delete(fullName);
    },
    setBranchEndpoints(branch, list, pageSize = Number.MAX_SAFE_INTEGER) {
      branchEndpoints.set(branch, { list: structuredClone(list), pageSize });
    },
    pipelines: new Set(),
    updates: [],
    close: () =>
      new Promise((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };

  const authorized = (authorization: string | undefined) => {
    const token = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    return token !== undefined && accessTokens.has(token);
  };

  async function issueCredential(target: string, ttlMs = lifetimeMs): Promise<IssuedCredentialRecord> {
    const token = upcomingToken ?? newToken();
    upcomingToken = undefined;
    const credential: IssuedCredentialRecord = {
      token,
      expiresAt: new Date(now() + ttlMs),
      target,
    };
    await workspace.onCredentialIssued?.(credential);
    workspace.issued.push(credential);
    return credential;
  }

  async function handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const requestUrl = new URL(request.url ?? '/', 'http://fake');
    const path = requestUrl.pathname;
    const method = request.method ?? 'GET';
    const { route, param } = routeOf(method, path);
    const body = parseBody(await readBody(request), request.headers['content-type']);
    workspace.requests.push({ route, method, path, authorization: request.headers.authorization, body });
    if (route !== 'unknown') await held.get(route);
    if (route === 'unknown') {
      sendError(response, {
        status: 404,
        errorCode: 'ENDPOINT_NOT_FOUND',
        message: `No API found for '${method} ${path}'`,
      });
      return;
    }
    const failure = scripted.get(route)?.shift();
    if (failure) {
      if (failure.location !== undefined) {
        // As a front door that is not the API answers: a login page, or http:// sent on to https://.
        response.writeHead(failure.status, { location: failure.location, 'content-type': 'text/html' });
        response.end('<html><head><title>Moved</title></head><body>Moved</body></html>');
        return;
      }
      if (route === 'oauth-token') {
        // The OAuth endpoint answers in RFC 6749 shape, not the Databricks error shape.
        sendJson(response, failure.status, {
          error: failure.errorCode ?? 'invalid_client',
          error_description: failure.message ?? 'Client authentication failed',
        });
        return;
      }
      sendError(response, failure);
      return;
    }

    switch (route) {
      case 'oidc-discovery':
        sendJson(response, 200, {
          issuer: `${url}/oidc`,
          authorization_endpoint: `${url}/oidc/v1/authorize`,
          token_endpoint: `${url}/oidc/v1/token`,
          grant_types_supported: ['client_credentials', 'authorization_code', 'refresh_token'],
        });
        return;
      case 'oauth-token': {
        const expected = `Basic ${Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64')}`;
        if (request.headers.authorization !== expected || body.grant_type !== 'client_credentials') {
          sendJson(response, 401, { error: 'invalid_client', error_description: 'Client authentication failed' });
          return;
        }
        const accessToken = `oauth_${randomBytes(12).toString('hex')}`;
        accessTokens.add(accessToken);
        sendJson(response, 200, {
          access_token: accessToken,
          token_type: 'Bearer',
          expires_in: 3600,
          scope: body.scope ?? 'all-apis',
        });
        return;
      }
    }

    if (!authorized(request.headers.authorization)) {
      sendError(response, {
        status: 401,
        message: 'Credential was not sent or was of an unsupported type for this API.',
      });
      return;
    }

    switch (route) {
      case 'database-credentials': {
        const names = Array.isArray(body.instance_names) ? (body.instance_names as unknown[]) : [];
        const missing = names.find((name) => typeof name !== 'string' || !instances.has(name));
        if (names.length === 0 || missing !== undefined) {
          sendError(response, { status: 404, message: `Database instance '${String(missing)}' does not exist.` });
          return;
        }
        const credential = await issueCredential(names.join(','));
        sendJson(response, 200, { token: credential.token, expiration_time: credential.expiresAt.toISOString() });
        return;
      }
      case 'postgres-credentials': {
        const endpoint = body.endpoint;
        // ttl is a protobuf Duration ("3600s"); the API accepts 300 s to 3600 s.
        const ttl = body.ttl === undefined ? undefined : /^(\d+(?:\.\d+)?)s$/.exec(String(body.ttl))?.[1];
        if (body.ttl !== undefined && (ttl === undefined || Number(ttl) < 300 || Number(ttl) > 3600)) {
          sendError(response, { status: 400, message: `Invalid ttl '${String(body.ttl)}': must be 300s to 3600s.` });
          return;
        }
        if (typeof endpoint !== 'string' || !endpoints.has(endpoint)) {
          sendError(response, { status: 404, message: `Endpoint '${String(endpoint)}' not found.` });
          return;
        }
        const credential = await issueCredential(endpoint, ttl === undefined ? undefined : Number(ttl) * 1000);
        sendJson(response, 200, { token: credential.token, expire_time: credential.expiresAt.toISOString() });
        return;
      }
      case 'synced-table': {
        const info = syncedTables.get(param ?? '');
        if (!info) {
          sendError(response, { status: 404, message: `Synced table '${param}' does not exist.` });
          return;
        }
        sendJson(response, 200, info);
        return;
      }
      case 'postgres-synced-table': {
        const info = postgresSyncedTables.get(param ?? '');
        if (!info) {
          sendError(response, { status: 404, message: `Synced table 'synced_tables/${param}' not found.` });
          return;
        }
        sendJson(response, 200, info);
        return;
      }
      case 'postgres-endpoints': {
        const branch = branchEndpoints.get(param ?? '');
        if (!branch) {
          sendError(response, { status: 404, message: `Branch '${param}' not found.` });
          return;
        }
        const token = requestUrl.searchParams.get('page_token');
        const start = token === null ? 0 : Number(Buffer.from(token, 'base64url').toString('utf8'));
        if (!Number.isInteger(start) || start < 0 || start > branch.list.length) {
          sendError(response, { status: 400, errorCode: 'INVALID_PARAMETER_VALUE', message: 'invalid page_token' });
          return;
        }
        const end = Math.min(start + branch.pageSize, branch.list.length);
        sendJson(response, 200, {
          endpoints: branch.list.slice(start, end),
          ...(end < branch.list.length ? { next_page_token: Buffer.from(String(end)).toString('base64url') } : {}),
        });
        return;
      }
      case 'pipeline-update': {
        const pipelineId = param ?? '';
        if (!workspace.pipelines.has(pipelineId)) {
          sendError(response, { status: 404, message: `The pipeline with ID '${pipelineId}' does not exist.` });
          return;
        }
        const updateId = randomUUID();
        workspace.updates.push({ pipelineId, updateId, fullRefresh: body.full_refresh === true, cause: body.cause });
        sendJson(response, 200, { update_id: updateId });
        return;
      }
    }
  }

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      sendError(response, { status: 500, message: `fake workspace failed: ${String(error)}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  workspace.url = url;
  return workspace;
}
