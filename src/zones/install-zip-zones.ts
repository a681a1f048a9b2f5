/**
 * Installs the shipped ZIP reference data into the gateway's own schema at
 * startup. Several gateway instances may start at once (Databricks Apps
 * rolling deploys, two local processes), so the whole install runs under a
 * transaction-level advisory lock: CREATE SCHEMA/TABLE IF NOT EXISTS alone
 * still races on the catalog's unique indexes.
 */
import type pg from 'pg';
import { qualified, quoteIdent } from '../db/sql-identifiers.js';
import { NYC_ZIP_ZONES, type ZipZone } from './nyc-zip-codes.js';

export const ZIP_ZONES_TABLE = 'zip_zones';

export interface ZipZonesInstall {
  /** Rows in the table after the install. */
  total: number;
  inserted: number;
  updated: number;
  /** Rows removed because the shipped list no longer has their ZIP. */
  deleted: number;
}

export async function installZipZones(
  pool: pg.Pool,
  gatewaySchema: string,
  zones: readonly ZipZone[] = NYC_ZIP_ZONES,
): Promise<ZipZonesInstall> {
  const table = qualified(gatewaySchema, ZIP_ZONES_TABLE);
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`lakebase-graphql install ${table}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(gatewaySchema)}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${table} (
         zip integer PRIMARY KEY,
         borough text NOT NULL,
         neighborhood text NOT NULL
       )`,
    );
    // One statement: upsert the shipped rows and drop ZIPs the list no longer
    // has, so the table always mirrors this version of the gateway. Unchanged
    // rows are left alone (no dead tuples on every restart).
    const { rows } = await client.query<{ inserted: string; updated: string; deleted: string }>(
      `WITH shipped AS (
         SELECT * FROM unnest($1::integer[], $2::text[], $3::text[]) AS s(zip, borough, neighborhood)
       ),
       upserted AS (
         INSERT INTO ${table} AS z (zip, borough, neighborhood)
         SELECT zip, borough, neighborhood FROM shipped
         ON CONFLICT (zip) DO UPDATE SET borough = EXCLUDED.borough, neighborhood = EXCLUDED.neighborhood
           WHERE (z.borough, z.neighborhood) IS DISTINCT FROM (EXCLUDED.borough, EXCLUDED.neighborhood)
         RETURNING (xmax = 0) AS inserted
       ),
       deleted AS (
         DELETE FROM ${table} WHERE zip <> ALL ($1::integer[]) RETURNING 1
       )
       SELECT (SELECT count(*) FROM upserted WHERE inserted) AS inserted,
              (SELECT count(*) FROM upserted WHERE NOT inserted) AS updated,
              (SELECT count(*) FROM deleted) AS deleted`,
      [zones.map((z) => z.zip), zones.map((z) => z.borough), zones.map((z) => z.neighborhood)],
    );
    await client.query('COMMIT');
    const counts = rows[0];
    if (!counts) throw new Error(`installZipZones: no result from upsert into ${table}`);
    return {
      total: zones.length,
      inserted: Number(counts.inserted),
      updated: Number(counts.updated),
      deleted: Number(counts.deleted),
    };
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    throw error;
  } finally {
    // A connection that cannot even roll back is discarded, not returned to the pool.
    client.release(broken);
  }
}
