/**
 * The API under /api/graphql, where the Databricks Apps proxy lets OAuth token
 * callers (BI tools, scripts, services) through: the same answers as /graphql,
 * over a real HTTP port, for queries, errors, GET, and both SSE transports
 * (real graphql-sse clients).
 */
import { createClient, type Client } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type Listening } from '../src/server/http/listen.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

const QUERY = '{ trips(first: 3, orderBy: [TRIP_ID_ASC]) { edges { node { tripId fareAmount } } totalCount } }';
const TRIPS_ADDED = 'subscription { tripsAdded { cursor trips { tripId } } }';

let gateway: TestGateway;
let http: Listening;
let origin: string;
const clients: Client[] = [];

async function insert(ids: number[]): Promise<void> {
  await gateway.database.pool.query(
    `INSERT INTO "default".trips_synced (id, tpep_pickup_datetime, tpep_dropoff_datetime, fare_amount, pickup_zip, dropoff_zip)
     SELECT i, timestamptz '2024-01-01 00:00:00+00' + i * interval '1 minute',
            timestamptz '2024-01-01 00:20:00+00' + i * interval '1 minute', 10 + i, 10001, 10022
       FROM unnest($1::int8[]) AS i`,
    [ids.map(String)],
  );
}

beforeAll(async () => {
  gateway = await startTestGateway('api_paths', { LIVE_POLL_INTERVAL_MS: '50' });
  await insert([1, 2, 3, 4]);
  http = await listen(gateway.app.gateway, 0, '127.0.0.1');
  origin = new URL(http.url).origin;
});
afterAll(async () => {
  for (const client of clients) client.dispose();
  await http.close();
  await gateway.close();
});

async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: (await response.json()) as unknown,
  };
}

describe('/api/graphql answers exactly as /graphql', () => {
  it('a query, by POST and by GET', async () => {
    const plain = await post('/graphql', { query: QUERY });
    const api = await post('/api/graphql', { query: QUERY });
    expect(plain.status).toBe(200);
    expect(api).toEqual(plain);
    expect(api.body).toMatchObject({ data: { trips: { totalCount: '4' } } });

    const get = async (path: string) =>
      (
        await fetch(`${origin}${path}?query=${encodeURIComponent(QUERY)}`, { headers: { accept: 'application/json' } })
      ).json();
    expect(await get('/api/graphql')).toEqual(await get('/graphql'));
  });

  it('a bad request gets the same clear error', async () => {
    const bad = { query: '{ trips(first: -1) { totalCount } }' };
    const plain = await post('/graphql', bad);
    const api = await post('/api/graphql', bad);
    expect(api).toEqual(plain);
    expect(JSON.stringify(api.body)).toContain('first');
  });

  it('other paths ending in /graphql are not the API', async () => {
    for (const path of ['/x/graphql', '/apis/graphql', '/api/graphql/extra']) {
      const response = await fetch(`${origin}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(response.status, path).toBe(404);
    }
  });

  it.each([
    ['distinct connections', '/api/graphql', false],
    ['single connection', '/api/graphql/stream', true],
    ['distinct connections', '/graphql', false],
    ['single connection', '/graphql/stream', true],
  ])('tripsAdded over %s on %s (graphql-sse client) delivers new rows', async (_mode, path, singleConnection) => {
    const client = createClient({ url: `${origin}${path}`, singleConnection, retryAttempts: 0 });
    clients.push(client);
    const batches: string[][] = [];
    const errors: unknown[] = [];
    const dispose = client.subscribe<{ tripsAdded: { trips: { tripId: string }[] } }>(
      { query: TRIPS_ADDED },
      {
        next: (result) => {
          if (result.errors) errors.push(result.errors);
          if (result.data) batches.push(result.data.tripsAdded.trips.map((trip) => trip.tripId));
        },
        error: (error) => errors.push(error),
        complete: () => {},
      },
    );
    await expect.poll(() => batches.length, { timeout: 20_000 }).toBeGreaterThan(0);
    expect(batches[0]).toEqual([]);
    const { rows } = await gateway.database.pool.query<{ next: string }>(
      'SELECT coalesce(max(id), 0) + 1 AS next FROM "default".trips_synced',
    );
    const id = Number(rows[0]!.next);
    await insert([id]);
    await expect.poll(() => batches.flat(), { timeout: 20_000 }).toEqual([String(id)]);
    expect(errors).toEqual([]);
    dispose();
  });
});
