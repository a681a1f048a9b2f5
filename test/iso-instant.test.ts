import { describe, expect, it } from 'vitest';
import { formatIsoInstant } from '../src/schema/iso-instant.js';

describe('formatIsoInstant', () => {
  it('equals toISOString across the years, months, days and times it formats itself', () => {
    const instants = [
      Date.UTC(2016, 0, 1, 0, 0, 0, 0),
      Date.UTC(2016, 1, 29, 23, 59, 59, 999),
      Date.UTC(1970, 0, 1),
      Date.UTC(1969, 11, 31, 23, 59, 59, 1),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
      -62167219200000, // 0000-01-01T00:00:00.000Z
      Date.UTC(999, 6, 4, 5, 6, 7, 80),
      Date.parse('0099-07-04T00:00:00.001Z'),
      Date.parse('0009-07-04T00:00:00.010Z'),
      Date.UTC(2038, 0, 19, 3, 14, 7, 5),
    ];
    // A deterministic spread of instants between 1900 and 2100, at millisecond resolution.
    let seed = 7;
    for (let i = 0; i < 5000; i += 1) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      instants.push(-2208988800000 + Math.floor((seed / 2147483648) * 6311433600000));
    }
    for (const instant of instants) {
      const date = new Date(instant);
      expect(formatIsoInstant(date)).toBe(date.toISOString());
    }
  });

  it('defers to toISOString outside 0–9999 and for invalid dates', () => {
    const far = new Date(Date.UTC(10000, 0, 1));
    expect(formatIsoInstant(far)).toBe('+010000-01-01T00:00:00.000Z');
    const early = new Date(-62167219200001);
    expect(formatIsoInstant(early)).toBe(early.toISOString());
    expect(() => formatIsoInstant(new Date(Number.NaN))).toThrow(RangeError);
  });
});
