import type { Random } from '../../src/dev/pipeline/random-trips.js';
import type { TripFilter } from '../../src/trips/filter.js';
import { BOROUGHS } from '../../src/zones/nyc-zip-codes.js';

/**
 * Random TripFilters for the statement tests (trip-statements, aggregate-statement-memo):
 * the structure from one random source, the values from another, so two
 * filters can share a shape and differ in values.
 */

export const pick = <T>(random: Random, list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
export const shuffled = <T>(random: Random, list: readonly T[]): T[] =>
  list
    .map((item) => ({ item, order: random() }))
    .sort((a, b) => a.order - b.order)
    .map(({ item }) => item);

const KINDS = {
  tripId: 'bigint',
  pickupAt: 'instant',
  dropoffAt: 'instant',
  pickupZip: 'int',
  dropoffZip: 'int',
  fareAmount: 'float',
  tripDistance: 'float',
  pickupBorough: 'borough',
  dropoffBorough: 'borough',
} as const;
type Field = keyof typeof KINDS;

const TWINS: Partial<Record<Field, Field>> = {
  pickupAt: 'dropoffAt',
  dropoffAt: 'pickupAt',
  pickupZip: 'dropoffZip',
  dropoffZip: 'pickupZip',
  fareAmount: 'tripDistance',
  tripDistance: 'fareAmount',
  pickupBorough: 'dropoffBorough',
  dropoffBorough: 'pickupBorough',
};

const OPERATORS: Record<(typeof KINDS)[Field], readonly string[]> = {
  bigint: ['eq', 'in', 'gt', 'gte', 'lt', 'lte'],
  instant: ['gt', 'gte', 'lt', 'lte', 'isNull'],
  int: ['eq', 'ne', 'in', 'notIn', 'gt', 'gte', 'lt', 'lte', 'isNull'],
  float: ['eq', 'gt', 'gte', 'lt', 'lte', 'isNull'],
  borough: ['eq', 'ne', 'in', 'notIn', 'isNull'],
};

function scalar(kind: (typeof KINDS)[Field], values: Random): unknown {
  switch (kind) {
    case 'bigint':
      return String(Math.floor(values() * 2000));
    case 'instant':
      return new Date(Date.UTC(2016, 0, 1) + Math.floor(values() * 48 * 3_600_000));
    case 'int':
      return pick(values, [10001, 10011, 10019, 11371, 11430, 10022, 99999]);
    case 'float':
      return Math.round(values() * 200) / 10;
    case 'borough':
      return pick(values, BOROUGHS);
  }
}

/** A filter whose structure comes from `shape` and whose values from `values`: equal shapes, other values. */
export function randomFilter(shape: Random, values: Random, depth = 0): TripFilter {
  const filter: Record<string, unknown> = {};
  for (const field of shuffled(shape, Object.keys(KINDS) as Field[]).slice(0, Math.floor(shape() * 3))) {
    const kind = KINDS[field];
    const conditions: Record<string, unknown> = {};
    for (const operator of shuffled(shape, OPERATORS[kind]).slice(0, 1 + Math.floor(shape() * 2))) {
      // From `values`: a shape key that missed isNull's value would then reuse the other one's text.
      if (operator === 'isNull') conditions[operator] = values() < 0.5;
      else if (operator === 'in' || operator === 'notIn') {
        conditions[operator] = Array.from({ length: 1 + Math.floor(values() * 3) }, () => scalar(kind, values));
      } else conditions[operator] = scalar(kind, values);
    }
    // An operator given as null counts as absent.
    if (shape() < 0.1) conditions.isNull = null;
    // Sometimes its twin of the same type instead, from `values`: a shape key must tell fields apart too.
    const twin = TWINS[field];
    filter[twin && !(twin in filter) && values() < 0.2 ? twin : field] = conditions;
  }
  if (depth < 2) {
    for (const combinator of ['and', 'or'] as const) {
      if (shape() < 0.25) {
        filter[combinator] = Array.from({ length: 1 + Math.floor(shape() * 2) }, () =>
          randomFilter(shape, values, depth + 1),
        );
      }
    }
    if (shape() < 0.2) filter.not = randomFilter(shape, values, depth + 1);
  }
  return filter as TripFilter;
}
