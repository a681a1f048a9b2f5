/**
 * The dashboard's filter reading (web/src/trips/filters.ts), which turns the URL's values into the TripFilter it
 * loads: a value the form cannot show must be named, not applied, and a time typed in New York time must mean
 * the instant PostgreSQL gives it.
 */
import { describe, expect, it } from 'vitest';
import { parseFilters, type Filters } from '../web/src/trips/filters.js';

const NONE: Filters = { borough: '', zip: '', fareMin: '', fareMax: '', from: '', to: '' };

describe('the dashboard reading its filters', () => {
  it('names fares the number box would show empty (0x10, +5, 1.) instead of applying them', () => {
    for (const text of ['0x10', '+5', '1.', '1e', ' ', 'Infinity', '5e999']) {
      const parsed = parseFilters({ ...NONE, fareMin: text });
      expect(parsed.problems.fareMin, text).toBe(`Fare from: "${text}" is not a number`);
      expect(parsed.filter, text).toBeNull();
    }
  });

  it('reads the decimal forms a number box accepts', () => {
    const cases: [string, number][] = [
      ['12', 12],
      ['-3.5', -3.5],
      ['.25', 0.25],
      ['1e2', 100],
      ['2.5E-1', 0.25],
    ];
    for (const [text, value] of cases) {
      expect(parseFilters({ ...NONE, fareMax: text }), text).toEqual({
        filter: { fareAmount: { gte: undefined, lte: value } },
        problems: {},
      });
    }
  });

  it('keeps years before 100 (Date.UTC made 0016 into 1916), at local mean time to the second, as PostgreSQL', () => {
    const parsed = parseFilters({ ...NONE, from: '0016-02-01T00:00', to: '0099-12-31T23:00Z' });
    expect(parsed.problems).toEqual({});
    // '0016-02-01 00:00'::timestamp AT TIME ZONE 'America/New_York': New York's offset before 1883 is -4:56:02.
    expect(parsed.filter?.pickupAt?.gte).toBe('0016-02-01T04:56:02.000Z');
    expect(parsed.filter?.pickupAt?.lt).toBe('0099-12-31T23:00:00.000Z');
    // Year 1, whose day before is in 1 BC (Intl's year "1" of the era BC): it was read about a year off.
    expect(parseFilters({ ...NONE, from: '0001-01-01T00:00' }).filter?.pickupAt?.gte).toBe('0001-01-01T04:56:02.000Z');
  });

  it('reads New York wall-clock times as PostgreSQL does, across both daylight-saving changes', () => {
    const at = (from: string) => parseFilters({ ...NONE, from }).filter?.pickupAt?.gte;
    expect(at('2016-02-01T07:30')).toBe('2016-02-01T12:30:00.000Z');
    expect(at('2016-07-01T07:30')).toBe('2016-07-01T11:30:00.000Z');
    // Skipped by the clocks: read with the offset before the change ('2016-03-13 02:30' AT TIME ZONE
    // 'America/New_York' is 07:30Z). It used to become 06:30Z, an hour before any reading of 02:30.
    expect(at('2016-03-13T02:30')).toBe('2016-03-13T07:30:00.000Z');
    expect(at('2016-03-13T01:59')).toBe('2016-03-13T06:59:00.000Z');
    expect(at('2016-03-13T03:00')).toBe('2016-03-13T07:00:00.000Z');
    // Repeated by the clocks: the later of the two, standard time, as PostgreSQL (it used to be the first, EDT).
    expect(at('2016-11-06T01:30')).toBe('2016-11-06T06:30:00.000Z');
    expect(at('2016-11-06T00:59')).toBe('2016-11-06T04:59:00.000Z');
    expect(at('2016-11-06T02:30')).toBe('2016-11-06T07:30:00.000Z');
  });
});
