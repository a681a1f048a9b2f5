/**
 * The README's client configurations for frontend teams, exactly as written
 * there ("For frontend teams"), against a gateway on a real port: Apollo
 * Client 4 (HTTP link for queries, a graphql-sse link for subscriptions) and
 * urql with Graphcache. Each example is written out as a module with the
 * gateway's origin in place of `https://<app-url>` and imported, so a
 * configuration that a current release of the client no longer accepts (Apollo
 * Client 4 dropped the `uri` option) fails here rather than in a user's app.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CombinedGraphQLErrors, gql, type ApolloClient } from '@apollo/client';
import type { Client as SseClient } from 'graphql-sse';
import type { Client as UrqlClient } from 'urql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, type Listening } from '../src/server/http/listen.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// Inside the project (so the examples' imports resolve to its node_modules), ignored by git and by tsc.
const examplesDir = path.join(root, '.data', 'readme-examples', String(process.pid));

let gateway: TestGateway;
let http: Listening;
let origin: string;

/** The fenced block right after `<!-- example: name -->` in the README, as a module exporting `client`. */
async function readmeClient<T>(name: string): Promise<T> {
  return (await readmeModule<{ client: T }>(name, ['client'])).client;
}

/** The same, exporting the named declarations of the example. */
async function readmeModule<T>(name: string, exported: readonly string[]): Promise<T> {
  const readme = await readFile(path.join(root, 'README.md'), 'utf8');
  const match = new RegExp(`<!-- example: ${name} -->\\s*\`\`\`ts\\n([\\s\\S]*?)\\n\`\`\``).exec(readme);
  if (!match?.[1]) throw new Error(`README.md has no example "${name}"`);
  if (!match[1].includes('https://<app-url>')) throw new Error(`README.md example "${name}" no longer names <app-url>`);
  const file = path.join(examplesDir, `${name}.ts`);
  await writeFile(file, `${match[1].replaceAll('https://<app-url>', origin)}\nexport { ${exported.join(', ')} };\n`);
  return (await import(pathToFileURL(file).href)) as T;
}

/** The GraphQL document in the fenced block right after `<!-- example: name -->` in the README. */
async function readmeDocument(name: string): Promise<string> {
  const readme = await readFile(path.join(root, 'README.md'), 'utf8');
  const match = new RegExp(`<!-- example: ${name} -->\\s*\`\`\`graphql\\n([\\s\\S]*?)\\n\`\`\``).exec(readme);
  if (!match?.[1]) throw new Error(`README.md has no GraphQL example "${name}"`);
  return match[1];
}

/**
 * Trips 201..206 that the README's filtered page selects, picked up in two ZIPs and dropped off in four boroughs,
 * run through `page`; what SQL says each trip's zones are must be what the client gives. Removed afterwards.
 */
async function expectReadmePageMatchesSql(page: (document: string) => Promise<ReadmePage | undefined>): Promise<void> {
  await gateway.database.pool.query(
    `INSERT INTO "default".trips_synced (id, tpep_pickup_datetime, tpep_dropoff_datetime, fare_amount, pickup_zip, dropoff_zip)
     SELECT 200 + i, timestamptz '2016-02-10 12:00:00+00' + i * interval '1 hour',
            timestamptz '2016-02-10 12:30:00+00' + i * interval '1 hour', 20 + i,
            (ARRAY[10001, 10011])[i % 2 + 1], (ARRAY[11201, 10451, 11430, 10022, 99999, NULL])[i]
       FROM generate_series(1, 6) AS i`,
  );
  try {
    const { rows } = await gateway.database.pool.query<{
      trip_id: string;
      pickup_zip: number;
      pickup_borough: string | null;
      pickup_neighborhood: string | null;
      dropoff_zip: number | null;
      dropoff_borough: string | null;
    }>(
      `SELECT t.id::text AS trip_id, t.pickup_zip, p.borough AS pickup_borough, p.neighborhood AS pickup_neighborhood,
              t.dropoff_zip, d.borough AS dropoff_borough
         FROM "default".trips_synced t
         LEFT JOIN lakebase_graphql.zip_zones p ON p.zip = t.pickup_zip
         LEFT JOIN lakebase_graphql.zip_zones d ON d.zip = t.dropoff_zip
        WHERE t.pickup_zip IN (10001, 10011) AND t.fare_amount >= 10 AND t.fare_amount < 60
          AND t.tpep_pickup_datetime >= '2016-02-01T00:00:00-05:00'
        ORDER BY t.fare_amount DESC, t.id DESC
        LIMIT 50`,
    );
    expect(new Set(rows.map((row) => row.dropoff_borough)).size).toBeGreaterThan(3);
    const data = await page(await readmeDocument('filtered-page'));
    const nodes = data?.trips.edges.map((edge) => edge.node) ?? [];
    expect(nodes.map((node) => node.tripId)).toEqual(rows.map((row) => row.trip_id));
    for (const [index, node] of nodes.entries()) {
      const row = rows[index]!;
      // Apollo adds __typename to each object; what matters is the values.
      const pickup = node.pickupZone && {
        zip: node.pickupZone.zip,
        borough: node.pickupZone.borough,
        neighborhood: node.pickupZone.neighborhood,
      };
      const dropoff = node.dropoffZone && { zip: node.dropoffZone.zip, borough: node.dropoffZone.borough };
      expect({ trip: node.tripId, pickup, dropoff }).toEqual({
        trip: row.trip_id,
        pickup: { zip: row.pickup_zip, borough: row.pickup_borough, neighborhood: row.pickup_neighborhood },
        dropoff: row.dropoff_zip === null ? null : { zip: row.dropoff_zip, borough: row.dropoff_borough },
      });
    }
  } finally {
    await gateway.database.pool.query('DELETE FROM "default".trips_synced WHERE id > 200');
  }
}

interface ReadmePage {
  trips: {
    edges: {
      node: {
        tripId: string;
        pickupZone: { zip: number; borough: string | null; neighborhood: string | null } | null;
        dropoffZone: { zip: number; borough: string | null } | null;
      };
    }[];
  };
}

// Fares 10..16 on trips 1..7, zips alternating between Manhattan (10001) and Brooklyn (11201).
const TRIPS = 7;
async function insert(ids: number[]): Promise<void> {
  await gateway.database.pool.query(
    `INSERT INTO "default".trips_synced (id, tpep_pickup_datetime, tpep_dropoff_datetime, fare_amount, pickup_zip, dropoff_zip)
     SELECT i, timestamptz '2024-01-01 00:00:00+00' + i * interval '1 minute',
            timestamptz '2024-01-01 00:20:00+00' + i * interval '1 minute', 9 + i,
            CASE WHEN i % 2 = 0 THEN 11201 ELSE 10001 END, 10022
       FROM unnest($1::int8[]) AS i`,
    [ids.map(String)],
  );
}

/** Trip ids by fare, highest first, of trips with a fare of at least `minFare`: what SQL says the pages hold. */
async function idsByFareDesc(minFare: number, limit: number): Promise<string[]> {
  const { rows } = await gateway.database.pool.query<{ id: string }>(
    `SELECT id::text AS id FROM "default".trips_synced WHERE fare_amount >= $1 ORDER BY fare_amount DESC LIMIT $2`,
    [minFare, limit],
  );
  return rows.map((row) => row.id);
}

beforeAll(async () => {
  gateway = await startTestGateway('frontend_clients', { LIVE_POLL_INTERVAL_MS: '50' });
  await insert(Array.from({ length: TRIPS }, (_, i) => i + 1));
  http = await listen(gateway.app.gateway, 0, '127.0.0.1');
  origin = new URL(http.url).origin;
  await mkdir(examplesDir, { recursive: true });
});
afterAll(async () => {
  await http?.close();
  await gateway?.close();
  await rm(examplesDir, { recursive: true, force: true });
});

interface TripsPage {
  trips: {
    edges: { cursor: string; node: { id: string; tripId: string; fareAmount: number; pickupZone: Zone | null } }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}
interface Zone {
  zip: number;
  borough: string | null;
}

const TRIPS_QUERY = `query Trips($first: Int!, $after: String, $filter: TripFilter, $orderBy: [TripOrderBy!]) {
  trips(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    edges { cursor node { id tripId fareAmount pickupZone { zip borough } } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const FIRST_PAGE = { first: 3, filter: { fareAmount: { gte: 11 } }, orderBy: ['FARE_AMOUNT_DESC'] };
const BAD_ARGUMENT = '{ trips(first: -1) { totalCount } }';

describe('Apollo Client 4, configured as in the README', () => {
  let client: ApolloClient;
  beforeAll(async () => {
    client = await readmeClient<ApolloClient>('apollo-client');
  });
  afterAll(() => client?.stop());

  it('pages trips with fetchMore into one cached list, in the order SQL gives', async () => {
    const query = gql(TRIPS_QUERY);
    const watched = client.watchQuery<TripsPage>({ query, variables: FIRST_PAGE });
    const subscription = watched.subscribe(() => {});
    try {
      const first = await watched.refetch();
      const page1 = first.data!.trips;
      expect(page1.edges.map((edge) => edge.node.tripId)).toEqual(await idsByFareDesc(11, 3));
      expect(page1.pageInfo.hasNextPage).toBe(true);

      await watched.fetchMore({ variables: { after: page1.pageInfo.endCursor } });
      // The watched query sees the merged list once the cache broadcasts it (after fetchMore resolves, in Apollo 4).
      const merged = () => (watched.getCurrentResult().data as TripsPage | undefined)?.trips;
      const six = await idsByFareDesc(11, 6);
      await expect.poll(() => merged()?.edges.map((edge) => edge.node.tripId), { timeout: 5_000 }).toEqual(six);
      expect(merged()?.pageInfo.hasNextPage).toBe(false);
      // The cached list answers the first page's variables too: one list per filter and ordering.
      const cached = client.readQuery<TripsPage>({ query, variables: FIRST_PAGE });
      expect(cached?.trips.edges.map((edge) => edge.node.tripId)).toEqual(six);
    } finally {
      subscription.unsubscribe();
    }
  });

  it('normalises Zone by zip and Trip by its Relay id', async () => {
    await client.query<TripsPage>({
      query: gql(TRIPS_QUERY),
      variables: { first: TRIPS },
      fetchPolicy: 'network-only',
    });
    const cache = client.cache.extract() as Record<string, { __typename?: string; borough?: string }>;
    const zones = Object.entries(cache).filter(([, entry]) => entry.__typename === 'Zone');
    expect(zones.map(([key]) => key).sort()).toEqual(['Zone:{"zip":10001}', 'Zone:{"zip":11201}']);
    expect(cache[client.cache.identify({ __typename: 'Zone', zip: 10001 })!]?.borough).toBe('Manhattan');
    expect(cache[client.cache.identify({ __typename: 'Zone', zip: 11201 })!]?.borough).toBe('Brooklyn');
    const trips = Object.values(cache).filter((entry) => entry.__typename === 'Trip');
    expect(trips).toHaveLength(TRIPS);

    const node = await client.query<{ trip: { id: string; fareAmount: number } }>({
      query: gql`
        query One($tripId: BigInt!) {
          trip(tripId: $tripId) {
            id
            fareAmount
          }
        }
      `,
      variables: { tripId: '7' },
    });
    expect(node.data?.trip.fareAmount).toBe(16);
    expect(client.cache.identify({ __typename: 'Trip', id: node.data!.trip.id })).toBe(`Trip:${node.data!.trip.id}`);
  });

  it('raises a bad argument as a GraphQL error that names it', async () => {
    const failure = await client.query({ query: gql(BAD_ARGUMENT), fetchPolicy: 'network-only' }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(CombinedGraphQLErrors.is(failure)).toBe(true);
    const errors = (failure as CombinedGraphQLErrors).errors;
    expect(errors[0]?.extensions?.argument).toBe('first');
    expect(errors[0]?.message).toContain('first');
  });

  it('streams tripsAdded over the graphql-sse link, every new row once', async () => {
    const batches: string[][] = [];
    const errors: unknown[] = [];
    const subscription = client
      .subscribe<{ tripsAdded: { cursor: string; trips: { tripId: string }[] } }>({
        query: gql`
          subscription {
            tripsAdded {
              cursor
              trips {
                tripId
              }
            }
          }
        `,
      })
      .subscribe({
        next: (result) => {
          if (result.error) errors.push(result.error);
          if (result.data) batches.push(result.data.tripsAdded.trips.map((trip) => trip.tripId));
        },
        error: (error: unknown) => errors.push(error),
      });
    try {
      await expect.poll(() => batches.length, { timeout: 20_000 }).toBeGreaterThan(0);
      expect(batches[0]).toEqual([]);
      await insert([101, 102]);
      await insert([103]);
      await expect.poll(() => batches.flat().sort(), { timeout: 20_000 }).toEqual(['101', '102', '103']);
      expect(errors).toEqual([]);
    } finally {
      subscription.unsubscribe();
      await gateway.database.pool.query('DELETE FROM "default".trips_synced WHERE id > $1', [TRIPS]);
    }
  });

  it("runs the README's filtered page with zones, each zone as SQL has it", async () => {
    await expectReadmePageMatchesSql(
      async (document) =>
        (await client.query<ReadmePage>({ query: gql(document), variables: {}, fetchPolicy: 'network-only' })).data,
    );
  });
});

describe("Apollo's automatic persisted queries against the default gateway (PERSISTED_OPERATIONS=off)", () => {
  it('fall back to sending the query, for every query', async () => {
    const { ApolloClient, HttpLink, InMemoryCache } = await import('@apollo/client');
    const { PersistedQueryLink } = await import('@apollo/client/link/persisted-queries');
    const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
    const sent: unknown[] = [];
    const recording: typeof fetch = async (input, init) => {
      sent.push(JSON.parse(String(init?.body)));
      return fetch(input, init);
    };
    const client = new ApolloClient({
      link: new PersistedQueryLink({ sha256 }).concat(new HttpLink({ uri: `${origin}/graphql`, fetch: recording })),
      cache: new InMemoryCache(),
    });
    try {
      for (const fare of [11, 13]) {
        const result = await client.query<TripsPage>({
          query: gql(TRIPS_QUERY),
          variables: { first: 2, filter: { fareAmount: { gte: fare } }, orderBy: ['FARE_AMOUNT_DESC'] },
          fetchPolicy: 'network-only',
        });
        expect(result.data?.trips.edges.map((edge) => edge.node.tripId)).toEqual(await idsByFareDesc(fare, 2));
      }
      // The first query's hash was refused as not supported; the link then sent every query whole.
      expect(sent.map((body) => typeof (body as { query?: unknown }).query === 'string')).toEqual([false, true, true]);
    } finally {
      client.stop();
    }
  });
});

describe('urql with Graphcache, configured as in the README', () => {
  let client: UrqlClient;
  beforeAll(async () => {
    client = await readmeClient<UrqlClient>('urql-client');
  });

  it('merges pages of trips into one cached list (relayPagination), in the order SQL gives', async () => {
    const page1 = await client.query<TripsPage>(TRIPS_QUERY, FIRST_PAGE).toPromise();
    expect(page1.error).toBeUndefined();
    expect(page1.data!.trips.edges.map((edge) => edge.node.tripId)).toEqual(await idsByFareDesc(11, 3));

    const page2 = await client
      .query<TripsPage>(TRIPS_QUERY, { ...FIRST_PAGE, after: page1.data!.trips.pageInfo.endCursor })
      .toPromise();
    expect(page2.error).toBeUndefined();
    const merged = client.readQuery<TripsPage>(TRIPS_QUERY, FIRST_PAGE);
    expect(merged?.data?.trips.edges.map((edge) => edge.node.tripId)).toEqual(await idsByFareDesc(11, 6));
    expect(merged?.data?.trips.edges[0]?.node.pickupZone?.borough).toBe('Manhattan');
  });

  it('reports a bad argument as a GraphQL error that names it', async () => {
    const result = await client.query(BAD_ARGUMENT, {}).toPromise();
    expect(result.error?.graphQLErrors[0]?.extensions.argument).toBe('first');
    expect(result.error?.graphQLErrors[0]?.message).toContain('first');
  });

  it("runs the README's filtered page with zones, each zone as SQL has it", async () => {
    await expectReadmePageMatchesSql(async (document) => {
      const result = await client.query<ReadmePage>(document, {}, { requestPolicy: 'network-only' }).toPromise();
      expect(result.error).toBeUndefined();
      return result.data;
    });
  });
});

describe('graphql-sse, following trips as in the README', () => {
  type Follow = (
    onTrips: (trips: { tripId: string }[], cursor: string) => void,
    after?: string,
    signal?: AbortSignal,
  ) => Promise<void>;
  let example: { client: SseClient; followTrips: Follow };
  beforeAll(async () => {
    example = await readmeModule('graphql-sse-resume', ['client', 'followTrips']);
  });
  afterAll(() => example?.client.dispose());

  it('gets every new trip exactly once across a dropped connection', async () => {
    const received: string[] = [];
    let batches = 0;
    const stop = new AbortController();
    const following = example.followTrips(
      (trips) => {
        batches += 1;
        received.push(...trips.map((trip) => trip.tripId));
      },
      undefined,
      stop.signal,
    );
    try {
      await expect.poll(() => batches, { timeout: 5_000 }).toBeGreaterThan(0); // subscribed: the first, empty batch
      await insert([101, 102, 103]);
      await expect.poll(() => received.length, { timeout: 5_000 }).toBe(3);
      // The connection drops (a proxy, a network change); rows are written before the client is back.
      http.server.closeAllConnections();
      await insert([104, 105]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      await insert([106]);
      await expect.poll(() => received.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(6);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(received).toEqual(['101', '102', '103', '104', '105', '106']);
    } finally {
      stop.abort();
      example.client.dispose();
      await following;
    }
  });
});
