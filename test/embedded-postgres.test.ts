import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSyncedTable } from '../src/dev/synced-table.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

describe('test harness', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('harness');
  });
  afterAll(() => db.drop());

  it('creates the synced table with the Lakebase column types', async () => {
    await ensureSyncedTable(db.pool, 'default', 'trips_synced');
    const { rows } = await db.pool.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns
        WHERE table_schema = 'default' AND table_name = 'trips_synced' ORDER BY ordinal_position`,
    );
    expect(rows).toEqual([
      { column_name: 'id', data_type: 'bigint' },
      { column_name: 'tpep_pickup_datetime', data_type: 'timestamp with time zone' },
      { column_name: 'tpep_dropoff_datetime', data_type: 'timestamp with time zone' },
      { column_name: 'trip_distance', data_type: 'double precision' },
      { column_name: 'fare_amount', data_type: 'double precision' },
      { column_name: 'pickup_zip', data_type: 'integer' },
      { column_name: 'dropoff_zip', data_type: 'integer' },
    ]);
  });
});
