/**
 * The change record as the capture trigger writes it, and the reader's use of
 * it, below the feed: what one statement records, and that a page cut by key
 * (a position with a split) reads exactly the changes it has not covered.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDb, type Db } from '../src/db/database.js';
import { ensureSyncedTable } from '../src/dev/synced-table.js';
import { installCapture } from '../src/live/capture/install.js';
import { readNetChanges, readStamp, type CaptureRelations } from '../src/live/capture/queries.js';
import { atSnapshot, snapshotSees } from '../src/live/capture/position.js';
import { CAPTURE_TABLES } from '../src/live/capture/tables.js';
import { closeWindow, openWindow, readWindowPage } from '../src/live/capture/windows.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { insertTrips } from './support/live.js';

const relations: CaptureRelations = {
  synced: '"default"."trips_synced"',
  schema: 'default',
  table: 'trips_synced',
  gatewaySchema: 'lakebase_graphql',
};

interface LogRow {
  op: string;
  ids: string[];
  max_id: string | null;
  fares: (number | null)[] | null;
}

describe('the change record', () => {
  let database: TestDatabase;
  let db: Db;

  beforeAll(async () => {
    database = await createTestDatabase('capture_record');
    await ensureSyncedTable(database.pool, 'default', 'trips_synced');
    db = createDb(database.pool, { schema: 'default', table: 'trips_synced', gatewaySchema: 'lakebase_graphql' });
    await installCapture(db, { ...relations, notifyChannel: null });
    await insertTrips(database.pool, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
  afterAll(async () => {
    await database?.drop();
  });

  async function recordsSince(seq: number): Promise<LogRow[]> {
    const { rows } = await database.pool.query<LogRow>(
      `SELECT op, ids::text[] AS ids, max_id::text AS max_id, old_fare_amount AS fares
         FROM lakebase_graphql.trip_change_log WHERE seq > $1 ORDER BY seq`,
      [seq],
    );
    return rows;
  }
  async function captureState(): Promise<unknown> {
    return (await database.pool.query(`SELECT epoch, recaptured_xid::text FROM lakebase_graphql.trip_change_capture`))
      .rows;
  }
  async function lastSeq(): Promise<number> {
    const { rows } = await database.pool.query<{ seq: number | null }>(
      `SELECT max(seq)::int AS seq FROM lakebase_graphql.trip_change_log`,
    );
    return rows[0]?.seq ?? 0;
  }

  it('records an upsert that keeps its keys as one update record, in the order written, with its largest key', async () => {
    const seq = await lastSeq();
    // ON CONFLICT takes the rows in the order given: 9, 2, 7. Trip 2 is rewritten unchanged.
    await database.pool.query(
      `INSERT INTO "default".trips_synced AS t (id, fare_amount)
       SELECT v.id, v.fare FROM (VALUES (9, 90.5), (2, NULL::float8), (7, 70.5)) v(id, fare)
       ON CONFLICT (id) DO UPDATE SET fare_amount = coalesce(EXCLUDED.fare_amount, t.fare_amount)`,
    );
    // The before images as insertTrips wrote them (fare 2.5 + id % 15).
    expect(await recordsSince(seq)).toEqual([{ op: 'U', ids: ['9', '2', '7'], max_id: '9', fares: [11.5, 4.5, 9.5] }]);
  });

  it('falls back to pairing rows by key when an update changes a key', async () => {
    const seq = await lastSeq();
    await database.pool.query(
      `UPDATE "default".trips_synced SET id = CASE id WHEN 4 THEN 40004 ELSE id END,
              fare_amount = CASE id WHEN 6 THEN 66.5 ELSE fare_amount END
        WHERE id IN (3, 4, 6)`,
    );
    const records = await recordsSince(seq);
    expect(records.map((record) => [record.op, record.ids, record.max_id]).sort()).toEqual([
      ['D', ['4'], '4'],
      ['I', ['40004'], '40004'],
      // Trip 3 was rewritten unchanged: on this path, unchanged rows are not recorded.
      ['U', ['6'], '6'],
    ]);
  });

  it('reads a record whose largest key is not its last for a position split below that key', async () => {
    const low = await readStamp(db, relations);
    await database.pool.query(
      `INSERT INTO "default".trips_synced AS t (id, fare_amount)
       SELECT v.id, v.fare FROM (VALUES (10, 100.25), (1, 10.25), (5, 50.25)) v(id, fare)
       ON CONFLICT (id) DO UPDATE SET fare_amount = EXCLUDED.fare_amount`,
    );
    const high = await readStamp(db, relations);
    // Ids up to 8 are at `high` (already taken into account), the others still at `low`:
    // only trip 10's change is news, though the record's last id is 5.
    const read = await readNetChanges(db, relations, [{ position: { low, high, split: 8n }, limit: 100 }]);
    expect(
      read.changes[0]!.map((change) => [change.id, change.before?.fare_amount, change.after?.fare_amount]),
    ).toEqual([['10', 2.5 + (10 % 15), 100.25]]);
    // From `low` alone, all three are news.
    const all = await readNetChanges(db, relations, [{ position: { low, high: low, split: null }, limit: 100 }]);
    expect(all.changes[0]!.map((change) => change.id)).toEqual(['1', '5', '10']);
  });

  it('reports no change for rows an upsert rewrote unchanged', async () => {
    const low = await readStamp(db, relations);
    await database.pool.query(
      `INSERT INTO "default".trips_synced AS t (id, fare_amount)
       SELECT v.id, NULL FROM (VALUES (2), (7), (8)) v(id)
       ON CONFLICT (id) DO UPDATE SET fare_amount = coalesce(EXCLUDED.fare_amount, t.fare_amount)`,
    );
    const read = await readNetChanges(db, relations, [{ position: { low, high: low, split: null }, limit: 100 }]);
    expect(read.changes[0]).toEqual([]);
  });

  it('gains max_id when installed over a change record created before the column existed', async () => {
    await database.pool.query(`ALTER TABLE lakebase_graphql.trip_change_log DROP COLUMN max_id`);
    await installCapture(db, { ...relations, notifyChannel: null });
    const seq = await lastSeq();
    await database.pool.query(`UPDATE "default".trips_synced SET fare_amount = 1.25 WHERE id IN (1, 2)`);
    expect((await recordsSince(seq)).map((record) => record.max_id)).toEqual(['2']);
  });

  it('gains recaptured_xid when installed over a capture state created before the column existed', async () => {
    await database.pool.query(`ALTER TABLE lakebase_graphql.trip_change_capture DROP COLUMN recaptured_xid`);
    await installCapture(db, { ...relations, notifyChannel: null });
    // The capture stood unchanged: the upgrade records no recapture, so no cursor expires for it.
    const read = await readNetChanges(db, relations, [
      { position: atSnapshot(await readStamp(db, relations)), limit: 10 },
    ]);
    expect(read.recapturedXid).toBeNull();
    // A trigger disabled and enabled again is a recapture: recorded, by a transaction later snapshots see.
    await database.pool.query('ALTER TABLE "default".trips_synced DISABLE TRIGGER ALL');
    await database.pool.query('ALTER TABLE "default".trips_synced ENABLE TRIGGER ALL');
    await installCapture(db, { ...relations, notifyChannel: null });
    const after = await readNetChanges(db, relations, [
      { position: atSnapshot(await readStamp(db, relations)), limit: 10 },
    ]);
    expect(after.recapturedXid).not.toBeNull();
    expect(snapshotSees(after.snapshot, after.recapturedXid!)).toBe(true);
    expect(snapshotSees(read.snapshot, after.recapturedXid!)).toBe(false);
  });

  it('fails, to be retried, rather than record a trigger left short of ALWAYS behind a long writer', async () => {
    const modes = async () =>
      (
        await database.pool.query<{ enabled: string }>(
          `SELECT tgenabled AS enabled FROM pg_trigger
            WHERE tgrelid = '"default".trips_synced'::regclass AND tgname LIKE 'lakebase_graphql_live%' ORDER BY tgname`,
        )
      ).rows.map((row) => row.enabled);
    await database.pool.query('ALTER TABLE "default".trips_synced DISABLE TRIGGER lakebase_graphql_live_upd');
    await database.pool.query('ALTER TABLE "default".trips_synced ENABLE TRIGGER lakebase_graphql_live_upd');
    expect(await modes()).toEqual(['A', 'A', 'A', 'O']);
    // A bulk loader (fires ALWAYS triggers only) in the middle of a write.
    const loader = new pg.Client({ connectionString: database.url });
    await loader.connect();
    try {
      await loader.query('BEGIN');
      await loader.query('SET LOCAL session_replication_role = replica');
      await loader.query('UPDATE "default".trips_synced SET fare_amount = 3.5 WHERE id = 3');
      const before = await captureState();
      await expect(installCapture(db, { ...relations, notifyChannel: null })).rejects.toMatchObject({ code: '55P03' });
      expect(await captureState()).toEqual(before);
    } finally {
      await loader.query('COMMIT');
      await loader.end();
    }
    await installCapture(db, { ...relations, notifyChannel: null });
    expect(await modes()).toEqual(['A', 'A', 'A', 'A']);
  });

  it('pages through a long rewrite of unchanged rows to the one real change behind it', async () => {
    // A retried sync batch rewrites rows with the values they have: recorded, and dropped by the reader.
    await insertTrips(
      database.pool,
      Array.from({ length: 3000 }, (_, i) => 1000 + i),
    );
    let position = { low: await readStamp(db, relations), high: '', split: null as bigint | null };
    position.high = position.low;
    await database.pool.query(
      `INSERT INTO "default".trips_synced AS t (id, fare_amount)
       SELECT g, NULL FROM generate_series(1000, 3999) g
       ON CONFLICT (id) DO UPDATE SET fare_amount = CASE WHEN t.id = 3999 THEN 39.99 ELSE t.fare_amount END`,
    );
    const seen: string[] = [];
    let pages = 0;
    for (;;) {
      const read = await readNetChanges(db, relations, [{ position, limit: 100 }]);
      pages += 1;
      seen.push(...read.changes[0]!.map((change) => `${change.id} ${change.after?.fare_amount}`));
      position = read.positions[0]!;
      if (!read.more[0]) break;
      expect(pages).toBeLessThan(100);
    }
    expect(seen).toEqual(['3999 39.99']);
    // 3,000 unsettled ids, 100 a page: the position moved forward on every page.
    expect(pages).toBe(30);
  });

  it('drops the primary key window rows had before 2026-12-03, and pages a window through its one index', async () => {
    const windowRows = 'lakebase_graphql.trip_change_window_rows';
    await database.pool.query(`ALTER TABLE ${windowRows} ADD PRIMARY KEY (window_id, key)`);
    await installCapture(db, { ...relations, notifyChannel: null });
    const { rows: indexes } = await database.pool.query<{ name: string }>(
      `SELECT indexrelid::regclass::text AS name FROM pg_index WHERE indrelid = $1::regclass`,
      [windowRows],
    );
    expect(indexes.map((index) => index.name)).toEqual(['lakebase_graphql.trip_change_window_rows_n']);

    const start = { low: await readStamp(db, relations), high: '', split: null as bigint | null };
    start.high = start.low;
    await insertTrips(
      database.pool,
      Array.from({ length: 250 }, (_, i) => 20_000 + i),
    );
    const window = await openWindow(db, relations, start);
    expect(window.rows).toBe(250);
    const seen: string[] = [];
    let position = start;
    for (let pages = 0; ; pages += 1) {
      expect(pages).toBeLessThan(3);
      const page = (await readWindowPage(db, relations, window, position, 100))!;
      seen.push(...page.changes.map((change) => change.id));
      position = page.position;
      if (!page.more) break;
      // A position this window's pages did not lead to: it cannot say where that is, so the reader opens another.
      expect(await readWindowPage(db, relations, window, { ...position, split: position.split! - 1n }, 100)).toBeNull();
    }
    expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => String(20_000 + i)));
    expect(position).toEqual({ low: window.snapshot, high: window.snapshot, split: null });
    await closeWindow(db, relations, window);
  });

  it("reads the first page of a window whose start has the window's own snapshot", async () => {
    // A reader's last ordinary read and the window it then opens see the same snapshot when nothing
    // committed in between. Made certain here by one REPEATABLE READ transaction for both.
    const low = await readStamp(db, relations);
    await insertTrips(
      database.pool,
      Array.from({ length: 30 }, (_, i) => 30_000 + i),
    );
    const { start, window } = await db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        // Ids up to 30,009 already read at this snapshot: the window holds the 20 after them.
        const start = { low, high: await readStamp(trx, relations), split: 30_009n };
        return { start, window: await openWindow(trx, relations, start) };
      });
    expect(window.snapshot).toBe(start.high);
    expect(window.rows).toBe(20);
    const page = await readWindowPage(db, relations, window, start, 100);
    expect(page?.changes.map((change) => change.id)).toEqual(Array.from({ length: 20 }, (_, i) => String(30_010 + i)));
    expect(page?.more).toBe(false);
    await closeWindow(db, relations, window);
  });

  it("never reads or closes another reader's window that got its id after a crash", async () => {
    // The windows table and its id sequence are UNLOGGED: a crash empties both. What it leaves is made here by
    // hand: the first window's rows gone, the ids restarted, and a second reader's window given the same id.
    const windows = `lakebase_graphql.${CAPTURE_TABLES.windows}`;
    const windowRows = `lakebase_graphql.${CAPTURE_TABLES.windowRows}`;
    const start = { low: await readStamp(db, relations), high: '', split: null as bigint | null };
    start.high = start.low;
    await insertTrips(
      database.pool,
      Array.from({ length: 10 }, (_, i) => 70_000 + i),
    );
    const before = await openWindow(db, relations, start);
    await database.pool.query(`DELETE FROM ${windowRows}; DELETE FROM ${windows}`);
    await database.pool.query(`ALTER TABLE ${windows} ALTER COLUMN window_id RESTART WITH ${before.id}`);
    await insertTrips(
      database.pool,
      Array.from({ length: 5 }, (_, i) => 80_000 + i),
    );
    const other = await openWindow(db, relations, start);
    expect(other.id).toBe(before.id);
    expect(other.rows).toBe(15);

    // The reader from before the crash finds its window gone (and computes a new one), not the other's rows.
    expect(await readWindowPage(db, relations, before, start, 100)).toBeNull();
    await closeWindow(db, relations, before);
    const page = await readWindowPage(db, relations, other, start, 100);
    expect(page?.changes).toHaveLength(15);
    await closeWindow(db, relations, other);
  });
});
