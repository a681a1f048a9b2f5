/**
 * Bulk-loads synthetic trips with COPY, for development data and the 1M/10M
 * benchmarks. The table stays exactly as Lakebase holds it (logged, with its
 * bigint primary key); speed comes from generating COPY text directly and
 * streaming it in large chunks.
 */
import type pg from 'pg';
import { qualified } from '../../db/sql-identifiers.js';
import { DEFAULT_SAMPLE_SEED, tripCopyTextChunks } from '../sample/trip-generator.js';
import { inTransaction } from '../pipeline/transaction.js';
import { copyTripText, loadResult, type LoadResult, type TripsTable } from './copy-trips.js';

export interface SyntheticLoadOptions extends TripsTable {
  rows: number;
  seed?: number;
  /** Id of the first row; the rest follow consecutively. Default 1. */
  startId?: number;
  /** Empty the table first (in the same transaction as the first COPY, which then uses FREEZE). */
  truncate?: boolean;
  /** Chance that each non-key column is NULL (default 0). */
  nullRate?: number;
  /**
   * Rows per COPY statement, each committed on its own, so an interrupted large
   * load keeps what it finished. Default: everything in one COPY.
   */
  batchRows?: number;
  chunkBytes?: number;
  /** Called after each batch with the rows committed so far. */
  onProgress?: (loadedRows: number) => void;
}

export async function loadSyntheticTrips(pool: pg.Pool, options: SyntheticLoadOptions): Promise<LoadResult> {
  const startedAt = performance.now();
  const seed = options.seed ?? DEFAULT_SAMPLE_SEED;
  const startId = options.startId ?? 1;
  const batchRows = options.batchRows ?? Math.max(options.rows, 1);
  if (!Number.isSafeInteger(batchRows) || batchRows <= 0) {
    throw new RangeError(`batchRows must be a positive integer, got ${batchRows}`);
  }
  let loaded = 0;
  let first = true;
  // The do/while runs once even for 0 rows, so `truncate` still empties the table.
  do {
    const rows = Math.min(batchRows, options.rows - loaded);
    const truncate = first && options.truncate === true;
    const chunks = tripCopyTextChunks(
      { rows, seed, startId: startId + loaded, firstRow: loaded, nullRate: options.nullRate ?? 0 },
      options.chunkBytes,
    );
    const copied = await inTransaction(pool, async (client) => {
      if (truncate) await client.query(`TRUNCATE ${qualified(options.schema, options.table)}`);
      return copyTripText(client, options, chunks, { freeze: truncate });
    });
    if (copied !== rows) {
      throw new Error(
        `COPY into ${qualified(options.schema, options.table)} reported ${copied} rows, expected ${rows}`,
      );
    }
    loaded += rows;
    first = false;
    options.onProgress?.(loaded);
  } while (loaded < options.rows);
  return loadResult(loaded, startedAt);
}
