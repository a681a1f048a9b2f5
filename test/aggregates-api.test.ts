import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertAggregateTrips } from './support/aggregates-fixture.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

interface Group {
  pickupZip: number | null;
  pickupBorough: string | null;
  pickupTime: string | null;
  stats: { count: string; fareAmount: { sum: number | null; avg: number | null } };
}

const GROUPS = `query G($groupBy: [TripDimension!]!, $filter: TripFilter, $orderBy: [TripGroupOrder!], $first: Int, $timeZone: String) {
  tripGroups(groupBy: $groupBy, filter: $filter, orderBy: $orderBy, first: $first, timeZone: $timeZone) {
    pickupZip pickupBorough pickupTime stats { count fareAmount { sum avg } }
  }
}`;

describe('tripGroups arguments, limits and ordering', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('agg_api', { MAX_GROUPS: '500', ROLLUPS: 'off' });
    await insertAggregateTrips(gw.database.pool);
  });
  afterAll(() => gw.close());

  async function groupsError(variables: Record<string, unknown>) {
    const { status, body } = await gw.query<{ tripGroups: Group[] }>(GROUPS, variables);
    expect(status).toBe(200);
    expect(body.errors, 'expected an error').toHaveLength(1);
    const [error] = body.errors!;
    expect(error!.extensions?.code).toBe('BAD_USER_INPUT');
    return { argument: error!.extensions?.argument, message: error!.message };
  }

  async function groups(variables: Record<string, unknown>): Promise<Group[]> {
    const { body } = await gw.query<{ tripGroups: Group[] }>(GROUPS, variables);
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    return body.data!.tripGroups;
  }

  it('rejects an empty, duplicated or doubly time-bucketed groupBy', async () => {
    expect(await groupsError({ groupBy: [] })).toMatchObject({ argument: 'groupBy', message: /at least one/ });
    expect(await groupsError({ groupBy: ['PICKUP_ZIP', 'PICKUP_DAY', 'PICKUP_ZIP'] })).toMatchObject({
      argument: 'groupBy',
      message: /PICKUP_ZIP more than once/,
    });
    expect(await groupsError({ groupBy: ['PICKUP_DAY', 'PICKUP_MONTH'] })).toMatchObject({
      argument: 'groupBy',
      message: /one time bucket/,
    });
  });

  it('rejects unknown time zones and POSIX offsets before they reach Postgres', async () => {
    for (const timeZone of ['Mars/Olympus_Mons', 'UTC+5', "UTC'; select 1", '']) {
      expect(await groupsError({ groupBy: ['PICKUP_DAY'], timeZone })).toMatchObject({
        argument: 'timeZone',
        message: /unknown time zone/,
      });
    }
    expect(await groups({ groupBy: ['PICKUP_DAY'], timeZone: 'america/new_york', first: 1 })).toHaveLength(1);
  });

  it('refuses zone names the database would read as an abbreviation with a fixed offset (CET has summer time)', async () => {
    expect(await groupsError({ groupBy: ['PICKUP_DAY'], timeZone: 'CET' })).toMatchObject({
      argument: 'timeZone',
      message:
        'timeZone: "CET" is also an abbreviation, which the database reads as a fixed UTC+01:00 all year, not as the zone ' +
        'with its summer time; use a region\'s name such as "Europe/Paris" (or "Etc/GMT-1" for that fixed offset)',
    });
    expect(await groupsError({ groupBy: ['PICKUP_DAY'], timeZone: 'wet' })).toMatchObject({
      message: expect.stringContaining('fixed UTC+00:00 all year') as unknown,
    });
    // Why: the abbreviation and the zone disagree in July.
    const { rows } = await gw.database.pool.query<{ abbreviation: string; zone: string }>(
      `SELECT (timestamptz '2016-07-01 22:30+00' AT TIME ZONE 'CET')::text AS abbreviation,
              (timestamptz '2016-07-01 22:30+00' AT TIME ZONE 'Europe/Brussels')::text AS zone`,
    );
    expect(rows[0]).toEqual({ abbreviation: '2016-07-01 23:30:00', zone: '2016-07-02 00:30:00' });
    // A name whose abbreviation means the same (EST is UTC-05:00 all year either way) is accepted.
    expect(await groups({ groupBy: ['PICKUP_DAY'], timeZone: 'EST', first: 1 })).toHaveLength(1);
  });

  it('caps first at MAX_GROUPS and rejects negative values', async () => {
    expect(await groupsError({ groupBy: ['PICKUP_ZIP'], first: 501 })).toMatchObject({
      argument: 'first',
      message: /maximum of 500 groups/,
    });
    expect(await groupsError({ groupBy: ['PICKUP_ZIP'], first: -1 })).toMatchObject({ argument: 'first' });
    expect(await groups({ groupBy: ['PICKUP_ZIP'], first: 0 })).toEqual([]);
  });

  it('refuses a time bucketing with more buckets than MAX_GROUPS, asking for a narrower filter', async () => {
    // The data spans Dec 24 2015 - Nov 8 2016: about 7,700 hours, 320 days.
    const hourly = await groupsError({ groupBy: ['PICKUP_HOUR'] });
    expect(hourly).toMatchObject({
      argument: 'groupBy',
      message: /more than the limit of 500.*narrow filter\.pickupAt/,
    });
    // The cap is on the buckets the grouping produces, not on the page asked for.
    expect(await groupsError({ groupBy: ['PICKUP_ZIP', 'PICKUP_HOUR'], first: 10 })).toMatchObject({
      argument: 'groupBy',
    });
    expect(await groups({ groupBy: ['PICKUP_DAY'], first: 500 })).not.toHaveLength(0);
    // A lower bound alone is completed by the data's last pickup.
    expect(
      await groupsError({ groupBy: ['PICKUP_HOUR'], filter: { pickupAt: { gte: '2016-01-01T00:00:00Z' } } }),
    ).toMatchObject({ argument: 'groupBy' });
    const narrowed = await groups({
      groupBy: ['PICKUP_HOUR'],
      filter: { and: [{ pickupAt: { gte: '2016-03-12T00:00:00Z' } }, { pickupAt: { lt: '2016-03-15T00:00:00Z' } }] },
      first: 500,
    });
    expect(narrowed.length).toBeGreaterThan(24);
    expect(await groups({ groupBy: ['PICKUP_WEEK'], first: 500 })).not.toHaveLength(0);
    // Trips without a pickup time make one bucket at most, whatever span the others cover: answered, not refused.
    const undated = await groups({ groupBy: ['PICKUP_HOUR'], filter: { pickupAt: { isNull: true } } });
    const [row] = (
      await gw.database.pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM "default".trips_synced WHERE tpep_pickup_datetime IS NULL`,
      )
    ).rows;
    expect(undated.reduce((total, group) => total + Number(group.stats.count), 0)).toBe(Number(row!.n));
    expect(undated.length).toBeLessThanOrEqual(1);
  });

  it('reports filter mistakes with the path of the input at fault', async () => {
    expect(
      await groupsError({ groupBy: ['PICKUP_ZIP'], filter: { or: [{ fareAmount: { gt: 10, lt: 5 } }] } }),
    ).toMatchObject({ argument: 'filter.or[0].fareAmount', message: /range is empty/ });
    const { body } = await gw.query(`{ tripStats(filter: { pickupZip: { in: [] } }) { count } }`);
    expect(body.errors?.[0]?.extensions?.argument).toBe('filter.pickupZip.in');
  });

  /** The order the API promises, written as SQL over the same groups. */
  async function expectedOrder(orderSql: string, limit: number): Promise<(number | null)[]> {
    const { rows } = await gw.database.pool.query<{ zip: number | null }>(
      `SELECT pickup_zip AS zip FROM "default".trips_synced GROUP BY pickup_zip
        ORDER BY ${orderSql} LIMIT ${limit}`,
    );
    return rows.map((row) => row.zip);
  }

  it('orders totally: measures with NULLs last, ties broken by the key, KEY_ASC/KEY_DESC with NULLs last', async () => {
    const cases: [string[] | undefined, string][] = [
      [undefined, 'count(*) DESC, pickup_zip ASC NULLS LAST'],
      [['COUNT_ASC'], 'count(*) ASC, pickup_zip ASC NULLS LAST'],
      [['FARE_AMOUNT_AVG_DESC'], 'avg(fare_amount) DESC NULLS LAST, pickup_zip ASC NULLS LAST'],
      [['FARE_AMOUNT_SUM_ASC', 'COUNT_DESC'], 'sum(fare_amount) ASC NULLS LAST, count(*) DESC, pickup_zip NULLS LAST'],
      [['TRIP_DISTANCE_AVG_ASC'], 'avg(trip_distance) ASC NULLS LAST, pickup_zip ASC NULLS LAST'],
      [['KEY_ASC'], 'pickup_zip ASC NULLS LAST'],
      [['KEY_DESC'], 'pickup_zip DESC NULLS LAST'],
    ];
    for (const [orderBy, orderSql] of cases) {
      const all = await groups({ groupBy: ['PICKUP_ZIP'], orderBy, first: 500 });
      expect(
        all.map((group) => group.pickupZip),
        orderSql,
      ).toEqual(await expectedOrder(orderSql, 500));
      const top = await groups({ groupBy: ['PICKUP_ZIP'], orderBy, first: 3 });
      expect(top).toEqual(all.slice(0, 3));
    }
  });

  it('aggregates the measures selected through aliases and fragments', async () => {
    const { body } = await gw.query<{
      tripStats: { count: string; d: { avg: number } };
      tripGroups: { stats: { durationMinutes: { max: number | null } } }[];
    }>(`
      fragment Distance on TripStats { d: tripDistance { avg } }
      {
        tripStats { count ...Distance }
        tripGroups(groupBy: [PICKUP_ZIP], orderBy: [KEY_ASC], first: 3) { stats { ... on TripStats { durationMinutes { max } } } }
      }`);
    expect(body.errors).toBeUndefined();
    const { rows } = await gw.database.pool.query<{ avg: number; max: number }>(
      `SELECT avg(trip_distance) AS avg,
              (SELECT max(extract(epoch FROM tpep_dropoff_datetime - tpep_pickup_datetime) / 60)::float8
                 FROM "default".trips_synced WHERE pickup_zip = (SELECT min(pickup_zip) FROM "default".trips_synced)) AS max
         FROM "default".trips_synced`,
    );
    expect(body.data!.tripStats.d.avg).toBeCloseTo(rows[0]!.avg, 9);
    expect(body.data!.tripGroups[0]!.stats.durationMinutes.max).toBeCloseTo(rows[0]!.max, 9);
  });

  it('breaks ties by every key in groupBy order', async () => {
    const result = await groups({ groupBy: ['PICKUP_BOROUGH', 'PICKUP_ZIP'], orderBy: ['KEY_DESC'], first: 500 });
    const { rows } = await gw.database.pool.query<{ borough: string | null; zip: number | null }>(
      `SELECT z.borough, t.pickup_zip AS zip FROM "default".trips_synced t
         LEFT JOIN lakebase_graphql.zip_zones z ON z.zip = t.pickup_zip
        GROUP BY 1, 2 ORDER BY 1 DESC NULLS LAST, 2 DESC NULLS LAST`,
    );
    expect(result.map((group) => [group.pickupBorough, group.pickupZip])).toEqual(
      rows.map((row) => [row.borough, row.zip]),
    );
  });
});

describe('the default query cost limit', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('agg_cost', { ROLLUPS: 'off' });
    await insertAggregateTrips(gw.database.pool);
  });
  afterAll(() => gw.close());

  const numberStats = '{ sum avg min max }';
  const everything = (alias: string) => `${alias}: tripGroups(groupBy: [PICKUP_ZIP, PICKUP_DAY], first: 10000) {
    pickupZip dropoffZip pickupBorough dropoffBorough pickupTime pickupHourOfDay pickupDayOfWeek
    stats { count fareAmount ${numberStats} tripDistance ${numberStats} durationMinutes ${numberStats} }
  }`;

  it('admits one full-size tripGroups answer with every field, as a BI tool asks for it', async () => {
    const { body } = await gw.query<{ all: unknown[] }>(`{ ${everything('all')} }`);
    expect(body.errors).toBeUndefined();
    expect(body.data!.all.length).toBeGreaterThan(0);
  });

  it('refuses two of them in one request, saying what it would cost', async () => {
    const { status, body } = await gw.query(`{ ${everything('a')} ${everything('b')} }`);
    expect(status).toBe(200);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', cost: 480_002, maxCost: 300_000 });
  });
});
