import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/env.js';
import { createPool } from '../src/db/pool.js';
import { silentLogger } from '../src/logger.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

describe('the gateway pool', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase('db_pool');
  });
  afterAll(() => database.drop());

  it('survives a checked-out connection dying between two statements; the holder learns of it on its next query', async () => {
    const pool = createPool(loadConfig({ DATABASE_URL: database.url }).database!, { logger: silentLogger });
    try {
      const client = await pool.connect();
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const ended = new Promise((resolve) => client.once('end', resolve));
      // No query is running on it: pg reports the loss as an 'error' event on the client. Without a
      // listener that event is an uncaught exception, which ends the process (vitest fails the run).
      await database.pool.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      await ended;
      await expect(client.query('SELECT 1')).rejects.toThrow();
      client.release(true);
      expect((await pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
    } finally {
      await pool.end();
    }
  });
});
