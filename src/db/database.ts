import { Kysely, type CompiledQuery } from 'kysely';
import type pg from 'pg';
import type { DatabaseConfig } from '../config/env.js';
import { ROLLUP_TABLE_NAMES, type Database } from './tables.js';
import { TableMappingPostgresDialect } from './table-mapping-compiler.js';

/**
 * Counts SQL statements the gateway sends. Batching guarantees ("a page of
 * 1,000 trips costs a bounded number of statements") are tested against it,
 * and the subscription feed reports statements per tick from it.
 */
export class StatementCounter {
  total = 0;
  errors = 0;
  /** Time spent in statements, as the driver measured it (metrics). */
  totalMs = 0;
  /** Sees each statement's outcome and duration (metrics, tracing). */
  onStatement: ((ok: boolean, ms: number, sql: string) => void) | undefined;
  record(ok: boolean, ms = 0, sql = ''): void {
    this.total += 1;
    this.totalMs += ms;
    if (!ok) this.errors += 1;
    this.onStatement?.(ok, ms, sql);
  }
}

export type Db = Kysely<Database>;

export function createDb(
  pool: pg.Pool,
  config: Pick<DatabaseConfig, 'schema' | 'table' | 'gatewaySchema'>,
  counter = new StatementCounter(),
  /** Sees every statement sent (benchmarks replay the gateway's exact SQL through plain pg). */
  onQuery?: (query: CompiledQuery) => void,
): Db {
  return new Kysely<Database>({
    dialect: new TableMappingPostgresDialect(pool, {
      trips: { schema: config.schema, table: config.table },
      zip_zones: { schema: config.gatewaySchema, table: 'zip_zones' },
      trip_rollup: { schema: config.gatewaySchema, table: ROLLUP_TABLE_NAMES.rollup },
      trip_rollup_state: { schema: config.gatewaySchema, table: ROLLUP_TABLE_NAMES.state },
      trip_changes: { schema: config.gatewaySchema, table: ROLLUP_TABLE_NAMES.changes },
    }),
    log: (event) => {
      counter.record(event.level === 'query', event.queryDurationMillis, event.query.sql);
      onQuery?.(event.query);
    },
  });
}
