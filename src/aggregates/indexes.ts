import type pg from 'pg';
import { qualified, quoteIdent } from '../db/sql-identifiers.js';

/**
 * Indexes the aggregate API (and the trips connection) want on the synced
 * table when a query cannot be answered from the rollup. Lakebase allows
 * CREATE INDEX on synced tables; the sync pipeline keeps them up to date.
 * Covering (INCLUDE) columns let Postgres answer from the index alone
 * (index-only scans) once autovacuum has marked the pages all-visible.
 * docs/aggregates.md shows the plans and pg_stat_statements figures behind each.
 */
export interface RecommendedIndex {
  /** Suffix of the index name; the full name is <table>_<suffix>. */
  suffix: string;
  keys: readonly string[];
  include: readonly string[];
  why: string;
}

export const RECOMMENDED_INDEXES: readonly RecommendedIndex[] = [
  {
    suffix: 'pickup_at_cov',
    keys: ['tpep_pickup_datetime'],
    include: ['pickup_zip', 'dropoff_zip', 'fare_amount', 'trip_distance', 'tpep_dropoff_datetime'],
    why: 'pickupAt ranges (a week, a month) of any aggregate; first/last pickup for the time-bucket cap; trips ordered by pickup time',
  },
  {
    suffix: 'pickup_zip_cov',
    keys: ['pickup_zip', 'tpep_pickup_datetime'],
    include: ['fare_amount', 'trip_distance', 'tpep_dropoff_datetime'],
    why: 'pickupZip filters (a borough is a ZIP list) and Zone.pickups, optionally with a pickupAt range',
  },
  {
    suffix: 'dropoff_zip_cov',
    keys: ['dropoff_zip', 'tpep_pickup_datetime'],
    include: ['fare_amount', 'trip_distance', 'tpep_dropoff_datetime'],
    why: 'dropoffZip filters and Zone.dropoffs, optionally with a pickupAt range',
  },
  {
    suffix: 'fare_cov',
    keys: ['fare_amount'],
    include: ['trip_distance', 'tpep_pickup_datetime', 'tpep_dropoff_datetime', 'pickup_zip', 'dropoff_zip'],
    why: 'fareAmount ranges that the rollup cannot answer (combined with other conditions)',
  },
];

export function indexName(table: string, index: RecommendedIndex): string {
  // Postgres truncates identifiers to 63 bytes; keep the distinguishing suffix.
  return `${table.slice(0, 62 - index.suffix.length)}_${index.suffix}`;
}

export function indexDdl(schema: string, table: string, index: RecommendedIndex): string {
  const include = index.include.length ? ` INCLUDE (${index.include.map(quoteIdent).join(', ')})` : '';
  return (
    `CREATE INDEX CONCURRENTLY IF NOT EXISTS ${quoteIdent(indexName(table, index))} ` +
    `ON ${qualified(schema, table)} (${index.keys.map(quoteIdent).join(', ')})${include}`
  );
}

export type IndexOutcome = 'created' | 'present' | 'rebuilt';

/**
 * Creates the recommended indexes, one at a time, without blocking the sync
 * pipeline's writes (CONCURRENTLY). Idempotent: a valid index is left alone;
 * an invalid one, left behind by an interrupted concurrent build, is dropped
 * and built again (IF NOT EXISTS alone would keep the broken one forever).
 */
export async function createRecommendedIndexes(
  pool: pg.Pool,
  schema: string,
  table: string,
  log: (line: string) => void = () => {},
): Promise<Record<string, IndexOutcome>> {
  const outcomes: Record<string, IndexOutcome> = {};
  for (const index of RECOMMENDED_INDEXES) {
    const name = indexName(table, index);
    const { rows } = await pool.query<{ valid: boolean }>(
      `SELECT i.indisvalid AS valid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
        WHERE c.relname = $1 AND c.relnamespace = $2::regnamespace`,
      [name, quoteIdent(schema)],
    );
    let outcome: IndexOutcome = 'created';
    if (rows[0]?.valid) {
      outcomes[name] = 'present';
      log(`${name}: present`);
      continue;
    }
    if (rows[0]) {
      log(`${name}: invalid (interrupted build); dropping it`);
      await pool.query(`DROP INDEX CONCURRENTLY IF EXISTS ${qualified(schema, name)}`);
      outcome = 'rebuilt';
    }
    const started = performance.now();
    log(`${name}: building (${index.why})`);
    await pool.query(indexDdl(schema, table, index));
    log(`${name}: ${outcome} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    outcomes[name] = outcome;
  }
  await pool.query(`ANALYZE ${qualified(schema, table)}`);
  return outcomes;
}
