/**
 * Plausible new taxi trips for the source table (CLI insert/stream). Kept here,
 * independent of the sample-data generator, so the pipeline needs nothing else.
 */
import type { TripInput } from './source-writes.js';

/** Manhattan and Brooklyn zip codes as found in samples.nyctaxi.trips; used when the source has none yet. */
export const FALLBACK_ZIPS: readonly number[] = [
  10001, 10002, 10003, 10009, 10010, 10011, 10012, 10013, 10014, 10016, 10017, 10018, 10019, 10021, 10022, 10023, 10024,
  10025, 10028, 10036, 10065, 10075, 10128, 10280, 10282, 11201, 11211, 11215, 11217, 11222,
];

export type Random = () => number;

/** Deterministic generator (mulberry32) so tests can pin the output; Math.random by default. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RandomTripOptions {
  zips?: readonly number[];
  /** Trips end shortly before this instant (now by default), like a live feed. */
  endingBefore?: Date;
  random?: Random;
}

export function randomTrips(firstId: bigint, count: number, options: RandomTripOptions = {}): TripInput[] {
  const zips = options.zips && options.zips.length > 0 ? options.zips : FALLBACK_ZIPS;
  const random = options.random ?? Math.random;
  const end = (options.endingBefore ?? new Date()).getTime();
  const pick = () => zips[Math.floor(random() * zips.length)] ?? FALLBACK_ZIPS[0]!;
  const trips: TripInput[] = [];
  for (let i = 0; i < count; i++) {
    // Mostly short hops with a long tail, as in the NYC data.
    const distance = Math.round((0.3 + -Math.log(1 - random()) * 2.5) * 100) / 100;
    const minutes = Math.max(2, distance * (2.5 + random() * 2.5));
    const dropoff = end - Math.floor(random() * 60_000);
    const pickup = dropoff - Math.round(minutes * 60_000);
    trips.push({
      id: firstId + BigInt(i),
      tpep_pickup_datetime: new Date(pickup),
      tpep_dropoff_datetime: new Date(dropoff),
      trip_distance: distance,
      fare_amount: Math.round((3 + distance * 2.5 + minutes * 0.5) * 2) / 2,
      pickup_zip: pick(),
      dropoff_zip: pick(),
    });
  }
  return trips;
}
