import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TRIP_ORDER_BY, type TripOrderBy } from '../src/trips/ordering.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { insertTrickyTrips } from './support/trips-fixture.js';

const COLUMN: Record<string, string> = {
  PICKUP_AT: 'tpep_pickup_datetime',
  DROPOFF_AT: 'tpep_dropoff_datetime',
  FARE_AMOUNT: 'fare_amount',
  TRIP_DISTANCE: 'trip_distance',
  TRIP_ID: 'id',
};

/** The ordering the API promises, written independently as plain SQL. */
function sqlOrder(orderBy: TripOrderBy[]): string {
  const terms: string[] = [];
  for (const value of orderBy) {
    const column = COLUMN[value.replace(/_(ASC|DESC)$/, '')];
    terms.push(value.endsWith('_ASC') ? `${column} ASC NULLS LAST` : `${column} DESC NULLS FIRST`);
    if (column === 'id') return terms.join(', ');
  }
  terms.push(orderBy[0]!.endsWith('_ASC') ? 'id ASC' : 'id DESC');
  return terms.join(', ');
}

/** Each filter beside the same predicate written by hand in SQL. */
const FILTERS: { name: string; filter: Record<string, unknown> | null; where: string }[] = [
  { name: 'no filter', filter: null, where: 'true' },
  { name: 'fare range', filter: { fareAmount: { gte: 5, lt: 12 } }, where: 'fare_amount >= 5 AND fare_amount < 12' },
  { name: 'zip list', filter: { pickupZip: { in: [10001, 11430] } }, where: 'pickup_zip IN (10001, 11430)' },
  {
    name: 'nulls',
    filter: { or: [{ pickupAt: { isNull: true } }, { fareAmount: { isNull: true } }] },
    where: 'tpep_pickup_datetime IS NULL OR fare_amount IS NULL',
  },
];

const PAGE = `query Page($first: Int, $after: String, $last: Int, $before: String, $filter: TripFilter, $orderBy: [TripOrderBy!]) {
  trips(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $orderBy) {
    edges { cursor node { tripId } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}`;

interface PageResult {
  trips: {
    edges: { cursor: string; node: { tripId: string } }[];
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  };
}

describe('trips keyset pagination', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('pagination');
    await insertTrickyTrips(gw.database.pool, 600);
  });
  afterAll(() => gw.close());

  async function page(variables: Record<string, unknown>): Promise<PageResult['trips']> {
    const { body } = await gw.query<PageResult>(PAGE, variables);
    expect(body.errors).toBeUndefined();
    return body.data!.trips;
  }

  async function walkForward(orderBy: TripOrderBy[], filter: unknown, size: number): Promise<string[]> {
    const ids: string[] = [];
    let after: string | null = null;
    for (let pageNo = 0; pageNo < 1000; pageNo += 1) {
      const result = await page({ first: size, after, filter, orderBy });
      expect(result.pageInfo.hasPreviousPage).toBe(pageNo > 0 && ids.length > 0);
      ids.push(...result.edges.map((edge) => edge.node.tripId));
      if (!result.pageInfo.hasNextPage) return ids;
      expect(result.edges).toHaveLength(size);
      after = result.pageInfo.endCursor;
    }
    throw new Error('forward walk did not end');
  }

  async function walkBackward(orderBy: TripOrderBy[], filter: unknown, size: number): Promise<string[]> {
    const ids: string[] = [];
    let before: string | null = null;
    for (let pageNo = 0; pageNo < 1000; pageNo += 1) {
      const result = await page({ last: size, before, filter, orderBy });
      expect(result.pageInfo.hasNextPage).toBe(pageNo > 0 && ids.length > 0);
      ids.unshift(...result.edges.map((edge) => edge.node.tripId));
      if (!result.pageInfo.hasPreviousPage) return ids;
      expect(result.edges).toHaveLength(size);
      before = result.pageInfo.startCursor;
    }
    throw new Error('backward walk did not end');
  }

  async function expected(orderBy: TripOrderBy[], where: string): Promise<string[]> {
    const { rows } = await gw.database.pool.query<{ id: string }>(
      `SELECT id FROM "default".trips_synced WHERE ${where} ORDER BY ${sqlOrder(orderBy)}`,
    );
    return rows.map((row) => row.id);
  }

  const orderings: TripOrderBy[][] = [
    ...TRIP_ORDER_BY.map((value) => [value]),
    ['FARE_AMOUNT_ASC', 'PICKUP_AT_DESC'],
    ['TRIP_DISTANCE_DESC', 'TRIP_ID_ASC'],
    ['DROPOFF_AT_DESC', 'FARE_AMOUNT_DESC'],
  ];

  for (const { name, filter, where } of FILTERS) {
    for (const orderBy of orderings) {
      it(`walks ${orderBy.join(',')} with ${name} forward and backward, matching SQL ORDER BY`, async () => {
        const want = await expected(orderBy, where);
        expect(want.length).toBeGreaterThan(10);
        expect(await walkForward(orderBy, filter, 37)).toEqual(want);
        expect(await walkBackward(orderBy, filter, 37)).toEqual(want);
      });
    }
  }

  it('returns the newest trips first by default (the reference app query)', async () => {
    const result = await page({ first: 100 });
    expect(result.edges.map((edge) => edge.node.tripId)).toEqual(
      (await expected(['PICKUP_AT_DESC'], 'true')).slice(0, 100),
    );
  });

  it('bounds a forward page by before as well as after', async () => {
    const all = await expected(['FARE_AMOUNT_ASC'], 'true');
    const first = await page({ first: 50, orderBy: ['FARE_AMOUNT_ASC'] });
    const after = first.edges[9]!.cursor;
    const before = first.edges[30]!.cursor;
    const between = await page({ first: 100, after, before, orderBy: ['FARE_AMOUNT_ASC'] });
    expect(between.edges.map((edge) => edge.node.tripId)).toEqual(all.slice(10, 30));
    expect(between.pageInfo.hasNextPage).toBe(false);
    expect(between.pageInfo.hasPreviousPage).toBe(true);
  });

  it('answers first: 0 with an empty page, and still says whether rows lie beyond it', async () => {
    const result = await page({ first: 0 });
    expect(result.edges).toEqual([]);
    expect(result.pageInfo.startCursor).toBeNull();
    expect(result.pageInfo.hasNextPage).toBe(true);
    const some = await page({ first: 5, orderBy: ['FARE_AMOUNT_ASC'] });
    const before = await page({ last: 0, before: some.edges[3]!.cursor, orderBy: ['FARE_AMOUNT_ASC'] });
    expect(before.edges).toEqual([]);
    expect(before.pageInfo.hasPreviousPage).toBe(true);
    const atStart = await page({ last: 0, before: some.edges[0]!.cursor, orderBy: ['FARE_AMOUNT_ASC'] });
    expect(atStart.pageInfo.hasPreviousPage).toBe(false);
    const nothing = await page({ first: 0, filter: { fareAmount: { gt: 1e9 } } });
    expect(nothing.pageInfo.hasNextPage).toBe(false);
  });
});

describe('keyset pagination over the floats a Delta double can hold', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('pagination_floats');
    await gw.database.pool.query(
      `INSERT INTO "default".trips_synced (id, fare_amount, trip_distance)
       SELECT g, (ARRAY['NaN', 'Infinity', '-Infinity', '5e-324', '1.7976931348623157e308', '-0', '0.1', NULL])[g % 8 + 1]::float8,
              (ARRAY['1e-300', 'NaN', '2.5', '-Infinity'])[g % 4 + 1]::float8
         FROM generate_series(1, 40) AS g`,
    );
  });
  afterAll(() => gw.close());

  for (const orderBy of [['FARE_AMOUNT_ASC'], ['FARE_AMOUNT_DESC'], ['TRIP_DISTANCE_ASC', 'FARE_AMOUNT_DESC']]) {
    it(`pages ${orderBy.join(',')} past NaN, infinities and subnormals, matching SQL`, async () => {
      const ids: string[] = [];
      let after: string | null = null;
      for (let pageNo = 0; pageNo < 100; pageNo += 1) {
        const { body } = await gw.query<PageResult>(PAGE, { first: 3, after, orderBy });
        expect(body.errors).toBeUndefined();
        const trips: PageResult['trips'] = body.data!.trips;
        ids.push(...trips.edges.map((edge) => edge.node.tripId));
        if (!trips.pageInfo.hasNextPage) break;
        after = trips.pageInfo.endCursor;
      }
      const { rows } = await gw.database.pool.query<{ id: string }>(
        `SELECT id FROM "default".trips_synced ORDER BY ${sqlOrder(orderBy as TripOrderBy[])}`,
      );
      expect(ids).toEqual(rows.map((row) => row.id));
    });
  }

  it('answers a NaN or infinite value as graphql-js does (null and why), on the first request as on later ones', async () => {
    const query = '{ trips(first: 8, orderBy: [TRIP_ID_ASC]) { edges { node { tripId fareAmount } } } }';
    // The first request runs on graphql-js, the second compiled (fast-paths/compiled-execution.ts).
    const answers = [await gw.query(query), await gw.query(query)];
    for (const { body } of answers) {
      // ids 1, 2 and 8 of the fixture: Infinity, -Infinity and NaN fares.
      expect(body.errors!.map((error) => [error.path?.join('.'), error.message, error.extensions?.code])).toEqual([
        ['trips.edges.0.node.fareAmount', 'Float cannot represent non numeric value: Infinity', undefined],
        ['trips.edges.1.node.fareAmount', 'Float cannot represent non numeric value: -Infinity', undefined],
        ['trips.edges.7.node.fareAmount', 'Float cannot represent non numeric value: NaN', undefined],
      ]);
    }
    expect(answers[0]!.body.data).toEqual(answers[1]!.body.data);
  });

  it('refuses a cursor whose number Postgres would not read, naming after', async () => {
    for (const fare of ['1e-400', '1e400', '0b11', '0x1f', ' 1', '1_000', 'nan', '']) {
      const after = Buffer.from(JSON.stringify([1, 'fare_amount:asc,id:asc', [fare, '1']])).toString('base64url');
      const { status, body } = await gw.query(PAGE, { first: 2, after, orderBy: ['FARE_AMOUNT_ASC'] });
      expect(status, fare).toBe(200); // a field error: data is null, not absent
      expect(body.errors![0]).toMatchObject({
        message: expect.stringMatching(/^after: is not a valid cursor/) as unknown,
        extensions: { code: 'BAD_USER_INPUT', argument: 'after' },
      });
    }
  });
});
