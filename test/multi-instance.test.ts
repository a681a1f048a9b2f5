/**
 * Two gateway processes (`src/main.ts`, as Databricks Apps would run them with
 * compute_max_instances > 1) on one database and one workspace. Driven only
 * through the public API over real ports (graphql-sse clients, HTTP queries),
 * so it holds whatever feeds the live stream inside a process:
 * - every row inserted after subscribing reaches subscribers of both
 *   processes, each exactly once;
 * - both report the same sync status, before and after it changes;
 * - what each costs the database: its pool plus one LISTEN connection.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSyncedTable } from '../src/dev/synced-table.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { startFakeWorkspace, type FakeWorkspace } from './support/fake-workspace.js';
import { autoscaling } from './support/synced-table-flavours.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLIENT_ID = '5b1d2c3e-4f50-4a6b-8c7d-9e0f1a2b3c4d';
const CLIENT_SECRET = 'multi-instance-secret';
const TABLE = 'main.default.trips_synced';
const POOL_MAX = 4;

interface GatewayProcess {
  origin: string;
  child: ChildProcess;
  logs: string[];
  applicationName: string;
}

let db: TestDatabase;
let fake: FakeWorkspace;
const processes: GatewayProcess[] = [];
const clients: Client[] = [];

async function startGatewayProcess(index: number): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: '0',
      DATABASE_URL: db.url,
      PG_POOL_MAX: String(POOL_MAX),
      LIVE_POLL_INTERVAL_MS: '200',
      DATABRICKS_HOST: fake.url,
      DATABRICKS_CLIENT_ID: CLIENT_ID,
      DATABRICKS_CLIENT_SECRET: CLIENT_SECRET,
      SYNCED_TABLE_NAME: TABLE,
      SYNC_STATUS_CACHE_SECONDS: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => logs.push(line));
  const origin = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`gateway ${index} exited with ${code}:\n${logs.join('\n')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      logs.push(line);
      const address = /GraphQL endpoint ready at (http:\/\/[^\s"]+)\/graphql/.exec(line)?.[1];
      if (address) resolve(address);
    });
  });
  const gateway = { origin, child, logs, applicationName: 'lakebase-graphql' };
  processes.push(gateway);
  return gateway;
}

async function stop(gateway: GatewayProcess): Promise<void> {
  if (gateway.child.exitCode !== null) return;
  const exited = new Promise((resolve) => gateway.child.once('exit', resolve));
  gateway.child.kill('SIGTERM');
  await exited;
}

async function insert(ids: number[]): Promise<void> {
  await db.pool.query(
    `INSERT INTO "default".trips_synced (id, tpep_pickup_datetime, tpep_dropoff_datetime, fare_amount, pickup_zip, dropoff_zip)
     SELECT i, timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second',
            timestamptz '2024-01-01 00:20:00+00' + i * interval '1 second', 5 + i % 40, 10001, 10022
       FROM unnest($1::int8[]) AS i`,
    [ids.map(String)],
  );
}

/** Every row id one subscription received, in order, and whether anything went wrong. */
function subscribe(url: string, singleConnection: boolean) {
  const client = createClient({ url, singleConnection, retryAttempts: 0 });
  clients.push(client);
  const received: string[] = [];
  const problems: unknown[] = [];
  let batches = 0;
  client.subscribe<{ tripsAdded: { trips: { tripId: string }[] } }>(
    { query: 'subscription { tripsAdded { cursor trips { tripId } } }' },
    {
      next: (result) => {
        batches += 1;
        if (result.errors) problems.push(result.errors);
        for (const trip of result.data?.tripsAdded.trips ?? []) received.push(trip.tripId);
      },
      error: (error) => problems.push(error),
      complete: () => problems.push('completed'),
    },
  );
  return { received, problems, started: () => batches > 0 };
}

async function query<T>(origin: string, text: string): Promise<T> {
  const response = await fetch(`${origin}/api/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
    body: JSON.stringify({ query: text }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return body.data as T;
}

beforeAll(async () => {
  fake = await startFakeWorkspace({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  fake.setSyncedTable(autoscaling.build({ table: TABLE, detailedState: 'SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE' }));
  db = await createTestDatabase('multi_instance');
  await ensureSyncedTable(db.pool, 'default', 'trips_synced');
  await insert([1, 2, 3, 4, 5]);
  // Started together: both install the gateway's own schema on the same database at once.
  await Promise.all([startGatewayProcess(1), startGatewayProcess(2)]);
  for (const gateway of processes) await ready(gateway);
});

/** /ready answers 200 once the gateway's schema is installed; bounded wait. */
async function ready(gateway: GatewayProcess): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    if ((await fetch(`${gateway.origin}/ready`)).status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`gateway at ${gateway.origin} never became ready:\n${gateway.logs.join('\n')}`);
}

afterAll(async () => {
  for (const client of clients) client.dispose();
  await Promise.all(processes.map(stop));
  await fake?.close();
  await db?.drop();
});

describe('two gateway processes on one database', () => {
  it('deliver every new row to subscribers of both, each exactly once, whatever the commit order', async () => {
    const [a, b] = processes as [GatewayProcess, GatewayProcess];
    const streams = [
      subscribe(`${a.origin}/graphql`, false),
      subscribe(`${a.origin}/api/graphql/stream`, true),
      subscribe(`${b.origin}/api/graphql`, false),
      subscribe(`${b.origin}/graphql/stream`, true),
    ];
    await expect.poll(() => streams.every((stream) => stream.started()), { timeout: 60_000 }).toBe(true);

    // Two writers whose transactions commit in the opposite order of their keys.
    const early = await db.pool.connect();
    const late = await db.pool.connect();
    try {
      await early.query('BEGIN');
      await early.query(
        `INSERT INTO "default".trips_synced (id, tpep_pickup_datetime, fare_amount) SELECT i, now(), 9 FROM generate_series(100, 149) AS i`,
      );
      await late.query('BEGIN');
      await late.query(
        `INSERT INTO "default".trips_synced (id, tpep_pickup_datetime, fare_amount) SELECT i, now(), 9 FROM generate_series(150, 199) AS i`,
      );
      await late.query('COMMIT');
      await early.query('COMMIT');
    } finally {
      early.release();
      late.release();
    }
    for (let batch = 0; batch < 10; batch += 1) {
      await insert(Array.from({ length: 20 }, (_, i) => 200 + batch * 20 + i));
    }

    const expected = Array.from({ length: 300 }, (_, i) => String(100 + i));
    for (const [index, stream] of streams.entries()) {
      const missing = () => expected.filter((id) => !stream.received.includes(id));
      await expect
        .poll(() => stream.received.length, {
          // A bound on the wait, not a timing assertion: two extra Node processes on a loaded machine.
          timeout: 90_000,
          message: `stream ${index}: missing ${JSON.stringify(missing())}, problems ${JSON.stringify(stream.problems)}`,
        })
        .toBe(300);
      expect(new Set(stream.received).size, `stream ${index} has duplicates`).toBe(300);
      expect([...stream.received].sort((x, y) => Number(x) - Number(y))).toEqual(expected);
      expect(stream.problems).toEqual([]);
    }
    // A little longer: nothing more arrives (no late duplicates).
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const stream of streams) expect(stream.received).toHaveLength(300);
  }, 240_000);

  it('report the same sync status, and both see it change', async () => {
    const status = `{ syncStatus { tableName state pipelineId lastSync { sourceCommitVersion endedAt } progress { completion } } }`;
    const [a, b] = processes as [GatewayProcess, GatewayProcess];
    const before = await Promise.all([query(a.origin, status), query(b.origin, status)]);
    expect(before[0]).toEqual(before[1]);
    expect(before[0]).toMatchObject({ syncStatus: { tableName: TABLE, state: 'ONLINE_NO_PENDING_UPDATE' } });

    fake.setSyncedTable(
      autoscaling.build({ table: TABLE, detailedState: 'SYNCED_TABLE_ONLINE_TRIGGERED_UPDATE', commitVersion: 43 }),
    );
    const after = await Promise.all([query(a.origin, status), query(b.origin, status)]);
    expect(after[0]).toEqual(after[1]);
    expect(after[0]).toMatchObject({
      syncStatus: { state: 'ONLINE_TRIGGERED_UPDATE', lastSync: { sourceCommitVersion: '43' } },
    });
  });

  it('each costs the database at most its pool (PG_POOL_MAX) plus one LISTEN connection', async () => {
    const { rows } = await db.pool.query<{ application_name: string; connections: number }>(
      `SELECT application_name, count(*)::int AS connections FROM pg_stat_activity
        WHERE datname = current_database() AND application_name LIKE 'lakebase-graphql%'
        GROUP BY application_name`,
    );
    const byName = Object.fromEntries(rows.map((row) => [row.application_name, row.connections]));
    expect(byName['lakebase-graphql-listen']).toBe(2);
    expect(byName['lakebase-graphql'] ?? 0).toBeLessThanOrEqual(2 * POOL_MAX);
  });
});
