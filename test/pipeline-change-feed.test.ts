import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureChangeFeed } from '../src/dev/pipeline/change-feed-schema.js';
import { ensurePipelineSchema } from '../src/dev/pipeline/pipeline-schema.js';
import { relations, SOURCE_COMMIT_CHANNEL } from '../src/dev/pipeline/names.js';
import { lockWaiters, type TestDatabase } from './support/database.js';
import { createPipelineTestDatabase, uniqueNames } from './support/pipeline.js';

interface FeedRow {
  version: number;
  op: string;
  id: number;
  fare: number | null;
}

describe('source change feed', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createPipelineTestDatabase('pipeline_feed');
  });
  afterAll(() => db.drop());

  async function setup() {
    const names = uniqueNames('feed');
    await ensureChangeFeed(db.pool, names);
    const r = relations(names);
    const feed = async (): Promise<FeedRow[]> => {
      const { rows } = await db.pool.query<{ version: string; op: string; id: string; fare: number | null }>(
        `SELECT c.version, ch.op, ch.id, ch.fare_amount AS fare
           FROM ${r.changes} ch JOIN ${r.commits} c ON c.txid = ch.txid ORDER BY c.version, ch.seq`,
      );
      return rows.map((row) => ({ version: Number(row.version), op: row.op, id: Number(row.id), fare: row.fare }));
    };
    return { names, r, feed };
  }

  // Every `npm run data` command installs the feed, often while `npm run data -- stream` writes: a delete beside a
  // stream used to die with "deadlock detected" (the install held the commit log and waited for the source).
  it('is not installed again once in place, and installs beside an open writer without a deadlock', async () => {
    const { names, r, feed } = await setup();
    const writer = await db.pool.connect();
    try {
      await writer.query('BEGIN');
      await writer.query(`INSERT INTO ${r.source} (id, fare_amount) VALUES (100, 1)`);
      // In place: nothing to wait for, though the writer's transaction is open.
      const timedOut = Symbol('timed out');
      const inPlace = await Promise.race([
        ensureChangeFeed(db.pool, names).then(() => 'returned'),
        new Promise((resolve) => setTimeout(() => resolve(timedOut), 5_000)),
      ]);
      expect(inPlace).toBe('returned');

      // Another version in place (its mark differs): installed again, after the writer's commit.
      await db.pool.query(`COMMENT ON FUNCTION "${names.sourceSchema}".note_pending_commit(boolean) IS 'older'`);
      const installing = ensureChangeFeed(db.pool, names);
      for (let i = 0; i < 200 && (await lockWaiters(db.pool)).length === 0; i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      expect(await lockWaiters(db.pool)).toHaveLength(1);
      await writer.query('COMMIT');
      await installing;
    } finally {
      writer.release();
    }
    expect(await feed()).toEqual([{ version: 1, op: 'insert', id: 100, fare: 1 }]);
    const { rows } = await db.pool.query<{ mark: string }>(
      `SELECT obj_description(to_regprocedure($1), 'pg_proc') AS mark`,
      [`"${names.sourceSchema}".note_pending_commit(boolean)`],
    );
    expect(rows[0]?.mark).toMatch(/^lakebase-dev [0-9a-f]{16}$/);
  });

  // The worker's apply writes sync_history, then updates; the install's CREATE INDEX IF NOT EXISTS locked updates,
  // then waited for sync_history: any command started while a sync finished could die of a deadlock.
  it("leaves the pipeline's tables in place without a lock while a sync writes them, and recreates a dropped one", async () => {
    const names = uniqueNames('schema', { pipelineSchema: 'pipeline_install_once' });
    await ensurePipelineSchema(db.pool, names);
    const r = relations(names);
    const worker = await db.pool.connect();
    try {
      await worker.query('BEGIN');
      await worker.query(`LOCK TABLE ${r.history}, ${r.updates} IN ROW EXCLUSIVE MODE`);
      const timedOut = Symbol('timed out');
      const inPlace = await Promise.race([
        ensurePipelineSchema(db.pool, names).then(() => 'returned'),
        new Promise((resolve) => setTimeout(() => resolve(timedOut), 5_000)),
      ]);
      expect(inPlace).toBe('returned');
    } finally {
      await worker.query('ROLLBACK');
      worker.release();
    }
    await db.pool.query(`DROP INDEX "${names.pipelineSchema}".sync_history_table`);
    await ensurePipelineSchema(db.pool, names);
    const { rows } = await db.pool.query<{ present: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS present`, [
      `"${names.pipelineSchema}".sync_history_table`,
    ]);
    expect(rows[0]?.present).toBe(true);
  });

  it('is installed again when a part of it is gone (a trigger, the view, an index dropped)', async () => {
    const { names, r, feed } = await setup();
    await db.pool.query(`DROP TRIGGER capture_delete ON ${r.source}`);
    await db.pool.query(`DROP VIEW "${names.sourceSchema}".change_feed`);
    await db.pool.query(`DROP INDEX "${names.sourceSchema}".commits_change_data_age`);
    await ensureChangeFeed(db.pool, names);
    const { rows } = await db.pool.query<{ present: boolean }>(
      `SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL AS present`,
      [`"${names.sourceSchema}".change_feed`, `"${names.sourceSchema}".commits_change_data_age`],
    );
    expect(rows[0]?.present).toBe(true);
    await db.pool.query(`INSERT INTO ${r.source} (id, fare_amount) VALUES (7, 1)`);
    await db.pool.query(`DELETE FROM ${r.source} WHERE id = 7`);
    expect((await feed()).map((row) => row.op)).toEqual(['insert', 'delete']);
  });

  it('records one version per transaction with the net row changes, including id changes and TRUNCATE', async () => {
    const { r, feed } = await setup();
    await db.pool.query(`INSERT INTO ${r.source} (id, fare_amount) VALUES (1, 10), (2, 20), (3, 30)`);
    await db.pool.query(`BEGIN;
      UPDATE ${r.source} SET fare_amount = 11 WHERE id = 1;
      UPDATE ${r.source} SET id = 5 WHERE id = 2;
      DELETE FROM ${r.source} WHERE id = 3;
      COMMIT`);
    await db.pool.query(`UPDATE ${r.source} SET fare_amount = 0 WHERE id = 999`); // touches nothing: no version
    await db.pool.query(`TRUNCATE ${r.source}`);

    expect(await feed()).toEqual([
      { version: 1, op: 'insert', id: 1, fare: 10 },
      { version: 1, op: 'insert', id: 2, fare: 20 },
      { version: 1, op: 'insert', id: 3, fare: 30 },
      { version: 2, op: 'update', id: 1, fare: 11 },
      { version: 2, op: 'insert', id: 5, fare: 20 },
      { version: 2, op: 'delete', id: 2, fare: 20 },
      { version: 2, op: 'delete', id: 3, fare: 30 },
      { version: 3, op: 'delete', id: 1, fare: 11 },
      { version: 3, op: 'delete', id: 5, fare: 20 },
    ]);
    const { rows } = await db.pool.query<{ version: string; operation: string }>(
      `SELECT version, operation FROM ${r.commits} ORDER BY version`,
    );
    expect(rows.map((row) => [Number(row.version), row.operation])).toEqual([
      [0, 'CREATE TABLE'],
      [1, 'WRITE'],
      [2, 'WRITE'],
      [3, 'WRITE'],
    ]);
    expect(await db.pool.query(`SELECT * FROM ${r.pendingCommits}`).then((res) => res.rowCount)).toBe(0);
  });

  it('numbers versions in commit order, not in the order transactions began', async () => {
    const { r, feed } = await setup();
    const early = new pg.Client({ connectionString: db.url });
    await early.connect();
    try {
      await early.query('BEGIN');
      await early.query(`INSERT INTO ${r.source} (id) VALUES (100)`); // writes first...
      await db.pool.query(`INSERT INTO ${r.source} (id) VALUES (200)`); // ...but this commits first
      await early.query('COMMIT');
    } finally {
      await early.end();
    }
    expect((await feed()).map((row) => [row.version, row.id])).toEqual([
      [1, 200],
      [2, 100],
    ]);
  });

  it('leaves no trace of rolled-back writes, including rolled-back savepoints', async () => {
    const { r, feed } = await setup();
    await db.pool.query(`BEGIN; INSERT INTO ${r.source} (id) VALUES (1); ROLLBACK`);
    await db.pool.query(`BEGIN;
      INSERT INTO ${r.source} (id) VALUES (2);
      SAVEPOINT s; INSERT INTO ${r.source} (id) VALUES (3); ROLLBACK TO SAVEPOINT s;
      COMMIT`);
    expect(await feed()).toEqual([{ version: 1, op: 'insert', id: 2, fare: null }]);
  });

  it('flags versions written with change capture off', async () => {
    const { r, feed } = await setup();
    await db.pool.query(`BEGIN; SET LOCAL lakebase_dev.capture_changes = off;
      INSERT INTO ${r.source} (id) VALUES (1), (2); COMMIT`);
    await db.pool.query(`INSERT INTO ${r.source} (id) VALUES (3)`);
    const { rows } = await db.pool.query<{ version: string; captured: boolean }>(
      `SELECT version, change_data_captured AS captured FROM ${r.commits} WHERE version > 0 ORDER BY version`,
    );
    expect(rows.map((row) => [Number(row.version), row.captured])).toEqual([
      [1, false],
      [2, true],
    ]);
    expect((await feed()).map((row) => row.id)).toEqual([3]);
  });

  it('notifies each committed version on the source commit channel', async () => {
    const { names, r } = await setup();
    const listener = new pg.Client({ connectionString: db.url });
    await listener.connect();
    const payloads: unknown[] = [];
    listener.on('notification', (message) => payloads.push(JSON.parse(message.payload ?? 'null')));
    await listener.query(`LISTEN ${SOURCE_COMMIT_CHANNEL}`);
    await db.pool.query(`INSERT INTO ${r.source} (id) VALUES (1)`);
    await db.pool.query(`DELETE FROM ${r.source}`);
    await listener.query('SELECT 1'); // notifications sent before this round trip have arrived
    await listener.end();
    expect(payloads).toEqual([
      { schema: names.sourceSchema, table: names.sourceTable, version: 1 },
      { schema: names.sourceSchema, table: names.sourceTable, version: 2 },
    ]);
  });
});
