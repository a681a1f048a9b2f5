import { sql, type Expression, type SqlBool } from 'kysely';
import type { Db } from '../db/database.js';
import type { CursorValues } from './cursor.js';
import { cancellableBy } from '../db/cancellable-driver.js';
import { cachedRows } from '../db/statement-cache.js';
import { compileTripFilter, filterStatementShape } from './filter.js';
import {
  cursorKeyExpression,
  keysetShape,
  orderByTerms,
  segmentParameters,
  segmentsAfter,
  strictlyAfter,
  strictlyAfterParameters,
} from './keyset.js';
import { reverse, type SortKey } from './ordering.js';
import type { ParsedTripFilter } from './parse-filter.js';
import { TRIP_SELECTION, type Trip } from './trip.js';

/**
 * A trip as the page query returns it: the trip's fields plus the exact text of
 * its sort-key values in columns k0, k1, … (in key order), from which its
 * cursor is made only if a client asks for it.
 */
export type TripPageRow = Trip & { readonly [key: `k${number}`]: string | null };

export function cursorValuesOf(row: TripPageRow, keyCount: number): CursorValues {
  const values: (string | null)[] = [];
  for (let index = 0; index < keyCount; index += 1) values.push(row[`k${index}`] ?? null);
  return values;
}

export interface TripPageRequest {
  filter: ParsedTripFilter;
  /** The resolved total ordering (see resolveOrdering). */
  keys: readonly SortKey[];
  after?: CursorValues;
  before?: CursorValues;
  /** Rows wanted; one more is fetched to learn whether the page is the last. */
  limit: number;
  /** forward = first/after, backward = last/before (rows are returned in forward order either way). */
  direction: 'forward' | 'backward';
}

export interface TripPage {
  rows: TripPageRow[];
  /** More rows beyond the page in the direction of travel. */
  hasMore: boolean;
}

/**
 * One page by keyset. Each segment (see keyset.ts) is one statement with
 * LIMIT; later segments run only when earlier ones could not fill the page, so
 * the common case is exactly one statement, and its cost does not grow with
 * how deep into the result the cursor points.
 */
export async function findTripPage(db: Db, request: TripPageRequest, signal?: AbortSignal): Promise<TripPage> {
  const forward = request.direction === 'forward';
  const scanKeys = forward ? request.keys : reverse(request.keys);
  const start = forward ? request.after : request.before;
  const stop = forward ? request.before : request.after;
  // Each statement's shape and parameters, for its cached text (db/statement-cache.ts); the predicates
  // themselves are built only when a shape is compiled.
  const filter = filterStatementShape(request.filter);
  const segmentShape = start ? keysetShape(scanKeys, start) : `${keysetShape(scanKeys, [])} from the start`;
  const segmentValues = start ? segmentParameters(scanKeys, start) : [[]];
  // The far cursor only bounds the scan; it is rarely given, so a generic predicate is fine.
  const boundShape = stop ? keysetShape(reverse(scanKeys), stop) : 'unbounded';
  const boundValues = stop ? strictlyAfterParameters(reverse(scanKeys), stop) : [];
  const wanted = request.limit + 1;
  const rows: TripPageRow[] = [];
  for (const [index, values] of segmentValues.entries()) {
    // Also for first: 0 / last: 0: the one row fetched is what says whether there are more (Relay's flags).
    if (rows.length >= wanted) break;
    const limit = wanted - rows.length;
    const plan = {
      shape: `page|${segmentShape}|segment ${index}|${boundShape}|${filter.shape}`,
      parameters: [...filter.parameters, ...values, ...boundValues, limit],
    };
    const batch = await cachedRows(
      db,
      plan,
      () =>
        db
          .selectFrom('trips')
          .select(TRIP_SELECTION)
          .select(scanKeys.map((key, position) => cursorKeyExpression(key).as(`k${position}`)))
          .where((eb) => {
            const segment = start ? segmentsAfter(scanKeys, start)[index] : undefined;
            const bound = stop ? strictlyAfter(reverse(scanKeys), stop) : undefined;
            const parts = [compileTripFilter(request.filter), segment, bound].filter(
              (part): part is Expression<SqlBool> => part !== undefined,
            );
            return parts.length ? eb.and(parts) : sql<SqlBool>`true`;
          })
          .orderBy(orderByTerms(scanKeys))
          .limit(limit),
      signal,
    );
    for (const row of batch as unknown as TripPageRow[]) rows.push(row);
  }
  const hasMore = rows.length > request.limit;
  const page = rows.slice(0, request.limit);
  return { rows: forward ? page : page.reverse(), hasMore };
}

/**
 * Whether any matching row lies at or before `cursor` in `keys` order: the
 * "is there a previous page" question after a forward page (and, with the
 * ordering reversed, "is there a next page" after a backward one).
 */
export async function existsAtOrBefore(
  db: Db,
  filter: ParsedTripFilter,
  keys: readonly SortKey[],
  cursor: CursorValues,
  signal?: AbortSignal,
): Promise<boolean> {
  const shape = filterStatementShape(filter);
  const plan = {
    shape: `exists|${keysetShape(keys, cursor)}|${shape.shape}`,
    parameters: [...shape.parameters, ...strictlyAfterParameters(keys, cursor), 1],
  };
  const rows = await cachedRows(
    db,
    plan,
    () =>
      db
        .selectFrom('trips')
        .select(sql<number>`1`.as('one'))
        .where((eb) => {
          const notAfter = sql<SqlBool>`(${strictlyAfter(keys, cursor)}) IS NOT TRUE`;
          const compiled = compileTripFilter(filter);
          return compiled ? eb.and([compiled, notAfter]) : notAfter;
        })
        .limit(1),
    signal,
  );
  return rows.length > 0;
}

/** Row count as a decimal string (bigint). */
export async function countTrips(db: Db, filter: ParsedTripFilter, signal?: AbortSignal): Promise<string> {
  const shape = filterStatementShape(filter);
  const [row] = await cachedRows(
    db,
    { shape: `count|${shape.shape}`, parameters: shape.parameters },
    () =>
      db
        .selectFrom('trips')
        .select(sql<string>`count(*)`.as('count'))
        .where(compileTripFilter(filter) ?? sql<SqlBool>`true`),
    signal,
  );
  if (!row) throw new Error('count(*) returned no row');
  return String(row.count);
}

export async function findTripsByIds(db: Db, ids: readonly string[], signal?: AbortSignal): Promise<Trip[]> {
  if (ids.length === 0) return [];
  const statement = db
    .selectFrom('trips')
    .select(TRIP_SELECTION)
    .where(sql<SqlBool>`id = ANY(${ids}::int8[])`)
    .compile();
  return (await db.executeQuery(cancellableBy(statement, signal))).rows;
}

/** Where a live stream stands after a read: the snapshot (or, exact capture, its stamp) and the newest id. */
export interface StreamRead {
  snapshot: string;
  newestId: string | null;
}

/** The transaction's snapshot and the newest id in it: a live stream position (TripConnection.streamCursor). */
export async function readStreamPosition(db: Db): Promise<StreamRead> {
  const row = await db
    .selectFrom('trips')
    .select([sql<string>`pg_current_snapshot()::text`.as('snapshot'), sql<string | null>`max(id)::text`.as('newestId')])
    .executeTakeFirstOrThrow();
  return { snapshot: row.snapshot, newestId: row.newestId };
}
