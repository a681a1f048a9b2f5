import { sql, type SqlBool } from 'kysely';
import { cancellableBy } from '../db/cancellable-driver.js';
import type { Db } from '../db/database.js';

export interface ZoneRow {
  zip: number;
  /** Null where the ZIP is not in the reference list. */
  borough: string | null;
  neighborhood: string | null;
}

/** One statement for any number of ZIPs; unknown ZIPs come back with null borough, in input order. */
export async function findZonesByZips(db: Db, zips: readonly number[], signal?: AbortSignal): Promise<ZoneRow[]> {
  if (zips.length === 0) return [];
  const statement = db
    .selectFrom('zip_zones')
    .select(['zip', 'borough', 'neighborhood'])
    .where(sql<SqlBool>`zip = ANY(${zips}::int4[])`)
    .compile();
  const { rows } = await db.executeQuery(cancellableBy(statement, signal));
  const byZip = new Map(rows.map((row) => [row.zip, row]));
  return zips.map((zip) => byZip.get(zip) ?? { zip, borough: null, neighborhood: null });
}
