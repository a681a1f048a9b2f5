/**
 * The synthetic trip model: given uniform random numbers, draws one trip
 * (pickup hour slot, ZIP pair, distance, duration, fare). All tables are built
 * once; drawing a trip allocates nothing, because it runs ten million times in
 * the load benchmark.
 */
import { buildDemandTables, SAMPLE_DAYS } from './demand-curve.js';
import type { Mulberry32 } from './prng.js';
import {
  CITY_PLACES,
  JFK_ZIP,
  NEWARK_AIRPORT_ZIP,
  OUTSIDE_CITY_PLACES,
  type GeneratorBorough,
  type ZipPlace,
} from './zip-geography.js';

/** One drawn trip; times are seconds from SAMPLE_EPOCH_SECONDS, money in cents, distance in 1/100 mile. */
export interface TripDraw {
  pickupSeconds: number;
  dropoffSeconds: number;
  distanceHundredths: number;
  fareCents: number;
  pickupZip: number;
  dropoffZip: number;
}

// Dropoff pull relative to pickup volume: people ride home to the outer boroughs.
const DROPOFF_BOROUGH_FACTOR: Record<GeneratorBorough, number> = {
  Manhattan: 1,
  Brooklyn: 3.2,
  Queens: 2.6,
  Bronx: 3.2,
  'Staten Island': 3,
};
const DROPOFF_AIRPORT_FACTOR: Readonly<Record<number, number>> = { 11430: 1.25, 11371: 0.85 };

/** Miles over which the chance of choosing a destination falls by e; most cab rides are short. */
const GRAVITY_MILES = 1.4;
/** Floor of the distance decay, so far destinations keep a share; airports keep a larger one. */
const FAR_SHARE = 0.03;
const FAR_SHARE_AIRPORT = 0.2;
const JFK_MANHATTAN_FLAT_CENTS = 5200;
const NEWARK_SURCHARGE_CENTS = 1750;

function milesBetween(a: ZipPlace, b: ZipPlace): number {
  const toRad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * toRad;
  const dLon = (b.lon - a.lon) * toRad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * toRad) * Math.cos(b.lat * toRad) * Math.sin(dLon / 2) ** 2;
  return 2 * 3958.8 * Math.asin(Math.sqrt(h));
}

/** Index of the first cumulative weight above x, within [from, from + length). */
function search(cumulative: Float64Array, from: number, length: number, x: number): number {
  let lo = from;
  let hi = from + length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((cumulative[mid] as number) > x) hi = mid;
    else lo = mid + 1;
  }
  return lo - from;
}

function cumulate(weights: readonly number[]): Float64Array {
  const out = new Float64Array(weights.length);
  let total = 0;
  weights.forEach((w, i) => {
    total += w;
    out[i] = total;
  });
  return out;
}

export class TripModel {
  /** ZIPs where trips start (the city); destinations are these plus a few outside the city. */
  readonly pickupZips: Int32Array;
  readonly dropoffZips: Int32Array;
  private readonly pickupDay: Float64Array;
  private readonly pickupNight: Float64Array;
  private readonly destinations: Float64Array;
  private readonly straightMiles: Float64Array;
  private readonly sameZipChance: Float64Array;
  private readonly sameZipMiles: Float64Array;
  private readonly manhattanPickup: Uint8Array;
  private readonly manhattanDropoff: Uint8Array;
  private readonly slotCumulative: Float64Array;
  private readonly slotSpeed: Float64Array;
  private readonly jfkIndex: number;
  private readonly newarkIndex: number;

  constructor() {
    const origins = CITY_PLACES;
    const dests: ReadonlyArray<ZipPlace & { borough?: GeneratorBorough }> = [...CITY_PLACES, ...OUTSIDE_CITY_PLACES];
    const p = origins.length;
    const d = dests.length;
    this.pickupZips = Int32Array.from(origins, (o) => o.zip);
    this.dropoffZips = Int32Array.from(dests, (o) => o.zip);
    this.pickupDay = cumulate(origins.map((o) => o.activity));
    this.pickupNight = cumulate(
      origins.map((o) => {
        if (o.tag === 'nightlife') return o.activity * 2;
        if (o.tag === 'business') return o.activity * 0.3;
        if (o.tag === 'airport') return o.activity * 0.12;
        return o.borough === 'Manhattan' ? o.activity : o.activity * 1.3;
      }),
    );
    const pull = dests.map((dest) =>
      dest.borough === undefined
        ? dest.activity
        : dest.activity * (DROPOFF_AIRPORT_FACTOR[dest.zip] ?? DROPOFF_BOROUGH_FACTOR[dest.borough]),
    );
    this.destinations = new Float64Array(p * d);
    this.straightMiles = new Float64Array(p * d);
    origins.forEach((origin, i) => {
      let total = 0;
      dests.forEach((dest, j) => {
        const miles = milesBetween(origin, dest);
        this.straightMiles[i * d + j] = miles;
        // Same-ZIP trips are drawn separately (sameZipChance) with their own distance model.
        const far = dest.tag === 'airport' ? FAR_SHARE_AIRPORT : FAR_SHARE;
        total += i === j ? 0 : (pull[j] as number) * (Math.exp(-miles / GRAVITY_MILES) + far);
        this.destinations[i * d + j] = total;
      });
    });
    this.sameZipChance = Float64Array.from(origins, (o) =>
      o.tag === 'airport'
        ? 0.002
        : o.borough === 'Manhattan'
          ? o.tag === 'business'
            ? 0.02
            : 0.09
          : o.borough === 'Staten Island'
            ? 0.35
            : 0.2,
    );
    this.sameZipMiles = Float64Array.from(origins, (o) =>
      o.tag === 'airport'
        ? 1.5
        : o.borough === 'Manhattan'
          ? o.tag === 'business'
            ? 0.5
            : 0.8
          : o.borough === 'Staten Island'
            ? 2
            : 1.3,
    );
    this.manhattanPickup = Uint8Array.from(origins, (o) => (o.borough === 'Manhattan' ? 1 : 0));
    this.manhattanDropoff = Uint8Array.from(dests, (o) => (o.borough === 'Manhattan' ? 1 : 0));
    const demand = buildDemandTables();
    this.slotCumulative = demand.slotCumulative;
    this.slotSpeed = demand.slotSpeed;
    this.jfkIndex = origins.findIndex((o) => o.zip === JFK_ZIP);
    this.newarkIndex = dests.findIndex((o) => o.zip === NEWARK_AIRPORT_ZIP);
  }

  /** Draws one trip into `out` (reused by the caller; nothing is allocated here). */
  draw(rng: Mulberry32, out: TripDraw): void {
    const slots = SAMPLE_DAYS * 24;
    const slot = search(this.slotCumulative, 0, slots, rng.next() * (this.slotCumulative[slots - 1] as number));
    const hour = slot % 24;
    const pickupSeconds = slot * 3600 + Math.floor(rng.next() * 3600);

    const origins = this.pickupZips.length;
    const dests = this.dropoffZips.length;
    const pickups = hour <= 4 ? this.pickupNight : this.pickupDay;
    const i = search(pickups, 0, origins, rng.next() * (pickups[origins - 1] as number));

    let j: number;
    let miles: number;
    if (rng.next() < (this.sameZipChance[i] as number)) {
      j = i;
      miles = (this.sameZipMiles[i] as number) * Math.exp(0.45 * rng.normal());
    } else {
      const row = i * dests;
      j = search(this.destinations, row, dests, rng.next() * (this.destinations[row + dests - 1] as number));
      // Streets are not straight lines: a detour factor, plus where in each ZIP the trip starts and ends.
      miles = (this.straightMiles[row + j] as number) * (1.1 + 0.25 * rng.next()) + 0.25 * rng.normal();
    }
    const distanceHundredths = Math.max(10, Math.round(miles * 100));
    miles = distanceHundredths / 100;

    // Longer trips use avenues, bridges and expressways, so they average a higher speed.
    const mph =
      (this.slotSpeed[slot] as number) * (1 + 1.2 * (1 - Math.exp(-miles / 5))) * Math.exp(0.2 * rng.normal());
    const seconds = Math.round(50 + (miles / mph) * 3600 + 120 * rng.next());

    let fareCents: number;
    const jfkTrip =
      (i === this.jfkIndex && this.manhattanDropoff[j] === 1) || (j === this.jfkIndex && this.manhattanPickup[i] === 1);
    if (jfkTrip) {
      fareCents = JFK_MANHATTAN_FLAT_CENTS;
    } else {
      // 2016 meter: $2.50 on entry, then 50¢ per 1/5 mile while moving faster than
      // 12 mph, or per minute while slower. Time beyond covering the distance at
      // cruising speed (faster on long trips: avenues, expressways) is slow time.
      const cruiseMph = 18 + 17 * (1 - Math.exp(-miles / 6));
      const slowMinutes = Math.max(0, seconds / 60 - (miles / cruiseMph) * 60);
      const ticks = Math.round(miles * 5 + slowMinutes);
      fareCents = 250 + 50 * ticks + (j === this.newarkIndex ? NEWARK_SURCHARGE_CENTS : 0);
    }

    out.pickupSeconds = pickupSeconds;
    out.dropoffSeconds = pickupSeconds + seconds;
    out.distanceHundredths = distanceHundredths;
    out.fareCents = fareCents;
    out.pickupZip = this.pickupZips[i] as number;
    out.dropoffZip = this.dropoffZips[j] as number;
  }
}
