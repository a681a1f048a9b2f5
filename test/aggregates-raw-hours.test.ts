import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pickupBinFor } from '../src/aggregates/time-zones.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

/**
 * Time buckets over the synced table are computed from UTC bins first when
 * the zone maps them onto whole local ones (src/aggregates/queries.ts,
 * firstStage): hours for whole-hour zones, quarter hours for the others that
 * allow it. These trips sit on both sides of local boundaries that a coarser
 * bin would straddle:
 * - New York before 1883 was on local mean time, UTC-4:56:02, so a UTC hour
 *   straddles two local hours; instants outside the checked span must be
 *   bucketed exactly.
 * - Kolkata (+5:30) and Kathmandu (+5:45) start their hours at :30 and :15 UTC.
 * - Adelaide's DST starts at 16:30 UTC, inside a UTC hour.
 * - St. John's started DST at 00:01 local until 2011: not even quarter hours
 *   align, so every row is converted.
 */
const TRIPS: [id: number, pickupAt: string, fare: number][] = [
  [1, '1850-06-01T16:55:00Z', 10], // local 11:58:58, hour starting 15:56:02Z
  [2, '1850-06-01T16:58:00Z', 20], // local 12:01:58, hour starting 16:56:02Z
  [3, '1850-06-01T17:30:00Z', 40], // local 12:33:58, hour starting 16:56:02Z
  [4, '2016-03-13T06:59:00Z', 80], // 01:59 EST, the last minute before the DST gap
  [5, '2016-03-13T07:01:00Z', 160], // 03:01 EDT
  [6, '2016-01-10T04:25:00Z', 1], // Kolkata 09:55
  [7, '2016-01-10T04:35:00Z', 2], // Kolkata 10:05; Kathmandu 10:20
  [8, '2016-01-10T04:10:00Z', 4], // Kathmandu 09:55
  [9, '2016-01-10T04:20:00Z', 8], // Kathmandu 10:05, same UTC half hour as 09:55
  [10, '2016-10-01T16:20:00Z', 16], // Adelaide 01:50 ACST
  [11, '2016-10-01T16:40:00Z', 32], // Adelaide 03:10 ACDT
  [12, '2010-03-14T03:29:00Z', 64], // St. John's 2010-03-13 23:59 NST
  [13, '2010-03-14T03:35:00Z', 128], // St. John's 2010-03-14 01:05 NDT (DST began at 00:01 NST)
];

interface Group {
  pickupTime: string | null;
  pickupHourOfDay: number | null;
  stats: { count: string; fareAmount: { sum: number | null } };
}

describe('raw time buckets from UTC bins', () => {
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

  it('picks the coarsest UTC bin each zone allows', async () => {
    const bins = Object.fromEntries(
      await Promise.all(
        ['America/New_York', 'UTC', 'Asia/Kolkata', 'Asia/Kathmandu', 'Australia/Adelaide', 'America/St_Johns'].map(
          async (zone) => [zone, await pickupBinFor(gw.app.db, zone)] as const,
        ),
      ),
    );
    expect(bins).toEqual({
      'America/New_York': 'hour',
      UTC: 'hour',
      'Asia/Kolkata': 'quarter-hour',
      'Asia/Kathmandu': 'quarter-hour',
      'Australia/Adelaide': 'quarter-hour',
      'America/St_Johns': null,
    });
  });

  it.each([
    ['New York in 1850', 'America/New_York', '1850-06-01T00:00:00Z', '1850-06-02T00:00:00Z'],
    ['New York, DST starts', 'America/New_York', '2016-03-13T00:00:00Z', '2016-03-14T00:00:00Z'],
    ['Kolkata', 'Asia/Kolkata', '2016-01-10T00:00:00Z', '2016-01-11T00:00:00Z'],
    ['Kathmandu', 'Asia/Kathmandu', '2016-01-10T00:00:00Z', '2016-01-11T00:00:00Z'],
    ['Adelaide, DST starts', 'Australia/Adelaide', '2016-10-01T00:00:00Z', '2016-10-03T00:00:00Z'],
    ["St. John's, DST starts", 'America/St_Johns', '2010-03-13T00:00:00Z', '2010-03-15T00:00:00Z'],
  ])('buckets %s exactly, by hour, hour of day and day', async (_label, zone, gte, lt) => {
    const { body } = await gw.query<{ byHour: Group[]; byHourOfDay: Group[]; byDay: Group[] }>(
      `query ($gte: DateTime!, $lt: DateTime!, $zone: String!) {
         byHour: tripGroups(groupBy: [PICKUP_HOUR], orderBy: [KEY_ASC], timeZone: $zone,
                            filter: { pickupAt: { gte: $gte, lt: $lt } }) {
           pickupTime stats { count fareAmount { sum } } }
         byHourOfDay: tripGroups(groupBy: [PICKUP_HOUR_OF_DAY], orderBy: [KEY_ASC], timeZone: $zone,
                                 filter: { pickupAt: { gte: $gte, lt: $lt } }) {
           pickupHourOfDay stats { count fareAmount { sum } } }
         byDay: tripGroups(groupBy: [PICKUP_DAY], orderBy: [KEY_ASC], timeZone: $zone,
                           filter: { pickupAt: { gte: $gte, lt: $lt } }) {
           pickupTime stats { count fareAmount { sum } } }
       }`,
      { gte, lt, zone },
    );
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    const expected = async (key: string) =>
      (
        await gw.database.pool.query<{ key: Date | number; count: string; sum: number }>(
          `SELECT ${key} AS key, count(*)::text AS count, sum(fare_amount) AS sum FROM "default".trips_synced
            WHERE tpep_pickup_datetime >= $1 AND tpep_pickup_datetime < $2 GROUP BY 1 ORDER BY 1`,
          [gte, lt, zone],
        )
      ).rows;
    const hours = await expected(`date_trunc('hour', tpep_pickup_datetime, $3)`);
    expect(hours.length).toBeGreaterThan(1);
    expect(body.data!.byHour.map((g) => [g.pickupTime, g.stats.count, g.stats.fareAmount.sum])).toEqual(
      hours.map((row) => [(row.key as Date).toISOString(), row.count, row.sum]),
    );
    const hoursOfDay = await expected(`extract(hour from tpep_pickup_datetime at time zone $3)::int`);
    expect(body.data!.byHourOfDay.map((g) => [g.pickupHourOfDay, g.stats.count, g.stats.fareAmount.sum])).toEqual(
      hoursOfDay.map((row) => [row.key, row.count, row.sum]),
    );
    const days = await expected(`date_trunc('day', tpep_pickup_datetime, $3)`);
    expect(body.data!.byDay.map((g) => [g.pickupTime, g.stats.count, g.stats.fareAmount.sum])).toEqual(
      days.map((row) => [(row.key as Date).toISOString(), row.count, row.sum]),
    );
  });
});
