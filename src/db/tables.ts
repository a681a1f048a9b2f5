import type { ColumnType } from 'kysely';

/**
 * The Lakebase synced table, exactly as the sync pipeline creates it from the
 * Unity Catalog source (samples.nyctaxi.trips plus an id primary key).
 * Non-key columns of a synced table may hold NULL.
 *
 * `id` is bigint: pg returns it as a string (no precision loss above 2^53).
 */
export interface TripsSyncedTable {
  id: ColumnType<string, string | bigint | number, never>;
  tpep_pickup_datetime: Date | null;
  tpep_dropoff_datetime: Date | null;
  trip_distance: number | null;
  fare_amount: number | null;
  pickup_zip: number | null;
  dropoff_zip: number | null;
}

/** Non-key columns of the synced table, in table order (COPY, the pipeline and the CSV loader rely on it). */
export const TRIP_DATA_COLUMNS = [
  'tpep_pickup_datetime',
  'tpep_dropoff_datetime',
  'trip_distance',
  'fare_amount',
  'pickup_zip',
  'dropoff_zip',
] as const;
export const TRIP_COLUMNS = ['id', ...TRIP_DATA_COLUMNS] as const;

/** Reference data shipped with the gateway, kept in the gateway's own schema. */
export interface ZipZoneTable {
  zip: number;
  borough: string;
  neighborhood: string;
}

/**
 * Table names are configurable (PGSCHEMA, TRIPS_TABLE, GATEWAY_SCHEMA), so the
 * Kysely database type uses fixed aliases; `withSchema`/`withTables` maps are
 * not needed because queries go through `tripsTable(db)` / `zoneTable(db)`.
 */
export interface Database {
  trips: TripsSyncedTable;
  zip_zones: ZipZoneTable;
}

export type TripRow = {
  id: string;
  tpep_pickup_datetime: Date | null;
  tpep_dropoff_datetime: Date | null;
  trip_distance: number | null;
  fare_amount: number | null;
  pickup_zip: number | null;
  dropoff_zip: number | null;
};
