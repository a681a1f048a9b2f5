import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CITY_PLACES } from '../src/dev/sample/zip-geography.js';
import { installZipZones } from '../src/zones/install-zip-zones.js';
import { BOROUGHS, NYC_ZIP_ZONES, zipZone } from '../src/zones/nyc-zip-codes.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

describe('NYC ZIP reference list', () => {
  it('has each ZIP once, a valid borough and a neighborhood for every entry', () => {
    const zips = NYC_ZIP_ZONES.map((zone) => zone.zip);
    expect(new Set(zips).size).toBe(zips.length);
    for (const zone of NYC_ZIP_ZONES) {
      expect(BOROUGHS).toContain(zone.borough);
      expect(zone.neighborhood.trim()).not.toBe('');
      expect(zone.zip).toBeGreaterThanOrEqual(10001);
      expect(zone.zip).toBeLessThanOrEqual(11697);
    }
  });

  it('follows the UHF grouping: 42 neighborhoods plus the two airports', () => {
    const neighborhoods = new Set(NYC_ZIP_ZONES.map((zone) => `${zone.borough}/${zone.neighborhood}`));
    expect(neighborhoods.size).toBe(44);
    expect(NYC_ZIP_ZONES.length).toBeGreaterThanOrEqual(178);
    const chelsea = NYC_ZIP_ZONES.filter((z) => z.neighborhood === 'Chelsea and Clinton').map((z) => z.zip);
    expect(chelsea).toEqual(expect.arrayContaining([10001, 10011, 10018, 10019, 10020, 10036]));
    expect(zipZone(10023)).toEqual({ zip: 10023, borough: 'Manhattan', neighborhood: 'Upper West Side' });
    expect(zipZone(11430)).toEqual({ zip: 11430, borough: 'Queens', neighborhood: 'JFK Airport' });
    expect(zipZone(11371)).toEqual({ zip: 11371, borough: 'Queens', neighborhood: 'LaGuardia Airport' });
    expect(zipZone(10167)?.neighborhood).toBe('Gramercy Park and Murray Hill');
    expect(zipZone(7114)).toBeUndefined();
  });

  it('is the same set of city ZIPs, in the same boroughs, as the sample generator uses', () => {
    const generator = new Map(CITY_PLACES.map((place) => [place.zip, place.borough]));
    const reference = new Map(NYC_ZIP_ZONES.map((zone) => [zone.zip, zone.borough]));
    expect([...generator].sort()).toEqual([...reference].sort());
  });
});

describe('installZipZones', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('zip_zones');
  });
  afterAll(() => db.drop());

  const contents = async (schema: string) =>
    (await db.pool.query(`SELECT zip, borough, neighborhood FROM "${schema}".zip_zones ORDER BY zip`)).rows;

  it('creates the table and installs every shipped row', async () => {
    const result = await installZipZones(db.pool, 'gateway');
    expect(result).toEqual({ total: NYC_ZIP_ZONES.length, inserted: NYC_ZIP_ZONES.length, updated: 0, deleted: 0 });
    expect(await contents('gateway')).toEqual(NYC_ZIP_ZONES.map((zone) => ({ ...zone })));
    const { rows } = await db.pool.query(
      `SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull
         FROM pg_attribute a WHERE a.attrelid = 'gateway.zip_zones'::regclass AND a.attnum > 0 ORDER BY a.attnum`,
    );
    expect(rows).toEqual([
      { attname: 'zip', type: 'integer', attnotnull: true },
      { attname: 'borough', type: 'text', attnotnull: true },
      { attname: 'neighborhood', type: 'text', attnotnull: true },
    ]);
  });

  it('is idempotent: a second install changes nothing', async () => {
    const before = await contents('gateway');
    const result = await installZipZones(db.pool, 'gateway');
    expect(result).toEqual({ total: NYC_ZIP_ZONES.length, inserted: 0, updated: 0, deleted: 0 });
    expect(await contents('gateway')).toEqual(before);
  });

  it('repairs edited rows and removes ZIPs the shipped list does not have', async () => {
    await db.pool.query(`UPDATE gateway.zip_zones SET neighborhood = 'Somewhere else' WHERE zip = 10001`);
    await db.pool.query(`INSERT INTO gateway.zip_zones VALUES (99999, 'Manhattan', 'Atlantis')`);
    const result = await installZipZones(db.pool, 'gateway');
    expect(result).toMatchObject({ inserted: 0, updated: 1, deleted: 1 });
    expect(await contents('gateway')).toEqual(NYC_ZIP_ZONES.map((zone) => ({ ...zone })));
  });

  it('survives concurrent installs from separate connections into a schema that needs quoting', async () => {
    const schema = 'Gateway "two"';
    const pools = [new pg.Pool({ connectionString: db.url }), new pg.Pool({ connectionString: db.url })];
    try {
      const results = await Promise.all([
        ...pools.map((pool) => installZipZones(pool, schema)),
        ...pools.map((pool) => installZipZones(pool, schema)),
      ]);
      expect(results.reduce((sum, r) => sum + r.inserted, 0)).toBe(NYC_ZIP_ZONES.length);
      const { rows } = await db.pool.query(`SELECT count(*)::int AS n FROM "Gateway ""two""".zip_zones`);
      expect(rows[0].n).toBe(NYC_ZIP_ZONES.length);
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });
});
