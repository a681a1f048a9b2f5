/**
 * Change data retention of the emulated source (src/dev/pipeline/retention.ts):
 * old versions lose their row changes, a synced table already past them keeps
 * syncing incrementally, one still behind them gets a snapshot, and no row is
 * lost either way.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseDuration } from '../src/dev/commands/command.js';
import { LocalSyncSource } from '../src/dev/pipeline/local-sync-source.js';
import { relations, type PipelineNames } from '../src/dev/pipeline/names.js';
import { randomTrips, seededRandom } from '../src/dev/pipeline/random-trips.js';
import { DEFAULT_CHANGE_RETENTION_MS, expireChangeData } from '../src/dev/pipeline/retention.js';
import { deleteTrips, insertNewTrips, updateTrips } from '../src/dev/pipeline/source-writes.js';
import { SyncWorker } from '../src/dev/pipeline/worker.js';
import type { TestDatabase } from './support/database.js';
import {
  createPipelineTestDatabase,
  createWorkerPool,
  headVersion,
  seedRandomTrips,
  tableDifference,
} from './support/pipeline.js';

const random = seededRandom(7);
const WEEK = DEFAULT_CHANGE_RETENTION_MS;

describe('change data retention', () => {
  let db: TestDatabase;
  let workerPool: pg.Pool;
  beforeAll(async () => {
    db = await createPipelineTestDatabase('pipeline_retention');
    workerPool = createWorkerPool(db.url, 'pipeline-retention-worker');
  });
  afterAll(async () => {
    await workerPool.end();
    await db.drop();
  });

  async function seeded(): Promise<{ names: PipelineNames; source: LocalSyncSource }> {
    const names = await seedRandomTrips(db.pool, 'retention', { policy: 'TRIGGERED', count: 100, random });
    return { names, source: new LocalSyncSource(db.pool, { names }) };
  }

  async function sync(source: LocalSyncSource): Promise<void> {
    await source.startUpdate({ fullRefresh: false });
    await source.settled();
  }

  async function lastSyncWasSnapshot(names: PipelineNames): Promise<boolean> {
    const { rows } = await db.pool.query<{ snapshot: boolean }>(
      `SELECT snapshot FROM ${relations(names).history} WHERE synced_schema = $1 ORDER BY sync_end DESC LIMIT 1`,
      [names.syncedSchema],
    );
    return rows[0]!.snapshot;
  }

  /** Makes every version up to `version` look committed eight days ago. */
  async function age(names: PipelineNames, version: number): Promise<void> {
    await db.pool.query(
      `UPDATE ${relations(names).commits} SET committed_at = committed_at - interval '8 days' WHERE version <= $1`,
      [version],
    );
  }

  /** Versions in (after, upTo] that still hold change data, and their row changes. */
  async function held(names: PipelineNames, after: number, upTo: number) {
    const r = relations(names);
    const { rows } = await db.pool.query<{ versions: string; rows: string }>(
      `SELECT (SELECT count(*) FROM ${r.commits} WHERE version > $1 AND version <= $2 AND change_data_captured) AS versions,
              (SELECT count(*) FROM ${r.changes} ch JOIN ${r.commits} c ON c.txid = ch.txid
                WHERE c.version > $1 AND c.version <= $2) AS rows`,
      [after, upTo],
    );
    return { versions: Number(rows[0]!.versions), rows: Number(rows[0]!.rows) };
  }

  const newTrips = (first: bigint, count: number) => randomTrips(first, count, { random });

  it('drops old change data; a synced table already past it keeps syncing incrementally', async () => {
    const { names, source } = await seeded();
    await insertNewTrips(db.pool, names, 10, newTrips);
    await updateTrips(db.pool, names, { randomCount: 5 });
    await sync(source);
    const synced = await headVersion(db.pool, names);
    await insertNewTrips(db.pool, names, 10, newTrips);
    const head = await headVersion(db.pool, names);

    await age(names, synced);
    const old = await held(names, 0, synced);
    expect(old.versions).toBe(2);
    expect(old.rows).toBe(15);
    expect(await expireChangeData(db.pool, names, WEEK)).toEqual(old);
    expect(await held(names, 0, synced)).toEqual({ versions: 0, rows: 0 });
    expect(await held(names, synced, head)).toEqual({ versions: 1, rows: 10 }); // recent: kept
    expect(await expireChangeData(db.pool, names, WEEK)).toEqual({ versions: 0, rows: 0 });

    await sync(source);
    expect(await lastSyncWasSnapshot(names)).toBe(false);
    expect(await tableDifference(db.pool, names)).toEqual({ missing: 0, extra: 0 });
  });

  it('gives a synced table still behind the expired versions a snapshot, losing nothing', async () => {
    const { names, source } = await seeded();
    await insertNewTrips(db.pool, names, 10, newTrips);
    await deleteTrips(db.pool, names, { randomCount: 3 });
    await updateTrips(db.pool, names, { randomCount: 4 });
    const head = await headVersion(db.pool, names);
    await age(names, head - 1); // the insert and the delete expire; the update is recent

    expect(await expireChangeData(db.pool, names, WEEK)).toEqual({ versions: 2, rows: 13 });
    await sync(source);
    expect(await lastSyncWasSnapshot(names)).toBe(true);
    expect(await tableDifference(db.pool, names)).toEqual({ missing: 0, extra: 0 });
  });

  it('is run by the sync worker on its first pass, unless turned off', async () => {
    const kept = await seeded();
    const dropped = await seeded();
    for (const { names } of [kept, dropped]) {
      await insertNewTrips(db.pool, names, 10, newTrips);
      await age(names, await headVersion(db.pool, names));
    }
    const workers = [
      new SyncWorker(workerPool, { names: kept.names, intervalMs: 3_600_000, changeRetentionMs: null }),
      new SyncWorker(workerPool, { names: dropped.names, intervalMs: 3_600_000 }),
    ];
    try {
      for (const worker of workers) await worker.start();
      await vi.waitFor(() => expect(workers.every((worker) => worker.completedPasses > 0)).toBe(true), {
        timeout: 20_000,
      });
      expect(await held(kept.names, 0, await headVersion(db.pool, kept.names))).toEqual({ versions: 1, rows: 10 });
      expect(await held(dropped.names, 0, await headVersion(db.pool, dropped.names))).toEqual({
        versions: 0,
        rows: 0,
      });
    } finally {
      for (const worker of workers) await worker.stop();
    }
  });

  it('names a bad retention', async () => {
    const { names } = await seeded();
    await expect(expireChangeData(db.pool, names, -1)).rejects.toThrow(/retention must be a duration of 0 ms or more/);
    expect(parseDuration('7d', '--retention')).toBe(WEEK);
    expect(parseDuration('12h', '--retention')).toBe(12 * 3_600_000);
    expect(() => parseDuration('7 days', '--retention')).toThrow(/--retention: expected a duration like/);
  });
});
