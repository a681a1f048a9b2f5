import { sql, type RawBuilder } from 'kysely';

export const TRIP_GROUP_ORDERS = [
  'COUNT_ASC',
  'COUNT_DESC',
  'FARE_AMOUNT_SUM_ASC',
  'FARE_AMOUNT_SUM_DESC',
  'FARE_AMOUNT_AVG_ASC',
  'FARE_AMOUNT_AVG_DESC',
  'TRIP_DISTANCE_AVG_ASC',
  'TRIP_DISTANCE_AVG_DESC',
  'KEY_ASC',
  'KEY_DESC',
] as const;
export type TripGroupOrder = (typeof TRIP_GROUP_ORDERS)[number];

export const DEFAULT_GROUP_ORDER: readonly TripGroupOrder[] = ['COUNT_DESC'];

/** Output columns of the grouped statement (see stats.ts) that an order sorts by. */
const MEASURE_COLUMNS: Record<string, string> = {
  COUNT: 'trips_count',
  FARE_AMOUNT_SUM: 'fare_sum',
  FARE_AMOUNT_AVG: 'fare_avg',
  TRIP_DISTANCE_AVG: 'distance_avg',
};

/**
 * ORDER BY terms for the grouped statement, whose group keys are the output
 * columns k0..kN in groupBy order. The key is unique per group, so ending with
 * it makes the order total: a measure order is tie-broken by the key
 * ascending. NULL sorts last in every direction, measures and keys alike: a
 * "top 10 by average fare" should not open with groups that have no fares.
 */
export function groupOrderTerms(orderBy: readonly TripGroupOrder[], keyCount: number): RawBuilder<unknown>[] {
  const keys = (direction: 'ASC' | 'DESC') =>
    Array.from({ length: keyCount }, (_, index) => sql`${sql.ref(`k${index}`)} ${sql.raw(direction)} NULLS LAST`);
  const terms: RawBuilder<unknown>[] = [];
  const used = new Set<string>();
  for (const order of orderBy) {
    const direction = order.endsWith('_DESC') ? 'DESC' : 'ASC';
    const measure = order.replace(/_(ASC|DESC)$/, '');
    if (measure === 'KEY') return [...terms, ...keys(direction)];
    const column = MEASURE_COLUMNS[measure];
    // A measure listed twice can only repeat the first direction's ordering.
    if (!column || used.has(column)) continue;
    used.add(column);
    terms.push(sql`${sql.ref(column)} ${sql.raw(direction)} NULLS LAST`);
  }
  return [...terms, ...keys('ASC')];
}
