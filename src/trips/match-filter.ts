import type { TripRow } from '../db/tables.js';
import { zipZone } from '../zones/nyc-zip-codes.js';
import type { BigIntFilter, BoroughFilter, DateTimeFilter, FloatFilter, IntFilter } from './filter-input.js';
import { mapConditions, type FieldTable, type FilterNode, type ParsedTripFilter } from './parse-filter.js';

/**
 * A trip row with its timestamps also as exact epoch microseconds. A JS Date
 * keeps milliseconds only, and the synced table stores microseconds: a row at
 * 00:00:00.000123 is `gt 00:00:00.000Z` in SQL but not as a Date.
 */
export interface MatchableTripRow extends TripRow {
  pickupMicros: number | null;
  dropoffMicros: number | null;
}

export type TripMatcher = (row: MatchableTripRow) => boolean;

/**
 * TripFilter evaluated in memory with exactly the semantics of
 * compileTripFilter's SQL (the live feed filters shared batches with it, and
 * resuming subscribers catch up with the SQL; both must select the same rows):
 * - a row matches when the SQL predicate is TRUE. A comparison with NULL is
 *   NULL, not TRUE, so ne / notIn / gt ... never match NULL;
 * - `not` compiles to `(…) IS NOT TRUE`, the exact complement. With that, and /
 *   or / not only ever ask "is it TRUE", so two-valued logic here is exact;
 * - float8 orders NaN above every number and equal to itself (Postgres), which
 *   JS comparisons do not.
 */
export function compileTripMatcher(filter: ParsedTripFilter): TripMatcher {
  return filter.root ? compileNode(filter.root) : () => true;
}

export function matchesTripFilter(row: MatchableTripRow, filter: ParsedTripFilter): boolean {
  return compileTripMatcher(filter)(row);
}

/** Every field's tests, with the SQL's semantics for its column type. */
const FIELD_TESTS: FieldTable<TripMatcher[]> = {
  tripId: (spec) => bigIntTests(spec, (row) => row.id),
  pickupAt: (spec) => dateTimeTests(spec, (row) => row.pickupMicros),
  dropoffAt: (spec) => dateTimeTests(spec, (row) => row.dropoffMicros),
  pickupZip: (spec) => intTests(spec, (row) => row.pickup_zip),
  dropoffZip: (spec) => intTests(spec, (row) => row.dropoff_zip),
  fareAmount: (spec) => floatTests(spec, (row) => row.fare_amount),
  tripDistance: (spec) => floatTests(spec, (row) => row.trip_distance),
  pickupBorough: (spec) => boroughTests(spec, (row) => boroughOf(row.pickup_zip)),
  dropoffBorough: (spec) => boroughTests(spec, (row) => boroughOf(row.dropoff_zip)),
};

function compileNode(node: FilterNode): TripMatcher {
  const tests: TripMatcher[] = mapConditions(node, FIELD_TESTS).flat();
  if (node.and) {
    const all = node.and.map(compileNode);
    tests.push((row) => all.every((test) => test(row)));
  }
  if (node.or) {
    const any = node.or.map(compileNode);
    tests.push((row) => any.some((test) => test(row)));
  }
  if (node.not) {
    const test = compileNode(node.not);
    tests.push((row) => !test(row));
  }
  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0]!;
  return (row) => tests.every((test) => test(row));
}

type Get<T> = (row: MatchableTripRow) => T | null;
type Compare<T> = (a: T, b: T) => number;

const given = <T>(value: T | null | undefined): value is T => value !== null && value !== undefined;

/** The comparisons shared by every column type; a NULL column value never satisfies any of them. */
function rangeTests<T>(
  spec: { eq?: T | null; ne?: T | null; gt?: T | null; gte?: T | null; lt?: T | null; lte?: T | null },
  get: Get<T>,
  compare: Compare<T>,
): TripMatcher[] {
  const tests: TripMatcher[] = [];
  const test = (bound: T | null | undefined, accept: (cmp: number) => boolean) => {
    if (!given(bound)) return;
    tests.push((row) => {
      const value = get(row);
      return value !== null && accept(compare(value, bound));
    });
  };
  test(spec.eq, (cmp) => cmp === 0);
  test(spec.ne, (cmp) => cmp !== 0);
  test(spec.gt, (cmp) => cmp > 0);
  test(spec.gte, (cmp) => cmp >= 0);
  test(spec.lt, (cmp) => cmp < 0);
  test(spec.lte, (cmp) => cmp <= 0);
  return tests;
}

/** in / notIn over int4, int8 or text values, which a Set compares by value. */
function listTests<T extends number | bigint | string>(
  spec: { in?: readonly T[] | null; notIn?: readonly T[] | null },
  get: Get<T>,
): TripMatcher[] {
  const tests: TripMatcher[] = [];
  if (given(spec.in)) {
    const members = new Set(spec.in);
    tests.push((row) => {
      const value = get(row);
      return value !== null && members.has(value);
    });
  }
  if (given(spec.notIn)) {
    const members = new Set(spec.notIn);
    tests.push((row) => {
      const value = get(row);
      return value !== null && !members.has(value);
    });
  }
  return tests;
}

function nullTests<T>(spec: { isNull?: boolean | null }, get: Get<T>): TripMatcher[] {
  const isNull = spec.isNull;
  if (!given(isNull)) return [];
  return [(row) => (get(row) === null) === isNull];
}

const compareNumbers: Compare<number> = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** Postgres float8 order: NaN = NaN, and NaN sorts above every other value (Infinity included). */
const compareFloat8: Compare<number> = (a, b) => {
  if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
  if (Number.isNaN(b)) return -1;
  return compareNumbers(a, b);
};

function intTests(spec: IntFilter, get: Get<number>): TripMatcher[] {
  return [...rangeTests(spec, get, compareNumbers), ...listTests(spec, get), ...nullTests(spec, get)];
}

function floatTests(spec: FloatFilter, get: Get<number>): TripMatcher[] {
  return [...rangeTests(spec, get, compareFloat8), ...nullTests(spec, get)];
}

function dateTimeTests(spec: DateTimeFilter, get: Get<number>): TripMatcher[] {
  // The SQL binds Date.toISOString(), i.e. whole milliseconds.
  const micros = (date: Date | null | undefined) => (given(date) ? date.getTime() * 1000 : undefined);
  const bounds = { gt: micros(spec.gt), gte: micros(spec.gte), lt: micros(spec.lt), lte: micros(spec.lte) };
  return [...rangeTests(bounds, get, compareNumbers), ...nullTests(spec, get)];
}

function bigIntTests(spec: BigIntFilter, get: (row: MatchableTripRow) => string): TripMatcher[] {
  const toBig = (value: string | null | undefined) => (given(value) ? BigInt(value) : undefined);
  const bounds = {
    eq: toBig(spec.eq),
    gt: toBig(spec.gt),
    gte: toBig(spec.gte),
    lt: toBig(spec.lt),
    lte: toBig(spec.lte),
  };
  const getBig = (row: MatchableTripRow) => BigInt(get(row));
  const compare: Compare<bigint> = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  const inList = given(spec.in) ? spec.in.map((value) => BigInt(value)) : undefined;
  return [...rangeTests(bounds, getBig, compare), ...listTests({ in: inList }, getBig)];
}

/**
 * The borough the SQL looks up in the ZIP reference table, which the gateway
 * installs from the same shipped list (src/zones/install-zip-zones.ts).
 */
function boroughOf(zip: number | null): string | null {
  return zip === null ? null : (zipZone(zip)?.borough ?? null);
}

const compareText: Compare<string> = (a, b) => (a === b ? 0 : a < b ? -1 : 1);

function boroughTests(spec: BoroughFilter, get: Get<string>): TripMatcher[] {
  return [
    ...rangeTests({ eq: spec.eq, ne: spec.ne }, get, compareText),
    ...listTests(spec, get),
    ...nullTests(spec, get),
  ];
}
