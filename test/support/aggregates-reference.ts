import type pg from 'pg';

/**
 * Hand-written SQL for what tripStats / tripGroups must return, written
 * independently of the gateway's query builder (different expressions for
 * buckets and durations, avg() instead of sum/count).
 */
export const REFERENCE_DIMENSIONS: Record<string, { field: string; sql: (tz: string) => string }> = {
  PICKUP_ZIP: { field: 'pickupZip', sql: () => 't.pickup_zip' },
  DROPOFF_ZIP: { field: 'dropoffZip', sql: () => 't.dropoff_zip' },
  PICKUP_BOROUGH: { field: 'pickupBorough', sql: () => 'pz.borough' },
  DROPOFF_BOROUGH: { field: 'dropoffBorough', sql: () => 'dz.borough' },
  // Only for zones with whole-hour offsets (UTC, New York): the local hour is then the UTC hour,
  // which keeps the two 01:00 hours of a fall-back day apart.
  PICKUP_HOUR: {
    field: 'pickupTime',
    sql: () => `date_trunc('hour', t.tpep_pickup_datetime AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`,
  },
  PICKUP_DAY: {
    field: 'pickupTime',
    sql: (tz) => `date_trunc('day', t.tpep_pickup_datetime AT TIME ZONE '${tz}') AT TIME ZONE '${tz}'`,
  },
  PICKUP_WEEK: {
    field: 'pickupTime',
    sql: (tz) => `date_trunc('week', t.tpep_pickup_datetime AT TIME ZONE '${tz}') AT TIME ZONE '${tz}'`,
  },
  PICKUP_MONTH: {
    field: 'pickupTime',
    sql: (tz) => `date_trunc('month', t.tpep_pickup_datetime AT TIME ZONE '${tz}') AT TIME ZONE '${tz}'`,
  },
  PICKUP_HOUR_OF_DAY: {
    field: 'pickupHourOfDay',
    sql: (tz) => `extract(hour FROM t.tpep_pickup_datetime AT TIME ZONE '${tz}')::int`,
  },
  PICKUP_DAY_OF_WEEK: {
    field: 'pickupDayOfWeek',
    sql: (tz) => `extract(isodow FROM t.tpep_pickup_datetime AT TIME ZONE '${tz}')::int`,
  },
};

const MEASURES = {
  fareAmount: 't.fare_amount',
  tripDistance: 't.trip_distance',
  durationMinutes: 'extract(epoch FROM (t.tpep_dropoff_datetime - t.tpep_pickup_datetime))::float8 / 60.0',
};

export interface ExpectedStats {
  count: string;
  fareAmount: Record<'sum' | 'avg' | 'min' | 'max', number | null>;
  tripDistance: Record<'sum' | 'avg' | 'min' | 'max', number | null>;
  durationMinutes: Record<'sum' | 'avg' | 'min' | 'max', number | null>;
}

export interface ExpectedGroup {
  key: Record<string, unknown>;
  stats: ExpectedStats;
}

function statsColumns(): string {
  return [
    'count(*)::text AS count',
    ...Object.entries(MEASURES).flatMap(([name, expression]) =>
      ['sum', 'avg', 'min', 'max'].map((fn) => `${fn}(${expression})::float8 AS "${name}_${fn}"`),
    ),
  ].join(', ');
}

function toStats(row: Record<string, unknown>): ExpectedStats {
  const numbers = (name: string) =>
    Object.fromEntries(['sum', 'avg', 'min', 'max'].map((fn) => [fn, row[`${name}_${fn}`] as number | null])) as Record<
      'sum' | 'avg' | 'min' | 'max',
      number | null
    >;
  return {
    count: String(row.count),
    fareAmount: numbers('fareAmount'),
    tripDistance: numbers('tripDistance'),
    durationMinutes: numbers('durationMinutes'),
  };
}

const FROM = `"default".trips_synced t
  LEFT JOIN lakebase_graphql.zip_zones pz ON pz.zip = t.pickup_zip
  LEFT JOIN lakebase_graphql.zip_zones dz ON dz.zip = t.dropoff_zip`;

export async function expectedStats(pool: pg.Pool, where: string): Promise<ExpectedStats> {
  const { rows } = await pool.query(`SELECT ${statsColumns()} FROM ${FROM} WHERE ${where}`);
  return toStats(rows[0]);
}

export async function expectedGroups(
  pool: pg.Pool,
  dimensions: readonly string[],
  where: string,
  timeZone: string,
): Promise<ExpectedGroup[]> {
  const keys = dimensions.map((d, i) => `${REFERENCE_DIMENSIONS[d]!.sql(timeZone)} AS k${i}`);
  const { rows } = await pool.query(
    `SELECT ${keys.join(', ')}, ${statsColumns()} FROM ${FROM} WHERE ${where}
      GROUP BY ${dimensions.map((_, i) => i + 1).join(', ')}`,
  );
  return rows.map((row: Record<string, unknown>) => ({
    key: Object.fromEntries(
      dimensions.map((d, i) => {
        const value = row[`k${i}`];
        return [REFERENCE_DIMENSIONS[d]!.field, value instanceof Date ? value.toISOString() : (value ?? null)];
      }),
    ),
    stats: toStats(row),
  }));
}
