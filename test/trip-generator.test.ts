import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SAMPLE_ROWS,
  generateTripRecords,
  tripCopyTextChunks,
  type TripGeneratorOptions,
  type TripRecord,
} from '../src/dev/sample/trip-generator.js';

/** Parses the generator's COPY text back into records, to check it says what the records say. */
function parseCopyText(options: TripGeneratorOptions, chunkBytes?: number): TripRecord[] {
  const text = [...tripCopyTextChunks(options, chunkBytes)].map((chunk) => chunk.toString('latin1')).join('');
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      const f = line.split('\t');
      expect(f).toHaveLength(7);
      const value = <T>(raw: string, read: (s: string) => T): T | null => (raw === '\\N' ? null : read(raw));
      const time = (s: string) => {
        expect(s).toMatch(/^2016-0[1-3]-\d\d \d\d:\d\d:\d\d\+00$/);
        return new Date(s.replace(' ', 'T').replace('+00', 'Z'));
      };
      return {
        id: Number(f[0]),
        tpep_pickup_datetime: value(f[1]!, time),
        tpep_dropoff_datetime: value(f[2]!, time),
        trip_distance: value(f[3]!, Number),
        fare_amount: value(f[4]!, Number),
        pickup_zip: value(f[5]!, Number),
        dropoff_zip: value(f[6]!, Number),
      };
    });
}

const isCents = (value: number): boolean => Math.abs(value * 100 - Math.round(value * 100)) < 1e-6;

describe('synthetic trip generator', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = generateTripRecords({ rows: 3000, seed: 42 });
    const b = generateTripRecords({ rows: 3000, seed: 42 });
    const c = generateTripRecords({ rows: 3000, seed: 43 });
    expect(b).toEqual(a);
    const same = a.filter((row, i) => row.tpep_pickup_datetime?.getTime() === c[i]?.tpep_pickup_datetime?.getTime());
    expect(same.length).toBeLessThan(30);
  });

  it('numbers rows from startId and gives any range of the stream the same rows as the whole', () => {
    const whole = generateTripRecords({ rows: 5000, seed: 7 });
    expect(whole.map((r) => r.id)).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1));
    const middle = generateTripRecords({ rows: 1700, seed: 7, firstRow: 1500, startId: 1_000_000 });
    expect(middle.map((r) => r.id)).toEqual(Array.from({ length: 1700 }, (_, i) => 1_000_000 + i));
    expect(middle.map(({ id: _id, ...rest }) => rest)).toEqual(
      whole.slice(1500, 3200).map(({ id: _id, ...rest }) => rest),
    );
  });

  it('writes COPY text that carries exactly the records, across chunk boundaries', () => {
    const options = { rows: 4000, seed: 11, startId: 9_007_199_254_000_000 };
    expect(parseCopyText(options, 4096)).toEqual(generateTripRecords(options));
    const withNulls = { rows: 2000, seed: 3, nullRate: 0.3 };
    expect(parseCopyText(withNulls)).toEqual(generateTripRecords(withNulls));
  });

  it('produces no impossible rows and no NULLs by default', () => {
    const start = Date.UTC(2016, 0, 1);
    const end = Date.UTC(2016, 2, 1);
    for (const trip of generateTripRecords({ rows: DEFAULT_SAMPLE_ROWS })) {
      const pickup = trip.tpep_pickup_datetime!.getTime();
      const dropoff = trip.tpep_dropoff_datetime!.getTime();
      expect(pickup).toBeGreaterThanOrEqual(start);
      expect(pickup).toBeLessThan(end);
      expect(dropoff).toBeGreaterThan(pickup);
      expect(dropoff - pickup).toBeLessThan(4 * 3600 * 1000);
      expect(trip.trip_distance).toBeGreaterThan(0);
      expect(trip.fare_amount).toBeGreaterThanOrEqual(2.5);
      expect(isCents(trip.fare_amount!)).toBe(true);
      expect(isCents(trip.trip_distance!)).toBe(true);
      expect(Number.isInteger(trip.pickup_zip)).toBe(true);
      expect(Number.isInteger(trip.dropoff_zip)).toBe(true);
    }
  });

  it('makes each column NULL at about nullRate, independently', () => {
    const rows = generateTripRecords({ rows: 20_000, seed: 5, nullRate: 0.1 });
    const columns = [
      'tpep_pickup_datetime',
      'tpep_dropoff_datetime',
      'trip_distance',
      'fare_amount',
      'pickup_zip',
      'dropoff_zip',
    ] as const;
    for (const column of columns) {
      const share = rows.filter((row) => row[column] === null).length / rows.length;
      expect(share).toBeGreaterThan(0.08);
      expect(share).toBeLessThan(0.12);
    }
    expect(rows.every((row) => row.id !== null)).toBe(true);
  });

  it('rejects options it cannot honour', () => {
    expect(() => generateTripRecords({ rows: -1 })).toThrow(/rows/);
    expect(() => generateTripRecords({ rows: 1, seed: 2 ** 32 })).toThrow(/seed/);
    expect(() => generateTripRecords({ rows: 1, nullRate: 1.5 })).toThrow(/nullRate/);
    expect(() => generateTripRecords({ rows: 10, startId: Number.MAX_SAFE_INTEGER })).toThrow(/startId/);
  });
});
