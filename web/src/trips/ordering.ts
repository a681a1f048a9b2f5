/**
 * The table's order: what the grid's sorted headers ask of trips(orderBy:),
 * kept in the URL (?order=FARE_AMOUNT_DESC,PICKUP_AT_ASC) like the filters,
 * and the same order in the browser. The live window (trip-window.ts) decides
 * with it whether a changed row falls among the loaded pages, so it must be
 * the gateway's order exactly: the keys as listed, NULL as the largest value
 * (last ascending, first descending), then the trip id in the first key's
 * direction. Any difference would show a row twice or skip one at a page's
 * edge.
 */
// The extension lets the gateway's tests (Node resolution) import this file; a type import, so Vite never sees it.
import type { TripFieldsFragment, TripOrderBy } from '../gql/graphql.js';

/** The grid's fields the gateway orders by, and the name of that ordering (without its direction). */
export const SORT_FIELDS = {
  tripId: 'TRIP_ID',
  pickupAt: 'PICKUP_AT',
  dropoffAt: 'DROPOFF_AT',
  fareAmount: 'FARE_AMOUNT',
  tripDistance: 'TRIP_DISTANCE',
} as const satisfies Partial<Record<keyof TripFieldsFragment, string>>;

export type SortField = keyof typeof SORT_FIELDS;
export type SortDirection = 'asc' | 'desc';

export interface SortKey {
  field: SortField;
  direction: SortDirection;
}

/** What the table shows until a header is clicked: the newest pickups, as the reference app did. */
export const DEFAULT_ORDER: readonly SortKey[] = [{ field: 'pickupAt', direction: 'desc' }];

const FIELD_BY_NAME = new Map<string, SortField>(
  Object.entries(SORT_FIELDS).map(([field, name]) => [name, field as SortField]),
);

export function orderByOf(keys: readonly SortKey[]): TripOrderBy[] {
  return keys.map((key) => `${SORT_FIELDS[key.field]}_${key.direction === 'asc' ? 'ASC' : 'DESC'}` as TripOrderBy);
}

/**
 * The keys the gateway really sorts by for these: a key after the trip id can never matter, and the gateway
 * drops it, so the grid must not show it as a sort either.
 */
export function effectiveOrder(keys: readonly SortKey[]): SortKey[] {
  const until = keys.findIndex((key) => key.field === 'tripId');
  return until === -1 ? [...keys] : keys.slice(0, until + 1);
}

export interface ReadOrder {
  order: SortKey[];
  /** Set when the URL's order does not read: the table then shows DEFAULT_ORDER, and says why. */
  problem?: string;
}

export function readOrder(search: string): ReadOrder {
  const text = new URLSearchParams(search).get('order')?.trim() ?? '';
  if (text === '') return { order: [...DEFAULT_ORDER] };
  const keys: SortKey[] = [];
  // A comma too many (`FARE_AMOUNT_DESC,`) names no column: skipped, not reported as the column "".
  for (const part of text.split(',').filter((item) => item.trim() !== '')) {
    const match = /^([A-Z_]+)_(ASC|DESC)$/.exec(part.trim());
    const field = match ? FIELD_BY_NAME.get(match[1]!) : undefined;
    if (!match || !field) {
      return { order: [...DEFAULT_ORDER], problem: `order: "${part}" is not a column the table sorts by` };
    }
    if (keys.some((key) => key.field === field)) {
      return { order: [...DEFAULT_ORDER], problem: `order: ${match[1]} is listed twice` };
    }
    keys.push({ field, direction: match[2] === 'ASC' ? 'asc' : 'desc' });
  }
  return { order: keys.length === 0 ? [...DEFAULT_ORDER] : effectiveOrder(keys) };
}

/** The `order` URL parameter for these keys; '' for the default order, so a plain URL stays plain. */
export function orderParam(keys: readonly SortKey[]): string {
  const text = orderByOf(keys).join(',');
  return text === orderByOf(DEFAULT_ORDER).join(',') ? '' : text;
}

type Comparable = number | bigint;

function valueOf(trip: TripFieldsFragment, field: SortField): Comparable | null {
  switch (field) {
    case 'tripId':
      return BigInt(trip.tripId);
    case 'pickupAt':
    case 'dropoffAt': {
      const value = trip[field];
      return value === null || value === undefined ? null : Date.parse(value);
    }
    case 'fareAmount':
    case 'tripDistance':
      return trip[field] ?? null;
  }
}

/** Ascending, with NULL as the largest value (Postgres' default, which the gateway keeps). */
function compareValues(a: Comparable | null, b: Comparable | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The gateway's total order for these keys, as a comparator (negative: a comes first). */
export function compareTripsBy(keys: readonly SortKey[]): (a: TripFieldsFragment, b: TripFieldsFragment) => number {
  const order = effectiveOrder(keys.length > 0 ? keys : DEFAULT_ORDER);
  const full = order.some((key) => key.field === 'tripId')
    ? order
    : [...order, { field: 'tripId' as const, direction: order[0]!.direction }];
  return (a, b) => {
    for (const key of full) {
      const result = compareValues(valueOf(a, key.field), valueOf(b, key.field));
      if (result !== 0) return key.direction === 'asc' ? result : -result;
    }
    return 0;
  };
}
