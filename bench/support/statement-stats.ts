/**
 * What the database saw during a measurement, from pg_stat_statements: how
 * many statements touched the table, how long Postgres spent on them, and
 * which distinct statements they were (queryid), so a benchmark can check that
 * the gateway and its baseline sent the same SQL and count statements per request.
 */
import type pg from 'pg';

export interface StatementStats {
  calls: number;
  /** Total execution time inside Postgres, ms. */
  execMs: number;
  queryIds: string[];
  /** Calls per queryid. */
  callsById: Map<string, number>;
}

export async function resetStatementStats(pool: pg.Pool): Promise<void> {
  await pool.query('SELECT pg_stat_statements_reset()');
}

/** Statements that mention `table` since the last reset (our own statistics queries excluded). */
export async function readStatementStats(pool: pg.Pool, table: string): Promise<StatementStats> {
  const { rows } = await pool.query<{ queryid: string; calls: string; total_exec_time: number }>(
    `SELECT queryid::text, calls::text, total_exec_time
       FROM pg_stat_statements
      WHERE query LIKE '%' || $1 || '%' AND query NOT LIKE '%pg_stat_statements%'
      ORDER BY calls DESC`,
    [table],
  );
  return {
    calls: rows.reduce((sum, row) => sum + Number(row.calls), 0),
    execMs: rows.reduce((sum, row) => sum + row.total_exec_time, 0),
    queryIds: rows.map((row) => row.queryid),
    callsById: new Map(rows.map((row) => [row.queryid, Number(row.calls)])),
  };
}
