import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CsvParser, type CsvRecord } from '../src/dev/load/csv-parser.js';
import { loadTripsCsv, TripsCsvError } from '../src/dev/load/trips-csv.js';
import { ensureSyncedTable } from '../src/dev/synced-table.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

const target = { schema: 'default', table: 'trips_synced' };
const T = '"default".trips_synced';

/** Feeds the pieces to one parser and returns every record it emits. */
function parse(...pieces: string[]): CsvRecord[] {
  const parser = new CsvParser();
  const records: CsvRecord[] = [];
  const emit = (record: CsvRecord) => records.push(record);
  for (const piece of pieces) parser.push(piece, emit);
  parser.end(emit);
  return records;
}

describe('CsvParser', () => {
  const text = 'a,b,c\r\n"quoted, with comma","say ""hi""",3\r\n\r\n"multi\nline",,"x"\n' + 'last,row,"no newline"';
  const expected = [
    { fields: ['a', 'b', 'c'], line: 1 },
    { fields: ['quoted, with comma', 'say "hi"', '3'], line: 2 },
    { fields: ['multi\nline', '', 'x'], line: 4 },
    { fields: ['last', 'row', 'no newline'], line: 6 },
  ];

  it('parses quotes, doubled quotes, newlines in fields and CRLF, with the line each record starts on', () => {
    expect(parse(text)).toEqual(expected);
  });

  it('gives the same records however the text is split into chunks', () => {
    for (const size of [1, 2, 3, 7]) {
      const pieces = Array.from({ length: Math.ceil(text.length / size) }, (_, i) =>
        text.slice(i * size, i * size + size),
      );
      expect(parse(...pieces)).toEqual(expected);
    }
  });

  it('rejects malformed quoting with the line at fault', () => {
    expect(() => parse('a,b\nx"y,z\n')).toThrow(expect.objectContaining({ line: 2 }));
    expect(() => parse('a,b\n"x"y,z\n')).toThrow(/after the closing quote/);
    expect(() => parse('a,b\n1,"never closed\n')).toThrow(expect.objectContaining({ line: 2 }));
  });
});

describe('loadTripsCsv', () => {
  let db: TestDatabase;
  let dir: string;
  const write = async (name: string, content: string): Promise<string> => {
    const file = path.join(dir, name);
    await writeFile(file, content);
    return file;
  };
  const all = async () => (await db.pool.query(`SELECT * FROM ${T} ORDER BY id`)).rows;

  beforeAll(async () => {
    db = await createTestDatabase('trips_csv');
    await ensureSyncedTable(db.pool, target.schema, target.table);
    dir = await mkdtemp(path.join(os.tmpdir(), 'trips-csv-'));
  });
  beforeEach(() => db.pool.query(`TRUNCATE ${T}`));
  afterAll(async () => {
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads an export with its own column order, both timestamp styles and empty fields as NULL', async () => {
    const file = await write(
      'export.csv',
      '\uFEFFpickup_zip,tpep_pickup_datetime,fare_amount,tpep_dropoff_datetime,trip_distance,dropoff_zip\r\n' +
        '10001,2016-02-14T16:52:13.000+0000,9.5,2016-02-14T17:01:00.000+0000,1.3,10011\r\n' +
        '11430,2016-01-03 08:00:00,52.0,2016-01-03 08:41:30,17.25,\r\n' +
        ',2016-01-05T23:59:59Z,"7.0",2016-01-06T00:07:00-05:00,,10023\r\n',
    );
    const result = await loadTripsCsv(db.pool, { ...target, file });
    expect(result).toMatchObject({ rows: 3, ids: 'assigned' });
    expect(await all()).toEqual([
      {
        id: '1',
        tpep_pickup_datetime: new Date('2016-02-14T16:52:13Z'),
        tpep_dropoff_datetime: new Date('2016-02-14T17:01:00Z'),
        trip_distance: 1.3,
        fare_amount: 9.5,
        pickup_zip: 10001,
        dropoff_zip: 10011,
      },
      {
        id: '2',
        tpep_pickup_datetime: new Date('2016-01-03T08:00:00Z'),
        tpep_dropoff_datetime: new Date('2016-01-03T08:41:30Z'),
        trip_distance: 17.25,
        fare_amount: 52,
        pickup_zip: 11430,
        dropoff_zip: null,
      },
      {
        id: '3',
        tpep_pickup_datetime: new Date('2016-01-05T23:59:59Z'),
        tpep_dropoff_datetime: new Date('2016-01-06T05:07:00Z'),
        trip_distance: null,
        fare_amount: 7,
        pickup_zip: null,
        dropoff_zip: 10023,
      },
    ]);
  });

  it('uses an id column when the file has one, and startId otherwise', async () => {
    const header = 'tpep_pickup_datetime,tpep_dropoff_datetime,trip_distance,fare_amount,pickup_zip,dropoff_zip';
    const row = '2016-01-01 00:00:00,2016-01-01 00:10:00,2.0,9.0,10001,10002';
    await loadTripsCsv(db.pool, { ...target, file: await write('ids.csv', `id,${header}\n42,${row}\n7,${row}\n`) });
    expect((await all()).map((r) => r.id)).toEqual(['7', '42']);
    await loadTripsCsv(db.pool, {
      ...target,
      file: await write('no-ids.csv', `${header}\n${row}\n${row}\n`),
      startId: 100,
    });
    expect((await all()).map((r) => r.id)).toEqual(['7', '42', '100', '101']);
    const truncated = await loadTripsCsv(db.pool, {
      ...target,
      file: await write('one.csv', `${header}\n${row}\n`),
      truncate: true,
    });
    expect(truncated.rows).toBe(1);
    expect((await all()).map((r) => r.id)).toEqual(['1']);
  });

  it('rejects a bad value naming the file, line and column, and loads nothing', async () => {
    await db.pool.query(`INSERT INTO ${T} (id) VALUES (999)`);
    const file = await write(
      'bad.csv',
      'tpep_pickup_datetime,tpep_dropoff_datetime,trip_distance,fare_amount,pickup_zip,dropoff_zip\n' +
        '2016-01-01 00:00:00,2016-01-01 00:10:00,2.0,9.0,10001,10002\n' +
        '2016-01-01 00:00:00,2016-01-01 00:10:00,2.0,9.0,10001,10002\n' +
        '2016-01-01 00:00:00,2016-01-01 00:10:00,2.0,nine dollars,10001,10002\n',
    );
    const error = await loadTripsCsv(db.pool, { ...target, file, truncate: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TripsCsvError);
    expect(error).toMatchObject({ file, line: 4, column: 'fare_amount' });
    expect((error as Error).message).toBe(`${file}:4: column "fare_amount": expected a number, got "nine dollars"`);
    // The truncate was rolled back with the failed COPY.
    expect((await all()).map((r) => r.id)).toEqual(['999']);
  });

  it.each([
    [
      'a calendar date that does not exist',
      '2016-02-30 10:00:00',
      /:2: column "tpep_pickup_datetime": .* not a calendar date/,
    ],
    ['an hour of 24', '2016-02-01 24:00:00', /:2: column "tpep_pickup_datetime": .* not a valid time of day/],
    ['a timestamp in another format', '02/14/2016 16:52', /:2: column "tpep_pickup_datetime": expected a timestamp/],
  ])('rejects %s', async (_case, timestamp, message) => {
    const file = await write(
      'bad-time.csv',
      `tpep_pickup_datetime,tpep_dropoff_datetime,trip_distance,fare_amount,pickup_zip,dropoff_zip\n${timestamp},,,,,\n`,
    );
    await expect(loadTripsCsv(db.pool, { ...target, file })).rejects.toThrow(message);
  });

  it('reports header and shape problems with the line', async () => {
    const cases: Array<[string, RegExp]> = [
      ['tpep_pickup_datetime,trip_distance\n', /bad-shape\.csv:1: the header has no column "tpep_dropoff_datetime"/],
      [
        'id,tpep_pickup_datetime,tpep_dropoff_datetime,trip_distance,fare_amount,pickup_zip,dropoff_zip,tip\n',
        /:1: unknown column "tip"/,
      ],
      [
        'tpep_pickup_datetime,tpep_dropoff_datetime,trip_distance,fare_amount,pickup_zip,dropoff_zip\n,,,,,\n,,,,\n',
        /bad-shape\.csv:3: expected 6 fields as in the header, got 5/,
      ],
      [
        'tpep_pickup_datetime,tpep_dropoff_datetime,trip_distance,fare_amount,pickup_zip,dropoff_zip\n,,,,99999999999,\n',
        /:2: column "pickup_zip": 99999999999 is out of range/,
      ],
      ['', /bad-shape\.csv:1: the file is empty/],
    ];
    for (const [content, message] of cases) {
      const file = await write('bad-shape.csv', content);
      await expect(loadTripsCsv(db.pool, { ...target, file })).rejects.toThrow(message);
    }
    expect(await all()).toEqual([]);
  });

  it('names the file when Postgres rejects the data (duplicate ids)', async () => {
    const file = await write(
      'dupes.csv',
      'id,tpep_pickup_datetime,tpep_dropoff_datetime,trip_distance,fare_amount,pickup_zip,dropoff_zip\n1,,,,,,\n1,,,,,,\n',
    );
    await expect(loadTripsCsv(db.pool, { ...target, file })).rejects.toThrow(
      new RegExp(
        `^${file.replace(/[.\\/]/g, '\\$&')}: COPY into "default"."trips_synced" failed: duplicate key.*line 2`,
      ),
    );
  });
});
