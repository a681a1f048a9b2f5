import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/env.js';
import { createPool } from '../src/db/pool.js';
import { parseTimestamptz } from '../src/db/timestamptz-parser.js';
import { silentLogger } from '../src/logger.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

/** pg's own timestamptz parser (postgres-date), the reference. */
const parsePostgresDate = pg.types.getTypeParser(1184, 'text') as (text: string) => Date | number | null;

/** The parser's contract: whatever pg's default parser returns, as a comparable value. */
const asComparable = (value: Date | number | null): number | string | null =>
  value instanceof Date ? value.getTime() : value === null ? null : `number:${value}`;

function expectSameAsPg(text: string): void {
  const expected = asComparable(parsePostgresDate(text));
  expect({ text, value: asComparable(parseTimestamptz(text)) }).toEqual({ text, value: expected });
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

describe('parseTimestamptz', () => {
  it('reads what postgres-date reads, for every shape of ISO timestamptz Postgres prints', () => {
    let seed = 11;
    const next = (below: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor((seed / 2147483648) * below);
    };
    for (let i = 0; i < 20_000; i += 1) {
      const year = 100 + next(9900);
      const date = `${pad(year, 4)}-${pad(1 + next(12), 2)}-${pad(1 + next(28), 2)}`;
      const time = `${pad(next(24), 2)}:${pad(next(60), 2)}:${pad(next(60), 2)}`;
      const fractionDigits = next(7); // 0 = no fraction, as Postgres prints whole seconds
      const fraction = fractionDigits === 0 ? '' : `.${pad(next(10 ** fractionDigits), fractionDigits)}`;
      const sign = next(2) === 0 ? '+' : '-';
      const zoneParts = next(3); // ±HH, ±HH:MM, ±HH:MM:SS (local mean time)
      const zone =
        `${sign}${pad(next(16), 2)}` +
        (zoneParts >= 1 ? `:${pad(next(60), 2)}` : '') +
        (zoneParts === 2 ? `:${pad(next(60), 2)}` : '');
      expectSameAsPg(`${date} ${time}${fraction}${zone}`);
    }
  });

  it('truncates every fraction to milliseconds exactly as postgres-date does', () => {
    for (let micros = 0; micros < 1_000_000; micros += 7) {
      expectSameAsPg(`2016-03-04 05:06:07.${pad(micros, 6)}+00`);
    }
    for (let millis = 0; millis < 1000; millis += 1) {
      expectSameAsPg(`2016-03-04 05:06:07.${pad(millis, 3)}-05`);
    }
  });

  it('hands everything outside its shape to postgres-date and returns the same', () => {
    for (const text of [
      'infinity',
      '-infinity',
      '0099-01-01 00:00:00+00', // years 0–99: Date.UTC would make them 19xx
      '0001-01-01 00:00:00+00 BC',
      '2016-01-01 00:00:00+00 BC',
      '12016-01-01 00:00:00+00', // after 9999: five digits
      '2016-01-01 00:00:00Z',
      '2016-01-01 00:00:00',
      '2016-01-01 00:00:00.+00',
      '2016-01-01 00:00:00.1234567+00',
      '2016-01-01 00:00:00+5',
      '2016-01-01 00:00:00+05:3',
      '2016-01-01 00:00:00+05:30:',
      '2016-01-01 00:00:00+05:30 ',
      '2016-1-01 00:00:00+00',
      '2016-01-01T00:00:00+00',
      '2016-01-01',
      'Fri Jan 01 00:00:00 2016 UTC', // DateStyle Postgres
      '',
    ]) {
      expectSameAsPg(text);
    }
  });
});

describe('timestamptz through the gateway pool (real Postgres)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('timestamptz_parser');
  });
  afterAll(() => database.drop());

  it('gives the Dates plain pg gives, in zones with half hours, DST and local mean time', async () => {
    const config = loadConfig({ DATABASE_URL: database.url }).database!;
    const gateway = createPool(config, { logger: silentLogger });
    const plain = createPool(config, { logger: silentLogger, typeParsers: 'pg' });
    try {
      // Instants from 1850 (offsets in seconds before standard time) to 2040, with microseconds.
      const statement = `SELECT t AS value, t::text AS text
                           FROM generate_series(timestamptz '1850-01-01 00:00:00.123456+00',
                                                timestamptz '2040-01-01 00:00:00+00',
                                                interval '97 days 5 hours 7 minutes 11.000031 seconds') AS t
                          UNION ALL SELECT 'infinity', 'infinity' UNION ALL SELECT NULL, NULL`;
      for (const zone of ['UTC', 'Asia/Kolkata', 'America/St_Johns', 'Europe/Amsterdam', 'America/New_York']) {
        const read = async (pool: pg.Pool) => {
          const client = await pool.connect();
          try {
            await client.query(`SET TimeZone = '${zone}'`);
            return (await client.query<{ value: Date | number | null; text: string | null }>(statement)).rows;
          } finally {
            client.release();
          }
        };
        const [fast, slow] = await Promise.all([read(gateway), read(plain)]);
        expect(fast.length).toBeGreaterThan(700);
        expect(fast.map((row) => asComparable(row.value))).toEqual(slow.map((row) => asComparable(row.value)));
        // And the gateway's parser saw the text the database printed (not, say, a binary format).
        expect(fast.some((row) => row.text?.includes('.'))).toBe(true);
        expect(fast.find((row) => row.text?.startsWith('2016'))?.value).toBeInstanceOf(Date);
      }
    } finally {
      await Promise.all([gateway.end(), plain.end()]);
    }
  });
});
