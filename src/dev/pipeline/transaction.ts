import type pg from 'pg';
import { sqlState } from '../../db/sql-state.js';

/** SQLSTATEs after which the whole transaction can simply run again. */
const RETRYABLE = new Set(['40001', '40P01']);

/**
 * A pooled connection with an error listener for as long as it is checked out:
 * pg emits 'error' on a checked-out client whose server goes away, and an
 * unheard 'error' event would crash the process. The failure still reaches the
 * caller through the pending query. release(true) destroys the connection.
 */
export async function checkout(pool: pg.Pool): Promise<{ client: pg.PoolClient; release(broken?: unknown): void }> {
  const client = await pool.connect();
  const ignore = () => undefined;
  client.on('error', ignore);
  return {
    client,
    release(broken?: unknown) {
      client.off('error', ignore);
      client.release(broken === undefined || broken === false ? undefined : brokenError(broken));
    },
  };
}

function brokenError(value: unknown): Error | boolean {
  return value instanceof Error ? value : true;
}

/** Runs fn inside BEGIN/COMMIT on a pooled connection; a connection whose ROLLBACK failed is destroyed. */
export function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return runTransaction(pool, 'BEGIN', 1, fn);
}

/**
 * Runs fn in a REPEATABLE READ transaction on a pooled connection, retrying
 * serialization failures and deadlocks. A connection that failed is destroyed,
 * not returned to the pool.
 */
export function inRepeatableRead<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return runTransaction(pool, 'BEGIN ISOLATION LEVEL REPEATABLE READ', 5, fn);
}

async function runTransaction<T>(
  pool: pg.Pool,
  begin: string,
  attempts: number,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const { client, release } = await checkout(pool);
    let broken: unknown;
    try {
      await client.query(begin);
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: unknown) => {
        broken = rollbackError;
      });
      if (attempt < attempts && RETRYABLE.has(sqlState(error) ?? '')) continue;
      throw error;
    } finally {
      release(broken);
    }
  }
}
