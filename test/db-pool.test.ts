import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/env.js';
import { Kysely, PostgresDialect, sql, type Driver } from 'kysely';
import type pg from 'pg';
import { CancellableDriver } from '../src/db/cancellable-driver.js';
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

  it("gives a statement the server lets run no stall deadline: a rollup build's SET LOCAL statement_timeout = 0, a vacuum's SET", async () => {
    // The deadline is the server's statement_timeout plus a grace (200 ms here, 5 s in the gateway): past
    // it, a statement with no answer is taken for a stalled server. A build turns the timeout off for its
    // transaction, and must not be cut at the session's deadline.
    const pool = createPool(loadConfig({ DATABASE_URL: database.url, PG_STATEMENT_TIMEOUT_MS: '150' }).database!, {
      logger: silentLogger,
    });
    class Dialect extends PostgresDialect {
      override createDriver(): Driver {
        return new CancellableDriver(pool as pg.Pool, 200);
      }
    }
    const db = new Kysely<Record<string, never>>({ dialect: new Dialect({ pool }) });
    try {
      const slept = await db.transaction().execute(async (trx) => {
        await sql`SET LOCAL statement_timeout = 0`.execute(trx);
        return (await sql<{ done: boolean }>`SELECT true AS done FROM pg_sleep(0.6)`.execute(trx)).rows[0]!.done;
      });
      expect(slept).toBe(true);
      // After the transaction the session's timeout is back, and the server's own error comes first.
      await expect(sql`SELECT pg_sleep(0.6)`.execute(db)).rejects.toMatchObject({ code: '57014' });
      // The same for a session's SET, until RESET (the vacuum after a rollup rebuild).
      await db.connection().execute(async (connection) => {
        await sql`SET statement_timeout = 0`.execute(connection);
        await sql`SELECT pg_sleep(0.6)`.execute(connection);
        await sql`RESET statement_timeout`.execute(connection);
        await expect(sql`SELECT pg_sleep(0.6)`.execute(connection)).rejects.toMatchObject({ code: '57014' });
      });
      expect((await sql<{ one: number }>`SELECT 1 AS one`.execute(db)).rows[0]!.one).toBe(1);
    } finally {
      await db.destroy();
    }
  });
});
