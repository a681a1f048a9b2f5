/**
 * COPY FROM STDIN into the synced trips table, fed by any source of COPY text
 * chunks (the synthetic generator, the CSV converter).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import pgCopyStreams from 'pg-copy-streams';
import { qualified, quoteIdent } from '../../db/sql-identifiers.js';
import { TRIP_DATA_COLUMNS } from '../../db/tables.js';

export interface TripsTable {
  schema: string;
  table: string;
}

export const TRIP_COPY_COLUMNS = ['id', ...TRIP_DATA_COLUMNS] as const;

export interface CopyOptions {
  /**
   * COPY ... FREEZE: rows are written already frozen, sparing the first
   * VACUUM a rewrite of every page. Postgres only allows it when the table was
   * created or truncated in the same transaction.
   */
  freeze?: boolean;
}

/** Streams COPY text chunks (columns TRIP_COPY_COLUMNS) into the table; returns the rows Postgres reports. */
export async function copyTripText(
  client: pg.ClientBase,
  target: TripsTable,
  chunks: Iterable<Buffer> | AsyncIterable<Buffer>,
  options: CopyOptions = {},
): Promise<number> {
  const columns = TRIP_COPY_COLUMNS.map(quoteIdent).join(', ');
  const sql = `COPY ${qualified(target.schema, target.table)} (${columns}) FROM STDIN${options.freeze ? ' WITH (FREEZE)' : ''}`;
  const copy = client.query(pgCopyStreams.from(sql));
  // Chunks are ~1 MiB; two in flight keep the socket busy without buffering the load in memory.
  await pipeline(Readable.from(chunks, { highWaterMark: 2 }), copy);
  return copy.rowCount;
}

export interface LoadResult {
  rows: number;
  elapsedMs: number;
  rowsPerSecond: number;
}

export function loadResult(rows: number, startedAt: number): LoadResult {
  const elapsedMs = performance.now() - startedAt;
  return { rows, elapsedMs, rowsPerSecond: elapsedMs > 0 ? (rows / elapsedMs) * 1000 : 0 };
}
