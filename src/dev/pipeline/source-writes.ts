/**
 * Writes to the emulated source table, as a Databricks job or notebook would
 * write the Delta table. Each call is one transaction, hence one version.
 */
import type pg from 'pg';
import type { TripRow } from '../../db/tables.js';
import { columnList, literal, relations, TRIP_COLUMNS, type PipelineNames } from './names.js';
import type { Queryable } from './sql.js';
import { inTransaction } from './transaction.js';

export type TripInput = Omit<TripRow, 'id'> & { id: bigint | number | string };

/** Inserts the trips in one statement (one source version); returns the number inserted. */
export async function insertTrips(db: Queryable, names: PipelineNames, trips: readonly TripInput[]): Promise<number> {
  if (trips.length === 0) return 0;
  const { rowCount } = await db.query(
    `INSERT INTO ${relations(names).source} (${columnList(TRIP_COLUMNS)})
     SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::timestamptz[], $4::float8[], $5::float8[],
                          $6::int[], $7::int[])`,
    [
      trips.map((trip) => String(trip.id)),
      trips.map((trip) => trip.tpep_pickup_datetime),
      trips.map((trip) => trip.tpep_dropoff_datetime),
      trips.map((trip) => trip.trip_distance),
      trips.map((trip) => trip.fare_amount),
      trips.map((trip) => trip.pickup_zip),
      trips.map((trip) => trip.dropoff_zip),
    ],
  );
  return rowCount ?? 0;
}

/**
 * Inserts `count` trips with ids after the current maximum. The id range is
 * taken under a lock, so concurrent CLI inserts and streams never collide
 * (SQL typed by hand still can, and then fails on the primary key).
 */
export async function insertNewTrips(
  pool: pg.Pool,
  names: PipelineNames,
  count: number,
  makeTrips: (firstId: bigint, count: number) => TripInput[],
): Promise<{ firstId: bigint; count: number }> {
  return inTransaction(pool, async (client) => {
    const firstId = (await lockNewTripIds(client, names)) + 1n;
    const inserted = await insertTrips(client, names, makeTrips(firstId, count));
    return { firstId, count: inserted };
  });
}

/**
 * The largest trip id, read under the lock that every id-allocating writer of the CLI takes, held until the
 * caller's transaction ends: ids after it are the caller's until then.
 */
export async function lockNewTripIds(client: Queryable, names: PipelineNames): Promise<bigint> {
  await client.query(
    `SELECT pg_advisory_xact_lock(hashtext('lakebase_dev_ids'), hashtext(${literal(relations(names).source)}))`,
  );
  return maxTripId(client, names);
}

export async function maxTripId(db: Queryable, names: PipelineNames): Promise<bigint> {
  const { rows } = await db.query<{ max: string | null }>(
    `SELECT max(id)::text AS max FROM ${relations(names).source}`,
  );
  return BigInt(rows[0]?.max ?? '0');
}

/** Zip codes already present in the source, so generated trips join the zone reference data. */
export async function knownZips(db: Queryable, names: PipelineNames, limit = 200): Promise<number[]> {
  const { rows } = await db.query<{ zip: number }>(
    `SELECT zip FROM (SELECT DISTINCT pickup_zip AS zip FROM ${relations(names).source} WHERE pickup_zip IS NOT NULL
                      LIMIT $1) z ORDER BY zip`,
    [limit],
  );
  return rows.map((row) => row.zip);
}

export type RowSelection = { ids: readonly (bigint | number | string)[] } | { randomCount: number };

export interface TripChanges {
  fare_amount?: number;
  trip_distance?: number;
  pickup_zip?: number;
  dropoff_zip?: number;
}

/** Updates the selected rows; with no changes given, raises their fare by 1.00 so the change is visible. Returns the ids changed. */
export async function updateTrips(
  db: Queryable,
  names: PipelineNames,
  selection: RowSelection,
  changes: TripChanges = {},
): Promise<string[]> {
  const r = relations(names);
  const assignments: string[] = [];
  const values: unknown[] = [];
  for (const [column, value] of Object.entries(changes) as [keyof TripChanges, number | undefined][]) {
    if (value === undefined) continue;
    values.push(value);
    assignments.push(`${column} = $${values.length + 1}`);
  }
  if (assignments.length === 0) assignments.push('fare_amount = coalesce(fare_amount, 0) + 1');
  const { rows } = await db.query<{ id: string }>(
    `UPDATE ${r.source} SET ${assignments.join(', ')}
      WHERE id IN (${selectionSql(r.source, selection)}) RETURNING id::text AS id`,
    [selectionParam(selection), ...values],
  );
  return rows.map((row) => row.id);
}

export async function deleteTrips(db: Queryable, names: PipelineNames, selection: RowSelection): Promise<string[]> {
  const r = relations(names);
  const { rows } = await db.query<{ id: string }>(
    `DELETE FROM ${r.source} WHERE id IN (${selectionSql(r.source, selection)}) RETURNING id::text AS id`,
    [selectionParam(selection)],
  );
  return rows.map((row) => row.id);
}

const selectionSql = (source: string, selection: RowSelection): string =>
  'ids' in selection ? 'SELECT unnest($1::bigint[])' : `SELECT id FROM ${source} ORDER BY random() LIMIT $1`;

const selectionParam = (selection: RowSelection): unknown =>
  'ids' in selection ? selection.ids.map(String) : selection.randomCount;
