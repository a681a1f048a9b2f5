import { UserInputError } from '../errors.js';

export const TRIP_ORDER_BY = [
  'PICKUP_AT_ASC',
  'PICKUP_AT_DESC',
  'DROPOFF_AT_ASC',
  'DROPOFF_AT_DESC',
  'FARE_AMOUNT_ASC',
  'FARE_AMOUNT_DESC',
  'TRIP_DISTANCE_ASC',
  'TRIP_DISTANCE_DESC',
  'TRIP_ID_ASC',
  'TRIP_ID_DESC',
] as const;
export type TripOrderBy = (typeof TRIP_ORDER_BY)[number];

export type SortColumn = 'tpep_pickup_datetime' | 'tpep_dropoff_datetime' | 'fare_amount' | 'trip_distance' | 'id';
export type SortValueKind = 'timestamptz' | 'float8' | 'int8';
export type Direction = 'asc' | 'desc';

export interface SortKey {
  column: SortColumn;
  direction: Direction;
  kind: SortValueKind;
  nullable: boolean;
}

const COLUMNS: Record<string, { column: SortColumn; kind: SortValueKind; nullable: boolean }> = {
  PICKUP_AT: { column: 'tpep_pickup_datetime', kind: 'timestamptz', nullable: true },
  DROPOFF_AT: { column: 'tpep_dropoff_datetime', kind: 'timestamptz', nullable: true },
  FARE_AMOUNT: { column: 'fare_amount', kind: 'float8', nullable: true },
  TRIP_DISTANCE: { column: 'trip_distance', kind: 'float8', nullable: true },
  TRIP_ID: { column: 'id', kind: 'int8', nullable: false },
};

/**
 * A total ordering: the requested keys, then the primary key as tie-breaker
 * (in the direction of the first key, so "latest first" stays latest first
 * among equal timestamps). Keys after the primary key could never matter and
 * are dropped. NULL sorts as the largest value (Postgres' default: NULLS LAST
 * ascending, NULLS FIRST descending), which keeps btree indexes usable.
 */
export function resolveOrdering(orderBy: readonly TripOrderBy[]): SortKey[] {
  if (orderBy.length === 0) throw new UserInputError('orderBy', 'must list at least one ordering');
  const keys: SortKey[] = [];
  for (const value of orderBy) {
    const split = value.lastIndexOf('_');
    const name = value.slice(0, split);
    const spec = COLUMNS[name];
    if (!spec) throw new UserInputError('orderBy', `unknown ordering ${value}`);
    if (keys.some((key) => key.column === spec.column)) {
      throw new UserInputError('orderBy', `orders by ${name} more than once`);
    }
    keys.push({ ...spec, direction: value.endsWith('_ASC') ? 'asc' : 'desc' });
    if (spec.column === 'id') return keys;
  }
  const first = keys[0];
  keys.push({ column: 'id', kind: 'int8', nullable: false, direction: first ? first.direction : 'asc' });
  return keys;
}

/** Identifies an ordering inside cursors, so a cursor from another ordering is rejected. */
export function orderingSignature(keys: readonly SortKey[]): string {
  return keys.map((key) => `${key.column}:${key.direction}`).join(',');
}

export function reverse(keys: readonly SortKey[]): SortKey[] {
  return keys.map((key) => ({ ...key, direction: key.direction === 'asc' ? 'desc' : 'asc' }));
}

/**
 * An ordering signature in the API's words (`[FARE_AMOUNT_ASC, PICKUP_AT_DESC]`), for errors; undefined when a
 * part names no sort key, so nothing a client forged is echoed (only the enum's own names are). The id
 * tie-breaker resolveOrdering appends, in the first key's direction, is left out as the client did not write it.
 */
export function describeSignature(signature: string): string | undefined {
  const values: string[] = [];
  for (const part of signature.split(',').slice(0, Object.keys(COLUMNS).length)) {
    const [column, direction] = part.split(':');
    const name = Object.entries(COLUMNS).find(([, spec]) => spec.column === column)?.[0];
    if (name === undefined || (direction !== 'asc' && direction !== 'desc')) return undefined;
    values.push(`${name}_${direction.toUpperCase()}`);
  }
  const first = values[0];
  if (
    first !== undefined &&
    values.length > 1 &&
    values.at(-1) === `TRIP_ID_${first.slice(first.lastIndexOf('_') + 1)}`
  ) {
    values.pop();
  }
  return `[${values.join(', ')}]`;
}
