import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecommendedIndexes, indexName, RECOMMENDED_INDEXES } from '../src/aggregates/indexes.js';
import { ensureSyncedTable } from '../src/dev/synced-table.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

describe('recommended indexes', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('agg_indexes');
    await ensureSyncedTable(database.pool, 'default', 'trips_synced');
  });
  afterAll(() => database.drop());

  async function validIndexes(): Promise<Map<string, boolean>> {
    const { rows } = await database.pool.query<{ name: string; valid: boolean }>(
      `SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i
         JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = '"default".trips_synced'::regclass`,
    );
    return new Map(rows.map((row) => [row.name, row.valid]));
  }

  it('creates each index once, and rebuilds one left invalid by an interrupted build', async () => {
    const names = RECOMMENDED_INDEXES.map((index) => indexName('trips_synced', index));
    const first = await createRecommendedIndexes(database.pool, 'default', 'trips_synced');
    expect(Object.values(first)).toEqual(names.map(() => 'created'));
    const indexes = await validIndexes();
    for (const name of names) expect(indexes.get(name), name).toBe(true);

    const again = await createRecommendedIndexes(database.pool, 'default', 'trips_synced');
    expect(Object.values(again)).toEqual(names.map(() => 'present'));

    // What a cancelled CREATE INDEX CONCURRENTLY leaves behind.
    await database.pool.query(`UPDATE pg_index SET indisvalid = false WHERE indexrelid = $1::regclass`, [
      `"default"."${names[1]}"`,
    ]);
    const repaired = await createRecommendedIndexes(database.pool, 'default', 'trips_synced');
    expect(repaired[names[1]!]).toBe('rebuilt');
    expect((await validIndexes()).get(names[1]!)).toBe(true);
  });
});
