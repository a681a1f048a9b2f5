/**
 * Deterministic synthetic NYC taxi trips shaped like samples.nyctaxi.trips
 * (January–February 2016). The same seed always yields the same rows, in two
 * forms: COPY text chunks for bulk loading, and plain records for tests.
 *
 * Rows are drawn in blocks of BLOCK_ROWS, each from its own PRNG stream seeded
 * by (seed, block). Row n is therefore the same whichever range of rows a
 * generator is asked for, so a load can be split across connections and still
 * equal the single-stream result.
 */
import { CopyTextWriter, MAX_TRIP_ROW_BYTES } from './copy-text-writer.js';
import { SAMPLE_EPOCH_SECONDS } from './demand-curve.js';
import { Mulberry32, streamSeed } from './prng.js';
import { TripModel, type TripDraw } from './trip-model.js';

/** The default development sample: as many trips as samples.nyctaxi.trips holds. */
export const DEFAULT_SAMPLE_ROWS = 21_932;
export const DEFAULT_SAMPLE_SEED = 2016;

const BLOCK_ROWS = 1024;
const TRIP_STREAM = 0;
const NULL_STREAM = 1;

/** Column order of the synced table after id, as COPY receives it. */
export const TRIP_COLUMNS = [
  'tpep_pickup_datetime',
  'tpep_dropoff_datetime',
  'trip_distance',
  'fare_amount',
  'pickup_zip',
  'dropoff_zip',
] as const;

export interface TripGeneratorOptions {
  /** Number of rows to produce. */
  rows: number;
  seed?: number;
  /** Id of the first row produced; the others follow consecutively. Default 1. */
  startId?: number;
  /**
   * Position of the first row in the seed's stream (default 0): rows
   * [firstRow, firstRow + rows) of the stream are produced.
   */
  firstRow?: number;
  /** Chance that each non-key column is NULL, independently (default 0: no NULLs). */
  nullRate?: number;
}

export interface TripRecord {
  id: number;
  tpep_pickup_datetime: Date | null;
  tpep_dropoff_datetime: Date | null;
  trip_distance: number | null;
  fare_amount: number | null;
  pickup_zip: number | null;
  dropoff_zip: number | null;
}

let sharedModel: TripModel | undefined;
function tripModel(): TripModel {
  sharedModel ??= new TripModel();
  return sharedModel;
}

function checkOptions(options: TripGeneratorOptions): Required<TripGeneratorOptions> {
  const resolved = {
    rows: options.rows,
    seed: options.seed ?? DEFAULT_SAMPLE_SEED,
    startId: options.startId ?? 1,
    firstRow: options.firstRow ?? 0,
    nullRate: options.nullRate ?? 0,
  };
  for (const name of ['rows', 'firstRow'] as const) {
    if (!Number.isSafeInteger(resolved[name]) || resolved[name] < 0) {
      throw new RangeError(`${name} must be a non-negative integer, got ${resolved[name]}`);
    }
  }
  if (!Number.isSafeInteger(resolved.startId) || resolved.startId < 0) {
    throw new RangeError(`startId must be a non-negative integer, got ${resolved.startId}`);
  }
  if (!Number.isSafeInteger(resolved.startId + resolved.rows)) {
    throw new RangeError(`startId + rows exceeds ${Number.MAX_SAFE_INTEGER}`);
  }
  if (!Number.isInteger(resolved.seed) || resolved.seed < 0 || resolved.seed > 0xffffffff) {
    throw new RangeError(`seed must be an integer from 0 to 4294967295, got ${resolved.seed}`);
  }
  if (!(resolved.nullRate >= 0 && resolved.nullRate <= 1)) {
    throw new RangeError(`nullRate must be between 0 and 1, got ${resolved.nullRate}`);
  }
  return resolved;
}

/**
 * Cursor over the requested rows of a seed's stream: each `advance()` draws
 * the next row into `trip` and `nullMask` (bit k set: TRIP_COLUMNS[k] is NULL).
 * Rows before `firstRow` inside its block are drawn and discarded so that
 * every range of the stream agrees with the whole.
 */
class TripStream {
  readonly trip: TripDraw = {
    pickupSeconds: 0,
    dropoffSeconds: 0,
    distanceHundredths: 0,
    fareCents: 0,
    pickupZip: 0,
    dropoffZip: 0,
  };
  nullMask = 0;
  /** Position in the seed's stream of the row last drawn. */
  index: number;
  private readonly model = tripModel();
  private readonly trips = new Mulberry32(0);
  private readonly nulls = new Mulberry32(0);
  private readonly end: number;

  constructor(private readonly options: Required<TripGeneratorOptions>) {
    this.end = options.firstRow + options.rows;
    this.index = options.firstRow - (options.firstRow % BLOCK_ROWS) - 1;
    while (this.index + 1 < options.firstRow) this.draw();
  }

  advance(): boolean {
    if (this.index + 1 >= this.end) return false;
    this.draw();
    return true;
  }

  private draw(): void {
    const index = ++this.index;
    if (index % BLOCK_ROWS === 0) {
      const block = index / BLOCK_ROWS;
      this.trips.reseed(streamSeed(this.options.seed, TRIP_STREAM, block));
      this.nulls.reseed(streamSeed(this.options.seed, NULL_STREAM, block));
    }
    this.model.draw(this.trips, this.trip);
    let nullMask = 0;
    const nullRate = this.options.nullRate;
    if (nullRate > 0) {
      for (let column = 0; column < TRIP_COLUMNS.length; column++) {
        if (this.nulls.next() < nullRate) nullMask |= 1 << column;
      }
    }
    this.nullMask = nullMask;
  }
}

/** Generated trips as objects (tests, small samples); not for millions of rows. */
export function generateTripRecords(options: TripGeneratorOptions): TripRecord[] {
  const resolved = checkOptions(options);
  const records: TripRecord[] = [];
  const idOffset = resolved.startId - resolved.firstRow;
  const stream = new TripStream(resolved);
  while (stream.advance()) {
    const { trip, nullMask } = stream;
    const value = <T>(column: number, v: T): T | null => ((nullMask >> column) & 1 ? null : v);
    records.push({
      id: idOffset + stream.index,
      tpep_pickup_datetime: value(0, new Date((SAMPLE_EPOCH_SECONDS + trip.pickupSeconds) * 1000)),
      tpep_dropoff_datetime: value(1, new Date((SAMPLE_EPOCH_SECONDS + trip.dropoffSeconds) * 1000)),
      trip_distance: value(2, trip.distanceHundredths / 100),
      fare_amount: value(3, trip.fareCents / 100),
      pickup_zip: value(4, trip.pickupZip),
      dropoff_zip: value(5, trip.dropoffZip),
    });
  }
  return records;
}

/**
 * Generated trips as COPY text (columns: id, then TRIP_COLUMNS), in chunks of
 * at most `chunkBytes`. Each chunk is a fresh buffer the caller may keep.
 */
export function* tripCopyTextChunks(options: TripGeneratorOptions, chunkBytes = 1 << 20): Generator<Buffer> {
  const resolved = checkOptions(options);
  if (chunkBytes < MAX_TRIP_ROW_BYTES) throw new RangeError(`chunkBytes must be at least ${MAX_TRIP_ROW_BYTES}`);
  const idOffset = resolved.startId - resolved.firstRow;
  const stream = new TripStream(resolved);
  const { trip } = stream;
  while (true) {
    const writer = new CopyTextWriter(Buffer.allocUnsafe(chunkBytes));
    while (writer.remaining >= MAX_TRIP_ROW_BYTES && stream.advance()) {
      const nullMask = stream.nullMask;
      writer.uint(idOffset + stream.index);
      writer.tab();
      if (nullMask & 1) writer.nullValue();
      else writer.sampleTimestamp(trip.pickupSeconds);
      writer.tab();
      if (nullMask & 2) writer.nullValue();
      else writer.sampleTimestamp(trip.dropoffSeconds);
      writer.tab();
      if (nullMask & 4) writer.nullValue();
      else writer.hundredths(trip.distanceHundredths);
      writer.tab();
      if (nullMask & 8) writer.nullValue();
      else writer.hundredths(trip.fareCents);
      writer.tab();
      if (nullMask & 16) writer.nullValue();
      else writer.uint(trip.pickupZip);
      writer.tab();
      if (nullMask & 32) writer.nullValue();
      else writer.uint(trip.dropoffZip);
      writer.endRow();
    }
    if (writer.pos === 0) return;
    yield writer.buf.subarray(0, writer.pos);
  }
}
