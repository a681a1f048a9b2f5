import type { BoroughColumn, KeyColumn } from '../dimensions.js';

/**
 * The rollup's grains: which key columns each one groups trips by. Hours are
 * UTC hour starts. A query reads the smallest grain that has the columns it
 * needs, so the tiny single-ZIP grains answer all-time per-ZIP totals. The lattice is chosen for the BI queries the API exists
 * for (docs/aggregates.md): time-only series, per-ZIP series on either side,
 * borough time series (boroughs come from the ZIP reference table at build
 * time, so that table is part of the rollup's signature), ZIP-to-ZIP totals,
 * and totals over fare ranges (fares are metered in 50-cent
 * steps, so there are few distinct values). A (pickup ZIP, dropoff ZIP, hour)
 * grain would serve more shapes but holds almost as many rows as the trips,
 * so it is not kept.
 */
export const GRAINS = {
  p: ['pickup_zip'],
  d: ['dropoff_zip'],
  h: ['tpep_pickup_datetime'],
  ph: ['pickup_zip', 'tpep_pickup_datetime'],
  dh: ['dropoff_zip', 'tpep_pickup_datetime'],
  bh: ['pickup_borough', 'tpep_pickup_datetime'],
  dbh: ['dropoff_borough', 'tpep_pickup_datetime'],
  pd: ['pickup_zip', 'dropoff_zip'],
  f: ['fare_amount'],
} as const satisfies Record<string, readonly RollupKey[]>;

export type RollupKey = KeyColumn | BoroughColumn;

export type Grain = keyof typeof GRAINS;
export const GRAIN_NAMES = Object.keys(GRAINS) as Grain[];
