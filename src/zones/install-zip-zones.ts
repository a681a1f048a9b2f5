/**
 * Installs the shipped ZIP reference data into the gateway's own schema at
 * startup: a step of the gateway schema installer (db/gateway-schema), which
 * runs it under the schema's advisory lock.
 */
import { Kysely, PostgresDialect, sql } from 'kysely';
import type pg from 'pg';
import { installGatewaySchema, type SchemaStep } from '../db/gateway-schema/installer.js';
import { qualified } from '../db/sql-identifiers.js';
import type { Database } from '../db/tables.js';
import { silentLogger, type Logger } from '../logger.js';
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

/** The ZIP table and its rows, mirroring this version's list. */
export function zipZonesStep(zones: readonly ZipZone[] = NYC_ZIP_ZONES): SchemaStep<ZipZonesInstall> {
  return {
    name: 'zip zones',
    async run(trx, gatewaySchema) {
      const table = qualified(gatewaySchema, ZIP_ZONES_TABLE);
      await sql
        .raw(
          `CREATE TABLE IF NOT EXISTS ${table} (
             zip integer PRIMARY KEY,
             borough text NOT NULL,
             neighborhood text NOT NULL
           )`,
        )
        .execute(trx);
      // One statement: upsert the shipped rows and drop ZIPs the list no longer
      // has, so the table always mirrors this version of the gateway. Unchanged
      // rows are left alone (no dead tuples on every restart).
      const zips = zones.map((z) => z.zip);
      const { rows } = await sql<{ inserted: string; updated: string; deleted: string }>`
        WITH shipped AS (
          SELECT * FROM unnest(${zips}::integer[], ${zones.map((z) => z.borough)}::text[],
                               ${zones.map((z) => z.neighborhood)}::text[]) AS s(zip, borough, neighborhood)
        ),
        upserted AS (
          INSERT INTO ${sql.raw(table)} AS z (zip, borough, neighborhood)
          SELECT zip, borough, neighborhood FROM shipped
          ON CONFLICT (zip) DO UPDATE SET borough = EXCLUDED.borough, neighborhood = EXCLUDED.neighborhood
            WHERE (z.borough, z.neighborhood) IS DISTINCT FROM (EXCLUDED.borough, EXCLUDED.neighborhood)
          RETURNING (xmax = 0) AS inserted
        ),
        deleted AS (
          DELETE FROM ${sql.raw(table)} WHERE zip <> ALL (${zips}::integer[]) RETURNING 1
        )
        SELECT (SELECT count(*) FROM upserted WHERE inserted) AS inserted,
               (SELECT count(*) FROM upserted WHERE NOT inserted) AS updated,
               (SELECT count(*) FROM deleted) AS deleted`.execute(trx);
      const counts = rows[0];
      if (!counts) throw new Error(`installZipZones: no result from upsert into ${table}`);
      return {
        total: zones.length,
        inserted: Number(counts.inserted),
        updated: Number(counts.updated),
        deleted: Number(counts.deleted),
      };
    },
    summary: (result) => ({ ...result }),
  };
}

/** Installs the ZIP table alone (tests, tools); the gateway installs it with the rest of its schema. */
export async function installZipZones(
  pool: pg.Pool,
  gatewaySchema: string,
  zones: readonly ZipZone[] = NYC_ZIP_ZONES,
  logger: Pick<Logger, 'info'> = silentLogger,
): Promise<ZipZonesInstall> {
  // Not destroyed: that would end the caller's pool.
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const [result] = await installGatewaySchema(db, gatewaySchema, [zipZonesStep(zones)], logger);
  return result;
}
