/**
 * Postgres timestamps can be 'infinity' or '-infinity'. A Delta source never has one, but the synced table is a
 * Postgres table that anyone with write access can give one, and one such row must not break anything else:
 * - a DateTime field holding one is null, with the reason, never INTERNAL_SERVER_ERROR;
 * - keyset pages walk past it (its cursor used to carry NULL: the row came again, or rows were skipped), and
 *   past instants before year 1 or after 9999;
 * - duration statistics leave it out like a missing time ('infinity' − 'infinity' failed every duration
 *   statistic of the table, and the rollups' maintenance with it), and time bucketing still answers;
 * - a live subscriber gets the row, with the same reason.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertTrips, startLiveGateway, type LiveGateway } from './support/live.js';

type GraphQLErrors = readonly { message: string; extensions?: Record<string, unknown> }[] | undefined;

/** Sums of a different order of addition differ in the last bits; a trip ending in 44 BC makes them large. */
function expectClose(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.abs(expected) * 1e-12);
}

function expectNoInternalErrors(errors: GraphQLErrors): void {
  expect(errors?.filter((error) => error.extensions?.code === 'INTERNAL_SERVER_ERROR') ?? []).toEqual([]);
}

describe('infinite timestamps in the synced table', () => {
  let gw: LiveGateway;
  beforeAll(async () => {
    gw = await startLiveGateway('infinite_timestamps', { ROLLUP_POLL_MS: '0' });
    await insertTrips(
      gw.database.pool,
      Array.from({ length: 40 }, (_, index) => index + 1),
    );
    await gw.database.pool.query(`
      UPDATE "default".trips_synced SET tpep_pickup_datetime = 'infinity' WHERE id IN (3, 7, 8);
      UPDATE "default".trips_synced SET tpep_pickup_datetime = '-infinity' WHERE id IN (5, 6);
      UPDATE "default".trips_synced SET tpep_dropoff_datetime = 'infinity' WHERE id IN (3, 9);
      UPDATE "default".trips_synced SET tpep_pickup_datetime = NULL WHERE id IN (11, 12);
      UPDATE "default".trips_synced SET tpep_dropoff_datetime = '0044-03-15 12:00:00+00 BC' WHERE id IN (13, 14);
      UPDATE "default".trips_synced SET tpep_dropoff_datetime = '10000-06-01 00:00:00.000001+00' WHERE id = 15;`);
  });
  afterAll(() => gw.close());

  it('answers a trip at infinity with null fields and the reason', async () => {
    const { status, body } = await gw.query<{ trip: Record<string, unknown> }>(
      '{ trip(tripId: "3") { tripId pickupAt dropoffAt durationMinutes } }',
    );
    expect(status).toBe(200);
    expect(body.data?.trip).toEqual({ tripId: '3', pickupAt: null, dropoffAt: null, durationMinutes: null });
    expectNoInternalErrors(body.errors);
    expect(body.errors?.map((error) => error.message).sort()).toEqual([
      expect.stringMatching(/^DateTime cannot represent 'infinity': the database holds a timestamp/),
      expect.stringMatching(/^DateTime cannot represent 'infinity'/),
      expect.stringMatching(/^Float cannot represent non numeric value: NaN/),
    ]);
    const negative = await gw.query<{ trip: Record<string, unknown> }>('{ trip(tripId: "5") { pickupAt } }');
    expect(negative.body.errors?.[0]?.message).toMatch(/^DateTime cannot represent '-infinity'/);
  });

  // Dropoffs also hold instants of 44 BC and of the year 10000, which the plain cursor form cannot say (read as
  // AD 44, a cursor was two thousand years off; the year 10000 was refused as malformed, ending the paging).
  for (const [orderBy, sqlOrder] of [
    ['PICKUP_AT_DESC', 'tpep_pickup_datetime DESC NULLS FIRST, id DESC'],
    ['PICKUP_AT_ASC', 'tpep_pickup_datetime ASC NULLS LAST, id ASC'],
    ['DROPOFF_AT_DESC', 'tpep_dropoff_datetime DESC NULLS FIRST, id DESC'],
    ['DROPOFF_AT_ASC', 'tpep_dropoff_datetime ASC NULLS LAST, id ASC'],
  ] as const) {
    it(`pages ${orderBy} past infinite and out-of-era keys without a skip or a repeat, both ways`, async () => {
      const { rows } = await gw.database.pool.query<{ id: string }>(
        `SELECT id::text FROM "default".trips_synced ORDER BY ${sqlOrder}`,
      );
      const expected = rows.map((row) => row.id);
      type Page = {
        trips: {
          edges: { cursor: string; node: { tripId: string } }[];
          pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean };
        };
      };
      const walk = async (direction: 'forward' | 'backward'): Promise<string[]> => {
        const seen: string[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 50; page += 1) {
          const query =
            direction === 'forward'
              ? `query($c: String) { trips(first: 2, after: $c, orderBy: [${orderBy}]) {
                   edges { cursor node { tripId } } pageInfo { hasNextPage hasPreviousPage } } }`
              : `query($c: String) { trips(last: 2, before: $c, orderBy: [${orderBy}]) {
                   edges { cursor node { tripId } } pageInfo { hasNextPage hasPreviousPage } } }`;
          const { body } = await gw.query<Page>(query, { c: cursor });
          expect(body.errors).toBeUndefined();
          const edges: Page['trips']['edges'] = body.data!.trips.edges;
          const ids = edges.map((edge) => edge.node.tripId);
          if (direction === 'forward') seen.push(...ids);
          else seen.unshift(...ids);
          const more =
            direction === 'forward' ? body.data!.trips.pageInfo.hasNextPage : body.data!.trips.pageInfo.hasPreviousPage;
          if (!more) return seen;
          cursor = (direction === 'forward' ? edges.at(-1) : edges[0])!.cursor;
        }
        throw new Error(`${direction} walk did not end`);
      };
      expect(await walk('forward')).toEqual(expected);
      expect(await walk('backward')).toEqual(expected);
    });
  }

  it('refuses a cursor instant outside the calendar or timestamptz range, naming after', async () => {
    const page = `query($after: String) { trips(first: 2, after: $after, orderBy: [DROPOFF_AT_ASC]) { totalCount } }`;
    for (const instant of [
      '0044-02-30T00:00:00.000000Z BC',
      '0002-02-29T00:00:00.000000Z BC', // 1 BC was a leap year (astronomical year 0); 2 BC was not
      '4714-11-23T23:59:59.999999Z BC',
      '294277-01-01T00:00:00.000000Z AD',
      '10000-01-01T24:00:00.000000Z AD',
      '0000-01-01T00:00:00.000000Z BC',
      '10000-01-01T00:00:00.000000Z',
    ]) {
      const after = Buffer.from(JSON.stringify([1, 'tpep_dropoff_datetime:asc,id:asc', [instant, '1']])).toString(
        'base64url',
      );
      const { body } = await gw.query(page, { after });
      expect(body.errors?.[0], instant).toMatchObject({
        message: expect.stringMatching(/^after: is not a valid cursor/) as unknown,
        extensions: { code: 'BAD_USER_INPUT', argument: 'after' },
      });
    }
    for (const instant of ['0001-02-29T00:00:00.000000Z BC', '4714-11-24T00:00:00.000000Z BC']) {
      const after = Buffer.from(JSON.stringify([1, 'tpep_dropoff_datetime:asc,id:asc', [instant, '1']])).toString(
        'base64url',
      );
      expect((await gw.query(page, { after })).body.errors, instant).toBeUndefined();
    }
  });

  it('leaves infinite trips out of duration statistics, from the rollups and from the table', async () => {
    const { rows } = await gw.database.pool.query<{ sum: number; max: number }>(
      `SELECT sum(date_part('epoch', tpep_dropoff_datetime - tpep_pickup_datetime) / 60) AS sum,
              max(date_part('epoch', tpep_dropoff_datetime - tpep_pickup_datetime) / 60) AS max
         FROM "default".trips_synced
        WHERE isfinite(tpep_pickup_datetime) AND isfinite(tpep_dropoff_datetime)`,
    );
    const expected = rows[0]!;
    // The maintenance reads every row's duration: it failed on 'infinity' − 'infinity'.
    expect((await gw.app.rollups.refresh()).status).toMatch(/built|unchanged/);
    const servedBefore = gw.app.rollups.served.rollup;
    const query = `{ tripStats { count durationMinutes { sum max } } zip: tripGroups(groupBy: [PICKUP_ZIP]) {
      stats { durationMinutes { sum } } } }`;
    const { body } = await gw.query<{
      tripStats: { count: string; durationMinutes: { sum: number; max: number } };
      zip: { stats: { durationMinutes: { sum: number | null } } }[];
    }>(query);
    expect(body.errors).toBeUndefined();
    expect(gw.app.rollups.served.rollup).toBeGreaterThan(servedBefore);
    expect(body.data!.tripStats.count).toBe('40');
    expectClose(body.data!.tripStats.durationMinutes.sum, expected.sum);
    expectClose(body.data!.tripStats.durationMinutes.max, expected.max);
    const byZip = body.data!.zip.reduce((total, group) => total + (group.stats.durationMinutes.sum ?? 0), 0);
    expectClose(byZip, expected.sum);

    // The same from the table itself (a filter no rollup can answer).
    const raw = await gw.query<{ tripStats: { durationMinutes: { sum: number } } }>(
      '{ tripStats(filter: { fareAmount: { gte: -1e9 } }) { durationMinutes { sum } } }',
    );
    expect(raw.body.errors).toBeUndefined();
    const { rows: fared } = await gw.database.pool.query<{ sum: number }>(
      `SELECT sum(date_part('epoch', tpep_dropoff_datetime - tpep_pickup_datetime) / 60) AS sum
         FROM "default".trips_synced
        WHERE fare_amount >= -1e9 AND isfinite(tpep_pickup_datetime) AND isfinite(tpep_dropoff_datetime)`,
    );
    expectClose(raw.body.data!.tripStats.durationMinutes.sum, fared[0]!.sum);
  });

  it('groups by time bucket, the infinite buckets null with the reason', async () => {
    for (const dimension of ['PICKUP_HOUR', 'PICKUP_DAY', 'PICKUP_MONTH']) {
      const { body } = await gw.query<{ tripGroups: { pickupTime: string | null; stats: { count: string } }[] }>(
        `{ tripGroups(groupBy: [${dimension}], orderBy: [KEY_ASC], first: 1000) { pickupTime stats { count } } }`,
      );
      expectNoInternalErrors(body.errors);
      expect(body.errors?.length, dimension).toBe(2);
      for (const error of body.errors ?? []) expect(error.message).toMatch(/^DateTime cannot represent '-?infinity'/);
      const groups = body.data!.tripGroups;
      expect(
        groups.reduce((total, group) => total + Number(group.stats.count), 0),
        dimension,
      ).toBe(40);
      // NULL pickups (2), 'infinity' (3) and '-infinity' (2) each make a group without a pickupTime.
      expect(
        groups
          .filter((group) => group.pickupTime === null)
          .map((group) => group.stats.count)
          .sort(),
      ).toEqual(['2', '2', '3']);
      // They sort as the instants they are (docs/aggregates.md): '-infinity' first, 'infinity' last before NULL.
      const counts = groups.map((group) => group.stats.count);
      expect([counts[0], counts.at(-2), counts.at(-1)], dimension).toEqual(['2', '3', '2']);
      expect(groups[0]!.pickupTime).toBeNull();
      expect(groups.slice(1, -2).every((group) => group.pickupTime !== null)).toBe(true);
    }
  });

  it('delivers a live row at infinity, its field null with the reason', async () => {
    const client = gw.client('distinct');
    const events = client.iterate<{ tripsAdded: { trips: { tripId: string; pickupAt: string | null }[] } }>({
      query: 'subscription { tripsAdded { trips { tripId pickupAt } } }',
    });
    const first = await events.next(); // the empty batch that carries the starting cursor
    expect(first.value?.errors).toBeUndefined();
    await gw.database.pool.query(
      `INSERT INTO "default".trips_synced (id, tpep_pickup_datetime) VALUES (100, 'infinity'), (101, '2024-01-01')`,
    );
    let received: { tripId: string; pickupAt: string | null }[] = [];
    let errors: GraphQLErrors;
    while (received.length === 0) {
      const next = await events.next();
      received = next.value?.data?.tripsAdded.trips ?? [];
      errors = next.value?.errors;
    }
    await events.return?.();
    expect(received).toEqual([
      { tripId: '100', pickupAt: null },
      { tripId: '101', pickupAt: '2024-01-01T00:00:00.000Z' },
    ]);
    expectNoInternalErrors(errors);
    expect(errors?.map((error) => error.message)).toEqual([
      expect.stringMatching(/^DateTime cannot represent 'infinity'/),
    ]);
  });
});
