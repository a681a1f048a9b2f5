import { describe, expect, it } from 'vitest';
import { chooseGrain, rollupNeeds } from '../src/aggregates/rollup/planner.js';
import type { TripDimension } from '../src/aggregates/dimensions.js';
import type { TripFilter } from '../src/trips/filter.js';
import { parseTripFilter } from '../src/trips/parse-filter.js';

/** Rows per grain at 10M trips (docs/aggregates.md): the planner picks the smallest grain that can answer. */
const GRAIN_ROWS = { p: 210, d: 218, h: 1440, ph: 222_993, dh: 219_183, bh: 6862, dbh: 8201, pd: 30_773, f: 274 };

function grainFor(filter: TripFilter, dimensions?: readonly TripDimension[], timeZone?: string): string | null {
  const needs = rollupNeeds(parseTripFilter(filter), dimensions, timeZone);
  return needs && chooseGrain(needs, GRAIN_ROWS);
}

describe('rollup grain choice', () => {
  it('answers a borough filter from the borough grain, a ZIP list from the ZIP grain', () => {
    expect(grainFor({ pickupBorough: { eq: 'Manhattan' } }, ['PICKUP_HOUR_OF_DAY'], 'America/New_York')).toBe('bh');
    expect(grainFor({ pickupZip: { in: [10001, 10002] } }, ['PICKUP_HOUR_OF_DAY'], 'America/New_York')).toBe('ph');
    expect(grainFor({ dropoffBorough: { isNull: true } })).toBe('d');
  });

  it('needs a ZIP grain when a borough filter meets a ZIP dimension, and the raw table past any grain', () => {
    expect(grainFor({ pickupBorough: { in: ['Queens'] } }, ['PICKUP_ZIP'])).toBe('p');
    expect(grainFor({ pickupBorough: { eq: 'Queens' } }, ['DROPOFF_BOROUGH'])).toBe('pd');
    expect(grainFor({ pickupBorough: { eq: 'Queens' }, fareAmount: { gte: 4 } })).toBeNull();
    expect(grainFor({ pickupBorough: { eq: 'Queens' }, tripDistance: { gte: 4 } })).toBeNull();
  });
});
