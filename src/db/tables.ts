import type { ColumnType, Selectable } from 'kysely';

/**
 * A timestamptz as pg reads it: a Date, or ±Infinity for Postgres' 'infinity'
 * and '-infinity'. A Delta timestamp is never infinite, but the synced table is
 * a Postgres table that anyone with write access can give one, and every
 * reader must answer for it rather than fail (see DateTime in schema/scalars.ts).
 */
export type Instant = Date | number;

/**
 * The Lakebase synced table, exactly as the sync pipeline creates it from the
 * Unity Catalog source (samples.nyctaxi.trips plus an id primary key).
 * Non-key columns of a synced table may hold NULL.
 *
 * `id` is bigint: pg returns it as a string (no precision loss above 2^53).
 */
export interface TripsSyncedTable {
  id: ColumnType<string, string | bigint | number, never>;
  tpep_pickup_datetime: ColumnType<Instant | null, Date | null, Date | null>;
  tpep_dropoff_datetime: ColumnType<Instant | null, Date | null, Date | null>;
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
 * Table names are configurable (PGSCHEMA, TRIPS_TABLE, GATEWAY_SCHEMA), so
 * queries are written against these fixed logical names and the query
 * compiler writes out the configured qualified names as it generates the SQL
 * (see table-mapping-compiler.ts).
 */
export interface Database {
  trips: TripsSyncedTable;
  zip_zones: ZipZoneTable;
  /** Aggregates the gateway keeps in its own schema; see src/aggregates/rollup/. */
  trip_rollup: TripRollupTable;
  trip_rollup_state: TripRollupStateTable;
  trip_changes: TripChangesTable;
}

/**
 * Partial aggregates of trips per grain (a set of key columns). Key columns a
 * grain does not group by are NULL. Key columns keep the source columns' names
 * so TripFilter compiles unchanged; tpep_pickup_datetime holds the UTC hour start.
 */
export interface TripRollupTable {
  grain: string;
  pickup_zip: number | null;
  dropoff_zip: number | null;
  tpep_pickup_datetime: Date | null;
  fare_amount: number | null;
  pickup_borough: string | null;
  dropoff_borough: string | null;
  trips_part: string;
  fare_sum_part: number | null;
  fare_nonnull_part: string;
  fare_min_part: number | null;
  fare_max_part: number | null;
  distance_sum_part: number | null;
  distance_nonnull_part: string;
  distance_min_part: number | null;
  distance_max_part: number | null;
  duration_sum_part: number | null;
  duration_nonnull_part: string;
  duration_min_part: number | null;
  duration_max_part: number | null;
}

/** Versioned names: a release that changes the rollup's shape builds new tables instead of migrating. */
export const ROLLUP_TABLE_NAMES = {
  rollup: 'trip_rollup_v4',
  state: 'trip_rollup_v4_state',
  /** The function the freshness proof calls (rollup/signature.ts); versioned with the signature it computes. */
  signature: 'trip_rollup_v4_signature',
  changes: 'trip_changes',
} as const;

export interface TripRollupStateTable {
  id: number;
  /** Signature of the synced table the rollup was built from (see rollup/signature.ts). */
  signature: string;
  built_at: Date;
  /** Rows per grain, to pick the smallest grain that can answer a query. */
  grain_rows: Record<string, number>;
  build_ms: number;
  /** First and last UTC hour in the rollup (null when it holds no timed trip). */
  min_hour: Date | null;
  max_hour: Date | null;
  /**
   * The signature without the insert counter (trigger mode only; null in statistics mode): equal to the
   * current one means only INSERT statements ran since, the precondition of an incremental append.
   */
  base: string | null;
  /** INSERT statements counted by the change trigger when the rollup was last brought up to date. */
  inserts: string | null;
  /** Largest trip id and number of trips the rollup holds. */
  max_id: string | null;
  trips_total: string;
  /** Rollup rows right after the last full build or compaction; appends are compacted past twice that. */
  compacted_rows: string;
}

/** One row per (synced table, writing backend), bumped by the change trigger (see rollup/change-trigger.ts). */
export interface TripChangesTable {
  relid: number;
  backend: number;
  inserts: string;
  others: string;
}

/** A synced-table row as pg returns it. */
export type TripRow = Selectable<TripsSyncedTable>;
