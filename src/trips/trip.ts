import type { Instant, TripRow } from '../db/tables.js';

/**
 * A trip as the GraphQL `Trip` type reads it: the columns under their GraphQL
 * field names. With the names matching, the fields need no resolvers and the
 * compiled execution reads the properties directly; a page of 100 trips
 * otherwise calls 700 resolvers just to rename columns.
 */
export interface Trip {
  tripId: string;
  pickupAt: Instant | null;
  dropoffAt: Instant | null;
  tripDistance: number | null;
  fareAmount: number | null;
  pickupZip: number | null;
  dropoffZip: number | null;
}

/** Select list (Kysely aliases) under which Postgres returns rows already shaped as Trip. */
export const TRIP_SELECTION = [
  'id as tripId',
  'tpep_pickup_datetime as pickupAt',
  'tpep_dropoff_datetime as dropoffAt',
  'trip_distance as tripDistance',
  'fare_amount as fareAmount',
  'pickup_zip as pickupZip',
  'dropoff_zip as dropoffZip',
] as const;

/** For trips read under their column names (the live feed matches filters against those). */
export function tripFromRow(row: TripRow): Trip {
  return {
    tripId: row.id,
    pickupAt: row.tpep_pickup_datetime,
    dropoffAt: row.tpep_dropoff_datetime,
    tripDistance: row.trip_distance,
    fareAmount: row.fare_amount,
    pickupZip: row.pickup_zip,
    dropoffZip: row.dropoff_zip,
  };
}
