/**
 * Lakebase credential issuance through the real SDK against a local fake
 * workspace: the request shapes, the token cache's renewal and single flight,
 * and which step each failure is blamed on.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadDatabricksConfig } from '../src/config/databricks.js';
import { createWorkspaceClient } from '../src/databricks/workspace-client.js';
import {
  endpointCredentialIssuer,
  instanceCredentialIssuer,
  syncedTableCredentialIssuer,
} from '../src/lakebase/credential-issuer.js';
import { LakebaseConnectionError } from '../src/lakebase/errors.js';
import { TokenCache } from '../src/lakebase/token-cache.js';
import { startFakeWorkspace, type FakeWorkspace } from './support/fake-workspace.js';

const CLIENT_ID = '6f1c2a9e-0d2b-4c1e-9a55-2f4f0c1b7e11';
const CLIENT_SECRET = 'dose-fake-secret';
const INSTANCE = 'trips-db';
const ENDPOINT = 'projects/trips/branches/main/endpoints/primary';

let fake: FakeWorkspace;
let clock = Date.parse('2026-03-01T12:00:00Z');
const now = () => clock;

function workspaceClient(options: { clientSecret?: string; retryTimeoutSeconds?: number } = {}) {
  const config = loadDatabricksConfig({
    DATABRICKS_HOST: fake.url,
    DATABRICKS_CLIENT_ID: CLIENT_ID,
    DATABRICKS_CLIENT_SECRET: options.clientSecret ?? CLIENT_SECRET,
  });
  return createWorkspaceClient(config, { env: {}, retryTimeoutSeconds: options.retryTimeoutSeconds ?? 5 });
}

const quietLog = { info: () => {}, warn: () => {} };

async function failureOf(promise: Promise<unknown>): Promise<LakebaseConnectionError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(LakebaseConnectionError);
  return error as LakebaseConnectionError;
}

beforeAll(async () => {
  fake = await startFakeWorkspace({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    instances: [INSTANCE],
    endpoints: [ENDPOINT],
    now,
  });
});
afterAll(() => fake.close());
afterEach(() => fake.reset());

describe('credential issuers through the SDK', () => {
  it('authenticates with OAuth M2M and requests a credential for the instance', async () => {
    const credential = await instanceCredentialIssuer(workspaceClient(), INSTANCE).issue();

    expect(credential.token).toBe(fake.issued[0]?.token);
    expect(credential.expiresAt.getTime()).toBe(clock + 3600_000);
    const [discovery, token, call] = fake.requests;
    expect(discovery?.path).toBe('/oidc/.well-known/oauth-authorization-server');
    expect(token?.route).toBe('oauth-token');
    expect(token?.body).toMatchObject({ grant_type: 'client_credentials', scope: 'all-apis' });
    expect(call?.route).toBe('database-credentials');
    expect(call?.authorization).toMatch(/^Bearer oauth_/);
    expect(call?.body.instance_names).toEqual([INSTANCE]);
    expect(call?.body.request_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('requests an Autoscaling credential for the endpoint through the API client', async () => {
    const credential = await endpointCredentialIssuer(workspaceClient(), ENDPOINT).issue();

    expect(credential.token).toBe(fake.issued[0]?.token);
    expect(credential.expiresAt.getTime()).toBe(clock + 3600_000);
    const call = fake.requests.find((request) => request.route === 'postgres-credentials');
    expect(call?.body).toEqual({ endpoint: ENDPOINT, ttl: '3600s' });
  });

  it('asks for the configured ttl, and the expiry follows it', async () => {
    const credential = await endpointCredentialIssuer(workspaceClient(), ENDPOINT, 900).issue();
    expect(fake.requests.find((request) => request.route === 'postgres-credentials')?.body.ttl).toBe('900s');
    expect(credential.expiresAt.getTime()).toBe(clock + 900_000);
  });

  it('a ttl out of the documented range is refused by the API (400), and says so', async () => {
    const error = await failureOf(endpointCredentialIssuer(workspaceClient(), ENDPOINT, 60).issue());
    expect(error).toMatchObject({ step: 'credential-api', status: 400 });
  });

  it('Autoscaling: finds the endpoint from the synced table’s spec.branch once, then issues for it', async () => {
    const log: string[] = [];
    fake.setSyncedTable({
      name: 'synced_tables/main.default.trips_synced',
      spec: { branch: 'projects/trips/branches/main', postgres_database: 'databricks_postgres' },
      status: { detailed_state: 'SYNCED_TABLE_ONLINE' },
    });
    fake.setBranchEndpoints('projects/trips/branches/main', [
      { name: 'projects/trips/branches/main/endpoints/replica', status: { endpoint_type: 'ENDPOINT_TYPE_READ_ONLY' } },
      { name: ENDPOINT, status: { endpoint_type: 'ENDPOINT_TYPE_READ_WRITE', hosts: { host: 'ep.example' } } },
    ]);
    const issuer = syncedTableCredentialIssuer(workspaceClient(), 'main.default.trips_synced', 'postgres', {
      info: (message) => log.push(message),
    });

    await Promise.all([issuer.issue(), issuer.issue()]);
    await issuer.issue();

    expect(fake.count('postgres-synced-table')).toBe(1);
    expect(fake.count('synced-table')).toBe(0);
    expect(fake.requests.find((request) => request.route === 'postgres-endpoints')?.path).toBe(
      '/api/2.0/postgres/projects/trips/branches/main/endpoints',
    );
    expect(fake.issued.map((credential) => credential.target)).toEqual([ENDPOINT, ENDPOINT, ENDPOINT]);
    expect(log.join('\n')).toContain('Lakebase endpoint resolved from the synced table');
    fake.deleteSyncedTable('main.default.trips_synced');
  });

  it('Autoscaling: follows the endpoint list page by page to the read-write endpoint', async () => {
    fake.setSyncedTable({
      name: 'synced_tables/main.default.paged',
      spec: { branch: 'projects/trips/branches/main' },
    });
    const readOnly = (n: number) => ({
      name: `projects/trips/branches/main/endpoints/replica-${n}`,
      status: { endpoint_type: 'ENDPOINT_TYPE_READ_ONLY' },
    });
    const readWrite = ENDPOINT;
    fake.setBranchEndpoints(
      'projects/trips/branches/main',
      [
        readOnly(1),
        readOnly(2),
        readOnly(3),
        { name: readWrite, status: { endpoint_type: 'ENDPOINT_TYPE_READ_WRITE' } },
      ],
      2,
    );
    const before = fake.count('postgres-endpoints');
    await syncedTableCredentialIssuer(workspaceClient(), 'main.default.paged', 'postgres').issue();
    // Two pages: the second, asked for with the first's next_page_token, holds the read-write endpoint.
    expect(fake.count('postgres-endpoints') - before).toBe(2);
    expect(fake.issued.at(-1)?.target).toBe(readWrite);
    fake.deleteSyncedTable('main.default.paged');
  });

  it('a branch without a read-write endpoint says to set LAKEBASE_ENDPOINT', async () => {
    fake.setSyncedTable({ name: 'synced_tables/main.default.ro', spec: { branch: 'projects/trips/branches/ro' } });
    fake.setBranchEndpoints('projects/trips/branches/ro', []);
    const error = await failureOf(syncedTableCredentialIssuer(workspaceClient(), 'main.default.ro').issue());
    expect(error.message).toContain('LAKEBASE_ENDPOINT');
    fake.deleteSyncedTable('main.default.ro');
  });

  it('Provisioned: the postgres API answers 404, the database API names the instance; logged once', async () => {
    const log: string[] = [];
    fake.setSyncedTable({ name: 'main.default.trips_synced', effective_database_instance_name: INSTANCE });
    const issuer = syncedTableCredentialIssuer(workspaceClient(), 'main.default.trips_synced', 'postgres', {
      info: (message) => log.push(message),
    });

    await Promise.all([issuer.issue(), issuer.issue()]);
    await issuer.issue();

    expect(fake.count('postgres-synced-table')).toBe(1);
    expect(fake.count('synced-table')).toBe(1);
    expect(fake.count('database-credentials')).toBe(3);
    expect(fake.issued.map((credential) => credential.target)).toEqual([INSTANCE, INSTANCE, INSTANCE]);
    expect(log).toEqual([
      'synced table answered by the database API (the postgres API answered 404); using it from now on',
    ]);
    fake.deleteSyncedTable('main.default.trips_synced');
  });
});

describe('failures name the step and what to check', () => {
  it('wrong client secret: workspace-auth, pointing at the client credentials', async () => {
    const error = await failureOf(
      instanceCredentialIssuer(workspaceClient({ clientSecret: 'wrong' }), INSTANCE).issue(),
    );
    expect(error.step).toBe('workspace-auth');
    expect(error.message).toContain('DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET');
    expect(fake.count('database-credentials')).toBe(0);
  });

  it('OIDC discovery failing: workspace-auth, pointing at DATABRICKS_HOST', async () => {
    fake.failNext('oidc-discovery', { status: 500 });
    const error = await failureOf(instanceCredentialIssuer(workspaceClient(), INSTANCE).issue());
    expect(error.step).toBe('workspace-auth');
    expect(error.message).toContain('DATABRICKS_HOST');
  });

  it('403 from the credential API: names the grant the service principal lacks', async () => {
    fake.failNext('database-credentials', { status: 403 });
    const error = await failureOf(instanceCredentialIssuer(workspaceClient(), INSTANCE).issue());
    expect(error.step).toBe('credential-api');
    expect(error.status).toBe(403);
    expect(error.message).toContain(`needs CAN_CONNECT_AND_CREATE on database instance "${INSTANCE}"`);
    expect(error.message).toContain(CLIENT_ID);
  });

  it('unknown instance: 404 pointing at LAKEBASE_INSTANCE_NAME', async () => {
    const error = await failureOf(instanceCredentialIssuer(workspaceClient(), 'no-such-db').issue());
    expect(error.step).toBe('credential-api');
    expect(error.status).toBe(404);
    expect(error.message).toContain('LAKEBASE_INSTANCE_NAME');
  });

  it('unknown endpoint: 404 pointing at LAKEBASE_ENDPOINT', async () => {
    const error = await failureOf(
      endpointCredentialIssuer(workspaceClient(), 'projects/x/branches/y/endpoints/z').issue(),
    );
    expect(error.status).toBe(404);
    expect(error.message).toContain('LAKEBASE_ENDPOINT');
  });

  it('401 from the credential API after a successful login', async () => {
    fake.failNext('database-credentials', { status: 401 });
    const error = await failureOf(instanceCredentialIssuer(workspaceClient(), INSTANCE).issue());
    expect(error.step).toBe('credential-api');
    expect(error.status).toBe(401);
  });

  it.each([500, 502, 503])('%i is reported as a service failure, and the next attempt succeeds', async (status) => {
    const issuer = instanceCredentialIssuer(workspaceClient(), INSTANCE);
    fake.failNext('database-credentials', { status });
    const error = await failureOf(issuer.issue());
    expect(error.step).toBe('credential-api');
    expect(error.status).toBe(status);
    expect(error.message).toContain('transient');

    const credential = await issuer.issue();
    expect(credential.token).toBe(fake.issued[0]?.token);
  });

  it('429 once: the SDK backs off and retries', async () => {
    fake.failNext('database-credentials', { status: 429 });
    const credential = await instanceCredentialIssuer(workspaceClient(), INSTANCE).issue();
    expect(credential.token).toBe(fake.issued[0]?.token);
    expect(fake.count('database-credentials')).toBe(2);
  });

  it('429 until the retry timeout: reported as rate limiting', async () => {
    fake.failNext('database-credentials', { status: 429 }, 20);
    const error = await failureOf(
      instanceCredentialIssuer(workspaceClient({ retryTimeoutSeconds: 1 }), INSTANCE).issue(),
    );
    expect(error.step).toBe('credential-api');
    expect(error.message).toContain('429');
  });
});

describe('TokenCache', () => {
  function cacheFor(maxConnectionLifetimeSeconds = 45 * 60) {
    return new TokenCache(instanceCredentialIssuer(workspaceClient(), INSTANCE), {
      maxConnectionLifetimeSeconds,
      now,
      logger: quietLog,
    });
  }

  it('reuses the token until it would not outlive a new connection, then renews', async () => {
    const cache = cacheFor(45 * 60);
    const first = await cache.password();
    clock += 13 * 60_000;
    expect(await cache.password()).toBe(first);
    expect(cache.issuedCount).toBe(1);
    // 60 min token - 45 min connection lifetime - 1 min margin: renewed after 14 minutes.
    expect(cache.current?.renewAt.getTime()).toBe(cache.current!.issuedAt.getTime() + 14 * 60_000);

    clock += 2 * 60_000;
    const second = await cache.password();
    expect(second).not.toBe(first);
    expect(second).toBe(fake.issued[1]?.token);
    expect(cache.issuedCount).toBe(2);
  });

  it('lets concurrent callers share one credential request', async () => {
    const cache = cacheFor();
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    fake.onCredentialIssued = () => held;
    const waiting = Array.from({ length: 10 }, () => cache.password());
    // All ten are waiting on the one request the fake is holding.
    await expect.poll(() => fake.count('database-credentials')).toBe(1);
    release();
    const tokens = await Promise.all(waiting);

    expect(new Set(tokens)).toEqual(new Set([fake.issued[0]?.token]));
    expect(fake.count('database-credentials')).toBe(1);
  });

  it('keeps serving a still-valid token while renewal fails, and fails once it has expired', async () => {
    const warnings: string[] = [];
    const cache = new TokenCache(instanceCredentialIssuer(workspaceClient(), INSTANCE), {
      maxConnectionLifetimeSeconds: 45 * 60,
      now,
      logger: { info: () => {}, warn: (message) => warnings.push(message) },
    });
    const first = await cache.password();
    clock += 20 * 60_000;
    fake.failNext('database-credentials', { status: 503 });
    expect(await cache.password()).toBe(first);
    expect(warnings.join('\n')).toContain('reusing the current token');

    clock += 40 * 60_000;
    fake.failNext('database-credentials', { status: 503 });
    const error = await failureOf(cache.password());
    expect(error.status).toBe(503);

    // Once the API is back, the next connection gets a fresh token.
    expect(await cache.password()).toBe(fake.issued[1]?.token);
  });

  it('warns when tokens live shorter than a pooled connection, and still reuses them', async () => {
    const warnings: string[] = [];
    const cache = new TokenCache(instanceCredentialIssuer(workspaceClient(), INSTANCE), {
      maxConnectionLifetimeSeconds: 2 * 3600,
      now,
      logger: { info: () => {}, warn: (message) => warnings.push(message) },
    });
    await cache.password();
    await cache.password();
    expect(cache.issuedCount).toBe(1);
    expect(warnings.join('\n')).toContain('lower PG_MAX_LIFETIME_SECONDS');
  });
});
