/**
 * Loads a CSV export of samples.nyctaxi.trips (columns as exported:
 * tpep_pickup_datetime, tpep_dropoff_datetime, trip_distance, fare_amount,
 * pickup_zip, dropoff_zip, in any order) into the synced table with COPY.
 * The export has no id column: ids are assigned 1..N in file order, unless the
 * file has an `id` column, which is then used.
 */
import { createReadStream } from 'node:fs';
import type pg from 'pg';
import { qualified } from '../../db/sql-identifiers.js';
import { TRIP_DATA_COLUMNS } from '../../db/tables.js';
import { inTransaction } from '../pipeline/transaction.js';
import { copyTripText, loadResult, type LoadResult, type TripsTable } from './copy-trips.js';
import { CsvParser, CsvSyntaxError, type CsvRecord } from './csv-parser.js';
import {
  doubleValue,
  idValue,
  integerValue,
  nullable,
  timestampValue,
  ValueError,
  type ValueConverter,
} from './trip-csv-values.js';
import { errorMessage } from '../../errors.js';

export interface CsvLoadOptions extends TripsTable {
  file: string;
  /** Empty the table first, in the same transaction. */
  truncate?: boolean;
  /** First id assigned when the file has no id column (default 1). */
  startId?: number;
}

export interface CsvLoadResult extends LoadResult {
  /** Where the ids came from. */
  ids: 'file' | 'assigned';
}

/** Bad input in the CSV file, with the position at fault. */
export class TripsCsvError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: string | undefined,
    detail: string,
  ) {
    super(`${file}:${line}: ${column === undefined ? '' : `column "${column}": `}${detail}`);
    this.name = 'TripsCsvError';
  }
}

const CONVERTERS: Record<(typeof TRIP_DATA_COLUMNS)[number], ValueConverter> = {
  tpep_pickup_datetime: nullable(timestampValue),
  tpep_dropoff_datetime: nullable(timestampValue),
  trip_distance: nullable(doubleValue),
  fare_amount: nullable(doubleValue),
  pickup_zip: nullable(integerValue),
  dropoff_zip: nullable(integerValue),
};

interface Layout {
  /** Index in the CSV record of each TRIP_DATA_COLUMNS entry. */
  positions: number[];
  idPosition: number | undefined;
  width: number;
}

function readHeader(file: string, header: CsvRecord): Layout {
  const names = header.fields.map((name, i) => (i === 0 ? name.replace(/^\uFEFF/, '') : name).trim().toLowerCase());
  const known = new Set<string>(['id', ...TRIP_DATA_COLUMNS]);
  names.forEach((name, i) => {
    if (!known.has(name)) {
      throw new TripsCsvError(
        file,
        header.line,
        undefined,
        `unknown column "${name}" in the header; expected ${[...known].join(', ')}`,
      );
    }
    if (names.indexOf(name) !== i) {
      throw new TripsCsvError(file, header.line, undefined, `column "${name}" appears twice in the header`);
    }
  });
  const positions = TRIP_DATA_COLUMNS.map((column) => {
    const at = names.indexOf(column);
    if (at < 0) throw new TripsCsvError(file, header.line, undefined, `the header has no column "${column}"`);
    return at;
  });
  const id = names.indexOf('id');
  return { positions, idPosition: id < 0 ? undefined : id, width: names.length };
}

const CHUNK_BYTES = 1 << 20;

/**
 * COPY text accumulated straight into byte buffers (no per-row strings to
 * join). Chunks need not end on a row boundary: COPY data is a byte stream.
 * Values written here are validated ASCII, so latin1 encoding is exact.
 */
class CopyTextChunks {
  readonly ready: Buffer[] = [];
  private buf = Buffer.allocUnsafe(CHUNK_BYTES);
  private pos = 0;

  write(text: string): void {
    if (this.pos + text.length > this.buf.length) this.flush();
    if (text.length > this.buf.length) {
      this.ready.push(Buffer.from(text, 'latin1'));
      return;
    }
    this.pos += this.buf.write(text, this.pos, 'latin1');
  }

  flush(): void {
    if (this.pos === 0) return;
    this.ready.push(this.buf.subarray(0, this.pos));
    this.buf = Buffer.allocUnsafe(CHUNK_BYTES);
    this.pos = 0;
  }
}

/** The file as COPY text chunks; throws TripsCsvError at the first bad line. */
async function* copyTextFromCsv(
  file: string,
  startId: number,
  onLayout: (layout: Layout) => void,
  counter: { rows: number },
): AsyncGenerator<Buffer> {
  const parser = new CsvParser();
  const out = new CopyTextChunks();
  let layout: Layout | undefined;
  let nextId = startId;
  const convert = (record: CsvRecord): void => {
    if (layout === undefined) {
      layout = readHeader(file, record);
      onLayout(layout);
      return;
    }
    if (record.fields.length !== layout.width) {
      throw new TripsCsvError(
        file,
        record.line,
        undefined,
        `expected ${layout.width} fields as in the header, got ${record.fields.length}`,
      );
    }
    let column = 'id';
    try {
      if (layout.idPosition === undefined) {
        out.write(String(nextId++));
      } else {
        const raw = (record.fields[layout.idPosition] as string).trim();
        if (raw === '') throw new ValueError('is empty; id is the primary key');
        out.write(idValue(raw));
      }
      for (let k = 0; k < TRIP_DATA_COLUMNS.length; k++) {
        column = TRIP_DATA_COLUMNS[k] as (typeof TRIP_DATA_COLUMNS)[number];
        const value = CONVERTERS[column as (typeof TRIP_DATA_COLUMNS)[number]](
          record.fields[layout.positions[k] as number] as string,
        );
        out.write(value === null ? '\t\\N' : '\t');
        if (value !== null) out.write(value);
      }
    } catch (error) {
      if (error instanceof ValueError) throw new TripsCsvError(file, record.line, column, error.message);
      throw error;
    }
    out.write('\n');
    counter.rows++;
  };
  try {
    for await (const text of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
      parser.push(text as string, convert);
      yield* out.ready.splice(0);
    }
    parser.end(convert);
  } catch (error) {
    if (error instanceof CsvSyntaxError) throw new TripsCsvError(file, error.line, undefined, error.message);
    throw error;
  }
  if (layout === undefined) throw new TripsCsvError(file, 1, undefined, 'the file is empty; expected a header line');
  out.flush();
  yield* out.ready.splice(0);
}

export async function loadTripsCsv(pool: pg.Pool, options: CsvLoadOptions): Promise<CsvLoadResult> {
  const startedAt = performance.now();
  let ids: CsvLoadResult['ids'] = 'assigned';
  const counter = { rows: 0 };
  const chunks = copyTextFromCsv(
    options.file,
    options.startId ?? 1,
    (layout) => {
      ids = layout.idPosition === undefined ? 'assigned' : 'file';
    },
    counter,
  );
  const target = qualified(options.schema, options.table);
  const copied = await inTransaction(pool, async (client) => {
    if (options.truncate) await client.query(`TRUNCATE ${target}`);
    try {
      return await copyTripText(client, options, chunks, { freeze: options.truncate === true });
    } catch (error) {
      if (error instanceof TripsCsvError) throw error;
      // Errors Postgres finds (a duplicate id) are reported with the file they came from;
      // COPY's "line n" counts data rows, so it is line n + 1 of the file when no field spans lines.
      const where = (error as { where?: string }).where;
      throw new Error(
        `${options.file}: COPY into ${target} failed: ${errorMessage(error)}${where ? ` (${where})` : ''}`,
        { cause: error },
      );
    }
  });
  if (copied !== counter.rows) {
    throw new Error(`${options.file}: COPY into ${target} reported ${copied} rows, the file has ${counter.rows}`);
  }
  return { ...loadResult(copied, startedAt), ids };
}
