import type pg from 'pg';

export type Queryable = pg.ClientBase | pg.Pool;

/** RFC 3339 with microseconds, as Databricks timestamps may carry. Fixed width, so strings sort by time. */
export const isoTimestamp = (column: string): string =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
