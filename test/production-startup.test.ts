/**
 * The gateway process started as Databricks Apps starts it: PG* variables for
 * a role without a password, workspace OAuth credentials, SYNCED_TABLE_NAME,
 * and the role's grants from docs/deploy.md. The fake workspace issues the
 * token that is the role's password; the database is a real Postgres.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { quoteIdent } from '../src/db/sql-identifiers.js';
import { ensureSyncedTable } from '../src/dev/synced-table.js';
import { createTestDatabase, dropTestRole, type TestDatabase } from './support/database.js';
import { startFakeWorkspace, type FakeWorkspace } from './support/fake-workspace.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLIENT_ID = '5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c';
const CLIENT_SECRET = 'fake-secret';
const TABLE = 'main.default.trips_synced';
const PIPELINE = 'b2c3d4e5-0000-4000-8000-000000000002';
const ADMIN_TOKEN = 'feedface'.repeat(4);
const role = `sp_${randomBytes(4).toString('hex')}`;

let db: TestDatabase;
let fake: FakeWorkspace;
let endpoint: string;

async function graphql(query: string, headers: Record<string, string> = {}) {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as { data?: Record<string, unknown>; errors?: Array<{ message: string }> };
}

beforeAll(async () => {
  db = await createTestDatabase('production_startup');
  await ensureSyncedTable(db.pool, 'default', 'trips_synced');
  await db.pool.query(
    `INSERT INTO "default".trips_synced (id, fare_amount, pickup_zip, dropoff_zip) VALUES (21933, 12.5, 10001, 10002)`,
  );
  fake = await startFakeWorkspace({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, instances: ['trips-db'] });
  fake.setSyncedTable({
    name: TABLE,
    database_instance_name: 'trips-db',
    spec: { source_table_full_name: 'main.default.trips', scheduling_policy: 'TRIGGERED' },
    data_synchronization_status: { detailed_state: 'SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE', pipeline_id: PIPELINE },
  });
  fake.pipelines.add(PIPELINE);

  // The role Databricks creates for the app's service principal, and the grants docs/deploy.md lists.
  const grantee = quoteIdent(role);
  await db.pool.query(`CREATE ROLE ${grantee} LOGIN`);
  await db.pool.query(`GRANT CONNECT, CREATE ON DATABASE ${quoteIdent(db.name)} TO ${grantee}`);
  await db.pool.query(`GRANT USAGE ON SCHEMA "default" TO ${grantee}`);
  await db.pool.query(`GRANT SELECT ON "default".trips_synced TO ${grantee}`);
});

interface Gateway {
  endpoint: string;
  logs: string[];
  stop(): Promise<void>;
}

const running: Gateway[] = [];

/** Starts `src/main.ts` with the environment Databricks Apps would give it. */
async function startGatewayProcess(): Promise<Gateway> {
  const url = new URL(db.url);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      DATABRICKS_APP_NAME: 'lakebase-graphql-test',
      DATABRICKS_APP_PORT: '0',
      HOST: '127.0.0.1',
      PGHOST: url.hostname,
      PGPORT: url.port,
      PGDATABASE: db.name,
      PGUSER: role,
      PGSSLMODE: 'disable',
      DATABRICKS_HOST: fake.url,
      DATABRICKS_CLIENT_ID: CLIENT_ID,
      DATABRICKS_CLIENT_SECRET: CLIENT_SECRET,
      SYNCED_TABLE_NAME: TABLE,
      GATEWAY_ADMIN_TOKEN: ADMIN_TOKEN,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  const gateway: Gateway = {
    endpoint: '',
    logs,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
  running.push(gateway);
  createInterface({ input: child.stderr! }).on('line', (line) => logs.push(line));
  gateway.endpoint = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}:\n${logs.join('\n')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line);
      const address = /GraphQL endpoint ready at (http:\/\/[^\s"]+)/.exec(line)?.[1];
      if (address) resolve(address);
    });
  });
  return gateway;
}

async function readiness(gateway: Gateway): Promise<number> {
  return (await fetch(gateway.endpoint.replace('/graphql', '/ready'))).status;
}

async function setRolePasswordToNextToken(): Promise<void> {
  await db.pool.query(`ALTER ROLE ${quoteIdent(role)} PASSWORD ${pg.escapeLiteral(fake.peekNextToken())}`);
}

afterAll(async () => {
  await Promise.all(running.map((gateway) => gateway.stop()));
  await fake?.close();
  if (db) {
    await db.drop();
    await dropTestRole(role);
  }
});
afterEach(() => fake.reset());

describe('production startup with Lakebase OAuth', () => {
  it('logs in with the issued token, becomes ready and serves trips and the sync status', async () => {
    await setRolePasswordToNextToken();
    const gateway = await startGatewayProcess();
    endpoint = gateway.endpoint;
    await expect.poll(() => readiness(gateway), { timeout: 30_000 }).toBe(200);

    const trips = await graphql('{ trip(tripId: "21933") { tripId fareAmount } }');
    expect(trips).toEqual({ data: { trip: { tripId: '21933', fareAmount: 12.5 } } });

    const status = await graphql('{ syncStatus { tableName state pipelineId } }');
    expect(status).toEqual({
      data: { syncStatus: { tableName: TABLE, state: 'ONLINE_NO_PENDING_UPDATE', pipelineId: PIPELINE } },
    });

    const refresh = await graphql('mutation { refreshSyncedTable { updateId } }', { 'X-Admin-Token': ADMIN_TOKEN });
    expect(refresh).toEqual({ data: { refreshSyncedTable: { updateId: fake.updates[0]?.updateId } } });

    // The instance came from the synced table; one credential served every connection so far.
    expect(fake.issued.map((credential) => credential.target)).toEqual(['trips-db']);
    expect(gateway.logs.join('\n')).toContain('database password: OAuth');
    await gateway.stop();
    // A stop says it happened, after it began.
    const messages = gateway.logs.map((line) =>
      line.startsWith('{') ? (JSON.parse(line) as { msg: string }).msg : line,
    );
    expect(messages.indexOf('stopped')).toBeGreaterThan(messages.indexOf('shutting down'));
    expect(messages).toContain('shutting down');
  });

  it('is not ready while credentials are refused, says why in the log, and recovers without a restart', async () => {
    await setRolePasswordToNextToken();
    fake.failNext('database-credentials', { status: 403 }, 10_000);
    const gateway = await startGatewayProcess();
    await expect.poll(() => gateway.logs.join('\n'), { timeout: 30_000 }).toContain('[credential-api]');
    expect(await readiness(gateway)).toBe(503);
    expect(gateway.logs.join('\n')).toContain('needs CAN_CONNECT_AND_CREATE on database instance \\"trips-db\\"');

    // The grant is fixed: the next attempt gets a credential, and the gateway becomes ready.
    fake.reset();
    await setRolePasswordToNextToken();
    await expect.poll(() => readiness(gateway), { timeout: 30_000 }).toBe(200);
    endpoint = gateway.endpoint;
    expect(await graphql('{ trip(tripId: "21933") { tripId } }')).toEqual({ data: { trip: { tripId: '21933' } } });
    await gateway.stop();
  });
});
