/** Helpers for tests of the local sync pipeline (src/dev/pipeline). */
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from './database.js';
import { pipelineNames, relations, type PipelineNames, type SchedulingPolicy } from '../../src/dev/pipeline/names.js';
import { randomTrips } from '../../src/dev/pipeline/random-trips.js';
import { seedLocalPipeline } from '../../src/dev/pipeline/seed.js';
import { insertTrips } from '../../src/dev/pipeline/source-writes.js';
import { parseSyncNotification, SYNC_NOTIFY_CHANNEL, type SyncNotification } from '../../src/sync/sync-notification.js';

/**
 * createTestDatabase, plus an 'error' listener on its pool. drop() ends the
 * pool and at once runs DROP DATABASE ... WITH (FORCE); a connection still
 * closing at that moment receives the termination as an error event, and an
 * unheard pool 'error' event fails the run. (Race in the shared harness.)
 */
export async function createPipelineTestDatabase(label: string): Promise<TestDatabase> {
  const db = await createTestDatabase(label);
  db.pool.on('error', () => undefined);
  return db;
}

/** A pool for a worker under test, its application_name letting tests find its backends. */
export function createWorkerPool(url: string, applicationName = 'pipeline-test-worker'): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 3, application_name: applicationName });
  pool.on('error', () => undefined);
  return pool;
}

let counter = 0;

/** Fresh source/synced schemas per test, so tests in one database never share tables. */
export function uniqueNames(label: string, overrides: Partial<PipelineNames> = {}): PipelineNames {
  counter++;
  return pipelineNames({
    sourceSchema: `src_${label}_${counter}`,
    syncedSchema: `syn_${label}_${counter}`,
    ...overrides,
  });
}

/** Fresh source and synced tables holding `count` random trips (ids from 1), synced once by the seed's snapshot. */
export async function seedRandomTrips(
  db: pg.Pool,
  label: string,
  options: { policy: SchedulingPolicy; count: number; random: () => number },
): Promise<PipelineNames> {
  const names = uniqueNames(label);
  await seedLocalPipeline(db, {
    names,
    policy: options.policy,
    loadSource: async (client) => {
      await insertTrips(client, names, randomTrips(1n, options.count, { random: options.random }));
    },
  });
  return names;
}

/** Rows in the source missing from the synced table and vice versa (EXCEPT both ways over all columns). */
export async function tableDifference(db: pg.Pool, names: PipelineNames): Promise<{ missing: number; extra: number }> {
  const r = relations(names);
  const { rows } = await db.query<{ missing: string; extra: string }>(
    `SELECT (SELECT count(*) FROM (SELECT * FROM ${r.source} EXCEPT SELECT * FROM ${r.synced}) m) AS missing,
            (SELECT count(*) FROM (SELECT * FROM ${r.synced} EXCEPT SELECT * FROM ${r.source}) e) AS extra`,
  );
  return { missing: Number(rows[0]?.missing), extra: Number(rows[0]?.extra) };
}

export async function countRows(db: pg.Pool, table: string): Promise<number> {
  const { rows } = await db.query<{ count: string }>(`SELECT count(*) AS count FROM ${table}`);
  return Number(rows[0]?.count);
}

export async function headVersion(db: pg.Pool, names: PipelineNames): Promise<number> {
  const { rows } = await db.query<{ v: string }>(`SELECT max(version) AS v FROM ${relations(names).commits}`);
  return Number(rows[0]?.v);
}

/**
 * Collects NOTIFYs on the sync channel for one synced table. `next` resolves
 * with the first notification (already received or future) matching.
 */
export class SyncListener {
  readonly received: SyncNotification[] = [];
  private waiters: { match: (n: SyncNotification) => boolean; resolve: (n: SyncNotification) => void }[] = [];

  private constructor(
    private readonly client: pg.Client,
    private readonly names: PipelineNames,
  ) {}

  static async start(url: string, names: PipelineNames): Promise<SyncListener> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const listener = new SyncListener(client, names);
    client.on('notification', (message) => listener.onMessage(message));
    await client.query(`LISTEN ${SYNC_NOTIFY_CHANNEL}`);
    return listener;
  }

  next(match: (n: SyncNotification) => boolean, timeoutMs = 20_000): Promise<SyncNotification> {
    const found = this.received.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching sync notification within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        match,
        resolve: (n) => {
          clearTimeout(timer);
          resolve(n);
        },
      });
    });
  }

  /** Resolves once a sync notification reports the synced table at `version` or later. */
  syncedTo(version: number): Promise<SyncNotification> {
    return this.next((n) => n.event === 'sync' && n.version !== null && n.version >= version);
  }

  close(): Promise<void> {
    return this.client.end();
  }

  private onMessage(message: pg.Notification): void {
    const notification = parseSyncNotification(message.payload);
    if (
      !notification ||
      notification.schema !== this.names.syncedSchema ||
      notification.table !== this.names.syncedTable
    ) {
      return;
    }
    this.received.push(notification);
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.match(notification)) return true;
      waiter.resolve(notification);
      return false;
    });
  }
}

/** Polls a condition (each poll is a query, not a clock assertion) until it holds. */
export async function eventually<T>(
  probe: () => Promise<T>,
  accept: (value: T) => boolean,
  description: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!accept(last)) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${description}; last value ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
    last = await probe();
  }
  return last;
}

/**
 * Makes every INSERT statement into the synced table wait while the gate is
 * closed (a statement trigger blocks on an advisory lock the test holds), so a
 * test can look at the database while a sync is provably in mid-flight.
 */
export class InsertGate {
  private constructor(
    private readonly holder: pg.Client,
    private readonly pool: pg.Pool,
    private readonly key: number,
  ) {}

  /** With rowsAbove, only statements that leave more rows than that in the table wait. */
  static async close(
    url: string,
    pool: pg.Pool,
    names: PipelineNames,
    key: number,
    rowsAbove = -1,
  ): Promise<InsertGate> {
    const synced = relations(names).synced;
    await pool.query(`
      CREATE OR REPLACE FUNCTION public.test_insert_gate_${key}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF (SELECT count(*) FROM ${synced}) <= ${rowsAbove} THEN RETURN NULL; END IF;
        PERFORM pg_advisory_lock_shared(${key});
        PERFORM pg_advisory_unlock_shared(${key});
        RETURN NULL;
      END $$;
      CREATE OR REPLACE TRIGGER test_insert_gate AFTER INSERT ON ${synced}
        FOR EACH STATEMENT EXECUTE FUNCTION public.test_insert_gate_${key}();`);
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    await holder.query(`SELECT pg_advisory_lock(${key})`);
    return new InsertGate(holder, pool, key);
  }

  /** Resolves with the pid of the backend once one is waiting at the gate. */
  async waitForArrival(): Promise<number> {
    const pid = await eventually(
      async () => {
        const { rows } = await this.pool.query<{ pid: number }>(
          `SELECT l.pid FROM pg_locks l
            WHERE l.locktype = 'advisory' AND NOT l.granted AND l.objid = $1::oid AND l.objsubid = 1`,
          [this.key],
        );
        return rows[0]?.pid ?? null;
      },
      (found) => found !== null,
      'a sync to reach the insert gate',
    );
    return pid as number;
  }

  /** Idempotent, so tests can call it again in a finally block. */
  async open(): Promise<void> {
    if (this.opened) return;
    this.opened = true;
    await this.holder.query(`SELECT pg_advisory_unlock(${this.key})`);
    await this.holder.end();
  }

  private opened = false;
}
