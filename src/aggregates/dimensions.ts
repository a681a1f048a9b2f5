import { sql, type RawBuilder } from 'kysely';
import type { BoroughColumn as TripBoroughColumn } from '../trips/filter.js';

export const TRIP_DIMENSIONS = [
  'PICKUP_ZIP',
  'DROPOFF_ZIP',
  'PICKUP_BOROUGH',
  'DROPOFF_BOROUGH',
  'PICKUP_HOUR',
  'PICKUP_DAY',
  'PICKUP_WEEK',
  'PICKUP_MONTH',
  'PICKUP_HOUR_OF_DAY',
  'PICKUP_DAY_OF_WEEK',
] as const;
export type TripDimension = (typeof TRIP_DIMENSIONS)[number];

/** The TripGroup field a dimension fills. */
export type GroupField =
  | 'pickupZip'
  | 'dropoffZip'
  | 'pickupBorough'
  | 'dropoffBorough'
  | 'pickupTime'
  | 'pickupHourOfDay'
  | 'pickupDayOfWeek';

export type TimeUnit = 'hour' | 'day' | 'week' | 'month';

/** Columns of the synced table a dimension or filter reads; rollup grains are chosen by them. */
export type KeyColumn = 'pickup_zip' | 'dropoff_zip' | 'tpep_pickup_datetime' | 'fare_amount';

/** Boroughs resolved through the ZIP reference table when the rollup is built (rollup grains only). */
export type BoroughColumn = TripBoroughColumn;

export interface DimensionSpec {
  field: GroupField;
  column: KeyColumn;
  /** Set for time buckets (date_trunc units; 'week' is the ISO week, Monday first). */
  unit?: TimeUnit;
  /** Borough dimensions join the ZIP reference table under this alias, unless the source has the borough column. */
  join?: 'pz' | 'dz';
  borough?: BoroughColumn;
  description: string;
}

export const DIMENSIONS: Record<TripDimension, DimensionSpec> = {
  PICKUP_ZIP: { field: 'pickupZip', column: 'pickup_zip', description: 'Pickup ZIP code.' },
  DROPOFF_ZIP: { field: 'dropoffZip', column: 'dropoff_zip', description: 'Dropoff ZIP code.' },
  PICKUP_BOROUGH: {
    field: 'pickupBorough',
    column: 'pickup_zip',
    join: 'pz',
    borough: 'pickup_borough',
    description: 'Borough of the pickup ZIP (null for ZIPs outside the NYC reference list, and for a null ZIP).',
  },
  DROPOFF_BOROUGH: {
    field: 'dropoffBorough',
    column: 'dropoff_zip',
    join: 'dz',
    borough: 'dropoff_borough',
    description: 'Borough of the dropoff ZIP (null for ZIPs outside the NYC reference list, and for a null ZIP).',
  },
  PICKUP_HOUR: { field: 'pickupTime', column: 'tpep_pickup_datetime', unit: 'hour', description: 'Hour of pickup.' },
  PICKUP_DAY: {
    field: 'pickupTime',
    column: 'tpep_pickup_datetime',
    unit: 'day',
    description: 'Day of pickup (23 or 25 hours long on daylight-saving days).',
  },
  PICKUP_WEEK: {
    field: 'pickupTime',
    column: 'tpep_pickup_datetime',
    unit: 'week',
    description: 'ISO week of pickup, starting Monday 00:00.',
  },
  PICKUP_MONTH: { field: 'pickupTime', column: 'tpep_pickup_datetime', unit: 'month', description: 'Month of pickup.' },
  PICKUP_HOUR_OF_DAY: {
    field: 'pickupHourOfDay',
    column: 'tpep_pickup_datetime',
    description: 'Hour of day of pickup, 0-23, whatever the date.',
  },
  PICKUP_DAY_OF_WEEK: {
    field: 'pickupDayOfWeek',
    column: 'tpep_pickup_datetime',
    description: 'ISO day of week of pickup, 1 = Monday ... 7 = Sunday.',
  },
};

/** Whether any of the dimensions buckets the pickup time (and so needs the time zone). */
export function bucketsPickupTime(dimensions: readonly TripDimension[]): boolean {
  return dimensions.some((dimension) => DIMENSIONS[dimension].column === 'tpep_pickup_datetime');
}

/**
 * The grouping expression of a dimension. Unqualified column names resolve to
 * the synced table or to a rollup (which keeps the same key column names), so
 * one expression serves both sources. Time is always read in the requested
 * zone: date_trunc(unit, ts, zone) truncates the local wall-clock time and
 * returns the instant that bucket starts at, which makes DST days 23 or 25 hours.
 */
export function dimensionExpression(
  dimension: TripDimension,
  timeZone: string,
  boroughColumns: ReadonlySet<BoroughColumn> = new Set(),
): RawBuilder<unknown> {
  const spec = DIMENSIONS[dimension];
  if (spec.borough && boroughColumns.has(spec.borough)) return sql`${sql.ref(spec.borough)}`;
  if (spec.join) return sql`${sql.ref(`${spec.join}.borough`)}`;
  if (spec.unit) return sql`date_trunc(${sql.lit(spec.unit)}, tpep_pickup_datetime, ${timeZone}::text)`;
  if (dimension === 'PICKUP_HOUR_OF_DAY') {
    return sql`extract(hour from tpep_pickup_datetime at time zone ${timeZone}::text)::int4`;
  }
  if (dimension === 'PICKUP_DAY_OF_WEEK') {
    return sql`extract(isodow from tpep_pickup_datetime at time zone ${timeZone}::text)::int4`;
  }
  return sql`${sql.ref(spec.column)}`;
}
