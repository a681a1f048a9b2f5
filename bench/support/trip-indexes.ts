/**
 * Indexes the trips connection needs so that every page is an index range
 * scan of about `first` rows, whatever the cursor's depth.
 *
 * Each index is (sort key, id): the keyset predicate is `(key, id) < (v, id0)`
 * and the ORDER BY is `key DESC NULLS FIRST, id DESC` (or the ascending
 * mirror), which a default btree on (key, id) serves by scanning forwards or
 * backwards. The synced table only carries its primary key, so without these
 * "latest 100 trips" sorts all rows.
 *
 * Kept here, not in src/, until the project's index command takes them over.
 */
import type pg from 'pg';
import { qualified, quoteIdent } from '../../src/db/sql-identifiers.js';

export interface TripIndex {
  /** Suffix of the index name; the full name is `<table>_<suffix>`. */
  suffix: string;
  columns: readonly string[];
  /** Which queries need it. */
  serves: string;
}

export const TRIP_INDEXES: readonly TripIndex[] = [
  {
    suffix: 'pickup_at_id',
    columns: ['tpep_pickup_datetime', 'id'],
    serves: 'orderBy PICKUP_AT_ASC/DESC (the default ordering; the reference app query), any page depth',
  },
  {
    suffix: 'pickup_zip_pickup_at_id',
    columns: ['pickup_zip', 'tpep_pickup_datetime', 'id'],
    serves: 'filter pickupZip eq/in with orderBy PICKUP_AT (the common "trips from this ZIP, latest first")',
  },
  {
    suffix: 'dropoff_zip_pickup_at_id',
    columns: ['dropoff_zip', 'tpep_pickup_datetime', 'id'],
    serves: 'filter dropoffZip eq/in with orderBy PICKUP_AT',
  },
  {
    suffix: 'dropoff_at_id',
    columns: ['tpep_dropoff_datetime', 'id'],
    serves: 'orderBy DROPOFF_AT_ASC/DESC',
  },
  {
    suffix: 'fare_amount_id',
    columns: ['fare_amount', 'id'],
    serves: 'orderBy FARE_AMOUNT_ASC/DESC; fareAmount range filters',
  },
  {
    suffix: 'trip_distance_id',
    columns: ['trip_distance', 'id'],
    serves: 'orderBy TRIP_DISTANCE_ASC/DESC; tripDistance range filters',
  },
];

export function tripIndexName(table: string, index: TripIndex): string {
  return `${table}_${index.suffix}`;
}

export function tripIndexStatements(schema: string, table: string): string[] {
  return TRIP_INDEXES.map(
    (index) =>
      `CREATE INDEX IF NOT EXISTS ${quoteIdent(tripIndexName(table, index))} ON ${qualified(schema, table)} ` +
      `(${index.columns.map(quoteIdent).join(', ')})`,
  );
}

/** Creates the missing indexes; returns the names it created (existing ones are left alone). */
export async function ensureTripIndexes(pool: pg.Pool, schema: string, table: string): Promise<string[]> {
  const { rows } = await pool.query<{ indexname: string }>(
    'SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2',
    [schema, table],
  );
  const existing = new Set(rows.map((row) => row.indexname));
  const statements = tripIndexStatements(schema, table);
  const created: string[] = [];
  for (const [position, index] of TRIP_INDEXES.entries()) {
    const name = tripIndexName(table, index);
    const statement = statements[position];
    if (existing.has(name) || statement === undefined) continue;
    await pool.query(statement);
    created.push(name);
  }
  return created;
}
