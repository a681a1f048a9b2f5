import { sql, type Expression, type SqlBool } from 'kysely';
import type { Db } from '../db/database.js';
import { compileTripFilter } from '../trips/filter.js';
import type { ParsedTripFilter } from '../trips/parse-filter.js';
import type { MatchableTripRow } from '../trips/match-filter.js';
import { TRIP_COLUMNS } from '../db/tables.js';
import type { FeedPosition } from './position.js';

// Exact: epoch microseconds stay below 2^53 until the year 2255. float8 (not
// int8) so that 'infinity' timestamps read as Infinity instead of failing the cast.
const micros = (column: 'tpep_pickup_datetime' | 'tpep_dropoff_datetime') =>
  sql<number | null>`(extract(epoch from ${sql.ref(column)}) * 1000000)::float8`;

function afterPosition(position: FeedPosition): Expression<SqlBool> | undefined {
  return position === null ? undefined : sql<SqlBool>`id > ${position.toString()}::int8`;
}

function selectLiveRows(db: Db) {
  return db
    .selectFrom('trips')
    .select(TRIP_COLUMNS)
    .select([micros('tpep_pickup_datetime').as('pickupMicros'), micros('tpep_dropoff_datetime').as('dropoffMicros')]);
}

/** The shared feed's one statement per tick: the next rows after `position`, in id order. */
export async function readTripsAfter(db: Db, position: FeedPosition, limit: number): Promise<MatchableTripRow[]> {
  return selectLiveRows(db)
    .where((eb) => afterPosition(position) ?? eb.lit(true))
    .orderBy('id')
    .limit(limit)
    .execute();
}

/**
 * A resuming subscriber's catch-up page: rows after `position` up to and
 * including `upTo`, matching `filter` (compiled to SQL, which selects exactly
 * what the in-memory matcher selects on the shared feed).
 */
export async function readMatchingTripsBetween(
  db: Db,
  filter: ParsedTripFilter,
  position: FeedPosition,
  upTo: bigint,
  limit: number,
): Promise<MatchableTripRow[]> {
  return selectLiveRows(db)
    .where((eb) => {
      const parts = [compileTripFilter(filter), afterPosition(position), sql<SqlBool>`id <= ${upTo.toString()}::int8`];
      return eb.and(parts.filter((part): part is Expression<SqlBool> => part !== undefined));
    })
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** The newest row's id: where a stream without subscribers (or a new subscriber) starts. */
export async function readNewestTripId(db: Db): Promise<FeedPosition> {
  const row = await db
    .selectFrom('trips')
    .select(sql<string | null>`max(id)::text`.as('id'))
    .executeTakeFirst();
  return row?.id === null || row?.id === undefined ? null : BigInt(row.id);
}
