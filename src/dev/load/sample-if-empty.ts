/**
 * Development bootstrap: the first start on an empty synced table loads the
 * default synthetic sample, later starts leave the data alone. Two processes
 * starting together must not both load it, so the check and the load happen
 * in one transaction under an advisory lock.
 */
import type pg from 'pg';
import { qualified } from '../../db/sql-identifiers.js';
import { DEFAULT_SAMPLE_ROWS, DEFAULT_SAMPLE_SEED, tripCopyTextChunks } from '../sample/trip-generator.js';
import { inTransaction } from '../pipeline/transaction.js';
import { copyTripText, type TripsTable } from './copy-trips.js';

export type SampleBootstrap =
  | { action: 'loaded'; rows: number; seed: number; elapsedMs: number }
  | { action: 'skipped'; reason: 'table not empty' };

/** Loads the default sample (DEFAULT_SAMPLE_ROWS trips, fixed seed) when the table has no rows. The table must exist. */
export async function loadSampleIfEmpty(pool: pg.Pool, target: TripsTable): Promise<SampleBootstrap> {
  const startedAt = performance.now();
  const table = qualified(target.schema, target.table);
  return inTransaction(pool, async (client): Promise<SampleBootstrap> => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`lakebase-graphql sample ${table}`]);
    const { rows } = await client.query<{ has_rows: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${table}) AS has_rows`);
    if (rows[0]?.has_rows) return { action: 'skipped', reason: 'table not empty' };
    const chunks = tripCopyTextChunks({ rows: DEFAULT_SAMPLE_ROWS, seed: DEFAULT_SAMPLE_SEED });
    const copied = await copyTripText(client, target, chunks);
    return { action: 'loaded', rows: copied, seed: DEFAULT_SAMPLE_SEED, elapsedMs: performance.now() - startedAt };
  });
}
