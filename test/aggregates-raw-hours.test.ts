import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './support/gateway.js';

/**
 * Time buckets over the synced table are computed from UTC hours first when
 * the zone has whole-hour offsets (src/aggregates/queries.ts, rawHourInput).
 * New York had them only from 1883: before, local mean time was UTC-4:56:02,
 * so a UTC hour straddles two local hours. Instants outside the checked span
 * must be bucketed exactly; these trips sit on both sides of such a boundary.
 */
const TRIPS: [id: number, pickupAt: string, fare: number][] = [
  [1, '1850-06-01T16:55:00Z', 10], // local 11:58:58, hour starting 15:56:02Z
  [2, '1850-06-01T16:58:00Z', 20], // local 12:01:58, hour starting 16:56:02Z
  [3, '1850-06-01T17:30:00Z', 40], // local 12:33:58, hour starting 16:56:02Z
  [4, '2016-03-13T06:59:00Z', 80], // 01:59 EST, the last minute before the DST gap
  [5, '2016-03-13T07:01:00Z', 160], // 03:01 EDT
];

interface Group {
  pickupTime: string | null;
  pickupHourOfDay: number | null;
  stats: { count: string; fareAmount: { sum: number | null } };
}

describe('raw time buckets from UTC hours', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('agg_raw_hours', { ROLLUPS: 'off' });
    for (const [id, pickupAt, fare] of TRIPS) {
      await gw.database.pool.query(
        `INSERT INTO "default".trips_synced (id, tpep_pickup_datetime, fare_amount) VALUES ($1, $2, $3)`,
        [id, pickupAt, fare],
      );
    }
  });
  afterAll(() => gw.close());

  it.each([
    ['1850', '1850-06-01T00:00:00Z', '1850-06-02T00:00:00Z'],
    ['2016 (DST starts)', '2016-03-13T00:00:00Z', '2016-03-14T00:00:00Z'],
  ])('buckets %s exactly in America/New_York, by hour and by hour of day', async (_label, gte, lt) => {
    const { body } = await gw.query<{ byHour: Group[]; byHourOfDay: Group[] }>(
      `query ($gte: DateTime!, $lt: DateTime!) {
         byHour: tripGroups(groupBy: [PICKUP_HOUR], orderBy: [KEY_ASC], timeZone: "America/New_York",
                            filter: { pickupAt: { gte: $gte, lt: $lt } }) {
           pickupTime stats { count fareAmount { sum } } }
         byHourOfDay: tripGroups(groupBy: [PICKUP_HOUR_OF_DAY], orderBy: [KEY_ASC], timeZone: "America/New_York",
                                 filter: { pickupAt: { gte: $gte, lt: $lt } }) {
           pickupHourOfDay stats { count fareAmount { sum } } }
       }`,
      { gte, lt },
    );
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    const expected = async (key: string) =>
      (
        await gw.database.pool.query<{ key: Date | number; count: string; sum: number }>(
          `SELECT ${key} AS key, count(*)::text AS count, sum(fare_amount) AS sum FROM "default".trips_synced
            WHERE tpep_pickup_datetime >= $1 AND tpep_pickup_datetime < $2 GROUP BY 1 ORDER BY 1`,
          [gte, lt],
        )
      ).rows;
    const hours = await expected(`date_trunc('hour', tpep_pickup_datetime, 'America/New_York')`);
    expect(hours.length).toBeGreaterThan(1);
    expect(body.data!.byHour.map((g) => [g.pickupTime, g.stats.count, g.stats.fareAmount.sum])).toEqual(
      hours.map((row) => [(row.key as Date).toISOString(), row.count, row.sum]),
    );
    const hoursOfDay = await expected(`extract(hour from tpep_pickup_datetime at time zone 'America/New_York')::int`);
    expect(body.data!.byHourOfDay.map((g) => [g.pickupHourOfDay, g.stats.count, g.stats.fareAmount.sum])).toEqual(
      hoursOfDay.map((row) => [row.key, row.count, row.sum]),
    );
  });
});
