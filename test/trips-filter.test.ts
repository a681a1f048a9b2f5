import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { insertTrickyTrips } from './support/trips-fixture.js';

/** Each filter beside the same predicate written by hand in SQL. */
const CASES: { filter: Record<string, unknown>; where: string }[] = [
  { filter: { tripId: { eq: '30' } }, where: 'id = 30' },
  { filter: { tripId: { in: ['3', '6', '999999'] } }, where: 'id IN (3, 6, 999999)' },
  { filter: { tripId: { gt: '900', lte: '1200' } }, where: 'id > 900 AND id <= 1200' },
  { filter: { pickupZip: { eq: 10001 } }, where: 'pickup_zip = 10001' },
  { filter: { pickupZip: { ne: 10001 } }, where: 'pickup_zip <> 10001' },
  { filter: { pickupZip: { notIn: [10001, 11430] } }, where: 'pickup_zip NOT IN (10001, 11430)' },
  { filter: { pickupZip: { isNull: true } }, where: 'pickup_zip IS NULL' },
  {
    filter: { dropoffZip: { isNull: false, gte: 10003, lt: 11000 } },
    where: 'dropoff_zip >= 10003 AND dropoff_zip < 11000',
  },
  { filter: { fareAmount: { gt: 10 } }, where: 'fare_amount > 10' },
  { filter: { fareAmount: { eq: 2.5 } }, where: 'fare_amount = 2.5' },
  { filter: { tripDistance: { lte: 1.5, isNull: false } }, where: 'trip_distance <= 1.5' },
  { filter: { tripDistance: { isNull: true } }, where: 'trip_distance IS NULL' },
  {
    filter: { pickupAt: { gte: '2016-01-01T05:00:00Z', lt: '2016-01-01T10:00:00-00:00' } },
    where: `tpep_pickup_datetime >= '2016-01-01T05:00:00Z' AND tpep_pickup_datetime < '2016-01-01T10:00:00Z'`,
  },
  { filter: { dropoffAt: { isNull: true } }, where: 'tpep_dropoff_datetime IS NULL' },
  {
    filter: { or: [{ fareAmount: { lt: 4 } }, { pickupZip: { in: [11371] } }] },
    where: 'fare_amount < 4 OR pickup_zip IN (11371)',
  },
  {
    filter: { and: [{ fareAmount: { gte: 5 } }, { fareAmount: { lte: 8 } }], pickupZip: { eq: 10019 } },
    where: 'fare_amount >= 5 AND fare_amount <= 8 AND pickup_zip = 10019',
  },
  // `not` is the exact complement: rows whose fare is NULL are included.
  { filter: { not: { fareAmount: { gt: 10 } } }, where: '(fare_amount > 10) IS NOT TRUE' },
  {
    filter: { not: { or: [{ pickupZip: { eq: 10001 } }, { tripDistance: { isNull: true } }] } },
    where: '(pickup_zip = 10001 OR trip_distance IS NULL) IS NOT TRUE',
  },
  { filter: { fareAmount: { eq: null, gt: 15 } }, where: 'fare_amount > 15' },
  // Boroughs are looked up in the ZIP reference table; unlisted (99999) and NULL ZIPs have none.
  {
    filter: { pickupBorough: { eq: 'Manhattan' } },
    where: `pickup_zip IN (SELECT zip FROM lakebase_graphql.zip_zones WHERE borough = 'Manhattan')`,
  },
  {
    filter: { dropoffBorough: { ne: 'Queens' } },
    where: `dropoff_zip IN (SELECT zip FROM lakebase_graphql.zip_zones WHERE borough <> 'Queens')`,
  },
  {
    filter: { pickupBorough: { notIn: ['Manhattan', 'Brooklyn'] } },
    where: `pickup_zip IN (SELECT zip FROM lakebase_graphql.zip_zones WHERE borough NOT IN ('Manhattan', 'Brooklyn'))`,
  },
  {
    filter: { pickupBorough: { isNull: true } },
    where: 'pickup_zip IS NULL OR pickup_zip NOT IN (SELECT zip FROM lakebase_graphql.zip_zones)',
  },
  {
    filter: { not: { pickupBorough: { in: ['Queens'] } }, dropoffBorough: { isNull: false } },
    where: `(pickup_zip IN (SELECT zip FROM lakebase_graphql.zip_zones WHERE borough = 'Queens')) IS NOT TRUE
            AND dropoff_zip IN (SELECT zip FROM lakebase_graphql.zip_zones)`,
  },
  { filter: {}, where: 'true' },
];

describe('trips filters and totalCount', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('filters');
    await insertTrickyTrips(gw.database.pool, 600);
  });
  afterAll(() => gw.close());

  for (const { filter, where } of CASES) {
    it(`matches SQL for ${JSON.stringify(filter)}`, async () => {
      const { rows } = await gw.database.pool.query<{ id: string }>(
        `SELECT id FROM "default".trips_synced WHERE ${where} ORDER BY id`,
      );
      const { body } = await gw.query<{ trips: { totalCount: string; edges: { node: { tripId: string } }[] } }>(
        `query($filter: TripFilter) { trips(first: 1000, filter: $filter, orderBy: [TRIP_ID_ASC]) {
           totalCount edges { node { tripId } } } }`,
        { filter },
      );
      expect(body.errors).toBeUndefined();
      expect(body.data!.trips.edges.map((edge) => edge.node.tripId)).toEqual(rows.map((row) => row.id));
      expect(body.data!.trips.totalCount).toBe(String(rows.length));
    });
  }

  it('computes totalCount only when it is selected', async () => {
    const before = gw.app.statements.total;
    await gw.query('{ trips(first: 5) { edges { node { tripId } } } }');
    const withoutCount = gw.app.statements.total - before;
    const middle = gw.app.statements.total;
    await gw.query('{ trips(first: 5) { totalCount edges { node { tripId } } } }');
    expect(withoutCount).toBe(1);
    expect(gw.app.statements.total - middle).toBe(2);
  });
});
