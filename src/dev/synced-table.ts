/**
 * Local-development only: creates the synced table the way Lakebase holds it
 * (the sync pipeline creates it in production; the gateway never does).
 */
import type pg from 'pg';
import { quoteIdent } from '../db/sql-identifiers.js';

export function syncedTableDdl(schema: string, table: string): string {
  const qualified = `${quoteIdent(schema)}.${quoteIdent(table)}`;
  return `
    CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)};
    CREATE TABLE IF NOT EXISTS ${qualified} (
      id bigint PRIMARY KEY,
      tpep_pickup_datetime timestamptz,
      tpep_dropoff_datetime timestamptz,
      trip_distance double precision,
      fare_amount double precision,
      pickup_zip integer,
      dropoff_zip integer
    );`;
}

export async function ensureSyncedTable(client: pg.ClientBase | pg.Pool, schema: string, table: string): Promise<void> {
  await client.query(syncedTableDdl(schema, table));
}
