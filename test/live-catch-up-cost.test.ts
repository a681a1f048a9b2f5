/**
 * A catch-up from an old cursor costs the database in proportion to its
 * backlog, not to the square of it (capture/windows.ts): counted as the
 * buffers the catch-up's statements touched (pg_stat_statements), never timed.
 * Pages are small here, so a catch-up that rescanned its gap for every page
 * would touch about 16 times the buffers for 4 times the backlog.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { netChangesSql, type CaptureRelations } from '../src/live/capture/queries.js';
import { CAPTURE_TABLES } from '../src/live/capture/tables.js';
import { openWindowSql, windowPageSql } from '../src/live/capture/windows.js';
import { ChangeStream, startLiveGateway, type LiveGateway } from './support/live.js';
import { eventually } from './support/pipeline.js';

interface PlanNode {
  'Actual Rows': number;
  'Actual Loops': number;
  Plans?: PlanNode[];
}

/** Rows every node of a plan produced, times the times it ran: the work of a statement, counted. */
function rowsProcessed(node: PlanNode): number {
  return node['Actual Rows'] * node['Actual Loops'] + (node.Plans ?? []).reduce((sum, n) => sum + rowsProcessed(n), 0);
}

/** What the catch-up window statements (open, pages, close) have cost so far. */
interface WindowWork {
  buffers: number;
  /** Calls of the statements that open a window or read a page of one. */
  calls: number;
}

describe('a long catch-up', () => {
  let gw: LiveGateway;
  let relations: CaptureRelations;
  beforeAll(async () => {
    gw = await startLiveGateway('live_catch_up_cost', {
      LIVE_POLL_INTERVAL_MS: '50',
      LIVE_FEED_BATCH_ROWS: '20',
      LIVE_SUBSCRIBER_BUFFER_ROWS: '40',
      LIVE_EVENT_MAX_ROWS: '20',
      ROLLUP_POLL_MS: '3600000',
    });
    await gw.database.pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    relations = {
      synced: '"default"."trips_synced"',
      schema: 'default',
      table: 'trips_synced',
      gatewaySchema: gw.config.database.gatewaySchema,
    };
  });
  afterAll(() => gw.close());

  /**
   * Buffers touched so far by the window statements in this database. Only those: the feed's own read of
   * the change record also runs every tick, and while the subscriber drains its buffer the loop ticks on
   * its poll interval, so that read's share follows the catch-up's wall time, not its backlog. That the
   * catch-up reads its gap through windows, not by rescanning it, is asserted apart (catchUp).
   */
  async function windowWork(): Promise<WindowWork> {
    const { rows } = await gw.database.pool.query<{ blocks: string | null; calls: string | null }>(
      `SELECT sum(shared_blks_hit + shared_blks_read + local_blks_hit + local_blks_read)::text AS blocks,
              sum(calls) FILTER (WHERE s.query NOT LIKE '%DELETE FROM%')::text AS calls
         FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
        WHERE d.datname = current_database() AND s.query LIKE '%${CAPTURE_TABLES.windowRows}%'
          AND s.query NOT LIKE '%pg_stat_statements%'`,
    );
    return { buffers: Number(rows[0]?.blocks ?? 0), calls: Number(rows[0]?.calls ?? 0) };
  }

  /** Until every catch-up window is closed: a window closes just after its last page is read. */
  async function windowsClosed(): Promise<void> {
    const windows = `"${gw.config.database.gatewaySchema}".${CAPTURE_TABLES.windows}`;
    await eventually(
      async () => (await gw.database.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${windows}`)).rows[0]!.n,
      (open) => open === 0,
      'every catch-up window to close',
    );
  }

  /**
   * Fresh planner statistics for every table before a measurement: the plan of the statement that opens a
   * window depends on them, and otherwise on whether autovacuum's ANALYZE happened to run since the last
   * inserts. Pages do not (windows.ts, windowPageSql); the test above EXPLAINs them under each statistics.
   */
  async function analyzeAll(): Promise<void> {
    await gw.database.pool.query('ANALYZE');
  }

  /**
   * ANALYZE of the window table every 50 ms while a catch-up runs, as autovacuum may do once a window is open:
   * the CI run in which pages scanned their whole window (8.7× the buffers for 4× the backlog). Run from a DO
   * block whose text does not name the table, so windowWork does not count the ANALYZE itself.
   */
  async function analyzeWindowRowsUntil(done: () => boolean): Promise<void> {
    const [schema, table] = [gw.config.database.gatewaySchema, CAPTURE_TABLES.windowRows];
    const half = Math.floor(table.length / 2);
    while (!done()) {
      await gw.database.pool.query(
        `DO $$ BEGIN EXECUTE format('ANALYZE %I.%I', '${schema}', '${table.slice(0, half)}' || '${table.slice(half)}'); END $$`,
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Inserts ids first..first+count-1, one statement (one change record) each, in one transaction. */
  async function insertOneByOne(firstId: number, count: number): Promise<void> {
    await gw.database.pool.query(
      `DO $$ BEGIN
         FOR i IN ${firstId}..${firstId + count - 1} LOOP
           INSERT INTO "default".trips_synced (id, fare_amount) VALUES (i, i % 50);
         END LOOP;
       END $$`,
    );
  }

  /**
   * Until the feed has no subscriber: a closed stream leaves the server when it notices the disconnect. One still
   * live while the rows are written makes the feed read them itself, through a window of its own whose
   * statements look like the catch-up's (a slow CI run: 119,299 buffers for the large catch-up, not ~64,000).
   */
  async function feedIdle(): Promise<void> {
    await eventually(
      async () => {
        const { live, catchingUp, pending } = gw.app.live.feed.stats();
        return live + catchingUp + pending;
      },
      (subscribers) => subscribers === 0,
      'the feed to have no subscriber',
    );
  }

  /** `count` rows inserted one statement each (one change record each) after a cursor, then caught up from it. */
  async function catchUp(firstId: number, count: number): Promise<{ buffers: number; statements: number }> {
    await feedIdle();
    const { body } = await gw.query<{ trips: { streamCursor: string } }>(`{ trips(first: 1) { streamCursor } }`);
    await insertOneByOne(firstId, count);
    await analyzeAll();
    const before = await windowWork();
    const statementsBefore = gw.app.live.feed.stats().catchUpStatements;
    const stream = new ChangeStream(gw.client('distinct'), { after: body.data!.trips.streamCursor });
    const analyzing = analyzeWindowRowsUntil(() => stream.changes.length >= count);
    await stream.until(() => stream.changes.length >= count, `${count} changes`, 120_000);
    await analyzing;
    await windowsClosed();
    const after = await windowWork();
    const statements = gw.app.live.feed.stats().catchUpStatements - statementsBefore;
    stream.close();
    const ids = stream.changes.map((change) => `${change.kind} ${change.tripId}`);
    expect(ids).toEqual(Array.from({ length: count }, (_, i) => `INSERT ${firstId + i}`));
    // The catch-up's statements other than window ones read the change record itself (its first page,
    // from the cursor). A handful whatever the backlog: one per page would be the rescan that is quadratic.
    const outsideWindows = statements - (after.calls - before.calls);
    expect(outsideWindows, JSON.stringify({ statements, windowCalls: after.calls - before.calls })).toBeLessThanOrEqual(
      3,
    );
    return { buffers: after.buffers - before.buffers, statements };
  }

  it('reads each page of a window with work in proportion to the page, whatever the statistics say', async () => {
    const windowRows = `"${relations.gatewaySchema}".${CAPTURE_TABLES.windowRows}`;
    const windows = `"${relations.gatewaySchema}".${CAPTURE_TABLES.windows}`;
    /** A window over `count` new rows, opened as openWindow does. */
    const open = async (firstId: number, count: number): Promise<{ id: string; rows: number }> => {
      const { rows: before } = await gw.database.pool.query<{ snap: string }>(
        'SELECT pg_current_snapshot()::text AS snap',
      );
      await gw.database.pool.query(
        `INSERT INTO "default".trips_synced (id, fare_amount) SELECT i, i % 50 FROM generate_series($1::int, $2::int) i`,
        [firstId, firstId + count - 1],
      );
      const snap = before[0]!.snap;
      const { rows } = await gw.database.pool.query<{ id: string; rows: number }>(openWindowSql(relations), [
        [snap],
        [snap],
        [null],
        [2_147_483_647],
        relations.synced,
      ]);
      return rows[0]!;
    };
    const drop = async (id: string) => {
      await gw.database.pool.query(`DELETE FROM ${windows} WHERE window_id = $1`, [id]);
      await gw.database.pool.query(`DELETE FROM ${windowRows} WHERE window_id = $1`, [id]);
    };
    const pageWork = async (id: string, readTo: number): Promise<{ rows: number; work: number }> => {
      const opened = await gw.database.pool.query<{ created: string }>(
        `SELECT created_at::text AS created FROM ${windows} WHERE window_id = $1`,
        [id],
      );
      const { rows } = await gw.database.pool.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
        `EXPLAIN (ANALYZE, FORMAT JSON) ${windowPageSql(relations)}`,
        [id, readTo, 20, opened.rows[0]!.created],
      );
      const plan = rows[0]!['QUERY PLAN'][0]!.Plan;
      return { rows: plan['Actual Rows'], work: rowsProcessed(plan) };
    };
    const pagesOf = async (id: string, statistics: string) => {
      for (const [at, readTo] of [
        ['the first page', 0],
        ['a page in the middle', 2000],
        ['the last page', 3980],
      ] as const) {
        const { rows, work } = await pageWork(id, readTo);
        expect(rows, `${at}, ${statistics}`).toBe(20);
        // A page's own rows through a few plan nodes: about 60 rows processed. A scan of the window: over 4,000.
        expect(work, `${at}, ${statistics}`).toBeLessThan(200);
      }
    };
    // Three states of the planner's statistics, each of which once made a page scan its whole window.
    // A new install: the table never analyzed (this test runs first in the file).
    const first = await open(700_001, 4000);
    expect(first.rows).toBe(4000);
    await pagesOf(first.id, 'the table never analyzed');
    // Autovacuum's ANALYZE with the window open: every row of the table has its window_id.
    await gw.database.pool.query(`ANALYZE ${windowRows}`);
    await pagesOf(first.id, 'analyzed with the window open');
    // Autovacuum's ANALYZE after a catch-up, seeing only a closed window's dead rows: about one row expected for
    // any window.
    await drop(first.id);
    await gw.database.pool.query(`ANALYZE ${windowRows}`);
    const second = await open(710_001, 4000);
    await pagesOf(second.id, "analyzed with only a closed window's rows");
    await drop(second.id);
  });

  it('reads a page, and opens a catch-up window, over a gap of changes with work in proportion to the gap', async () => {
    /** Rows the statement's plan processed, for a gap of `count` changes written by one statement (a sync batch). */
    const work = async (sql: string, firstId: number, count: number): Promise<number> => {
      const { rows: before } = await gw.database.pool.query<{ snap: string }>(
        'SELECT pg_current_snapshot()::text AS snap',
      );
      await gw.database.pool.query(
        `INSERT INTO "default".trips_synced (id, fare_amount) SELECT i, i % 50 FROM generate_series($1::int, $2::int) i`,
        [firstId, firstId + count - 1],
      );
      await analyzeAll();
      const snap = before[0]!.snap;
      const client = await gw.database.pool.connect();
      try {
        // EXPLAIN ANALYZE runs the statement: the window it opens is rolled back.
        await client.query('BEGIN');
        const { rows } = await client.query<{ 'QUERY PLAN': { Plan: PlanNode }[] }>(
          `EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`,
          [[snap], [snap], [null], [20], relations.synced],
        );
        return rowsProcessed(rows[0]!['QUERY PLAN'][0]!.Plan);
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
    };
    let next = 500_001;
    for (const [name, sql] of [
      ['a page', netChangesSql(relations)],
      ['a window', openWindowSql(relations)],
    ] as const) {
      const small = await work(sql, next, 1000);
      const large = await work(sql, next + 1000, 4000);
      next += 5000;
      // Linear: about 4. Some step run once per change of the gap (a nested loop over it): about 16.
      expect(large / small, `${name}: ${JSON.stringify({ small, large })}`).toBeLessThan(6);
    }
  });

  it('touches about four times the buffers for four times the backlog', async () => {
    const small = await catchUp(1, 2000);
    const large = await catchUp(100_001, 8000);
    // Pages of 20 rows: the statements grow with the backlog (one per page) either way.
    expect(large.statements).toBeGreaterThan(3 * small.statements);
    // Linear: about 4; a rescan per page: about 16.
    expect(large.buffers / small.buffers, JSON.stringify({ small, large })).toBeLessThan(6);
  });

  it('goes on exactly from where it was when its window is swept mid-way', async () => {
    const { body } = await gw.query<{ trips: { streamCursor: string } }>(`{ trips(first: 1) { streamCursor } }`);
    await insertOneByOne(900_001, 3000);
    const feed = gw.app.live.feed;
    const opened = () => (feed.stats() as { windowsOpened?: number }).windowsOpened ?? 0;
    const openedBefore = opened();
    const stream = new ChangeStream(gw.client('single'), { after: body.data!.trips.streamCursor });
    // As the pruner sweeps windows left behind, but under a reader still paging through it.
    let sweeps = 0;
    const windows = `"${gw.config.database.gatewaySchema}".trip_change_windows`;
    const sweeping = (async () => {
      while (stream.changes.length < 3000 && !stream.completed) {
        const { rowCount } = await gw.database.pool.query(`DELETE FROM ${windows}`);
        sweeps += rowCount ?? 0;
        await new Promise((resolve) => setTimeout(resolve, 30));
      }
    })();
    await stream.until(() => stream.changes.length >= 3000, '3000 changes', 120_000);
    await sweeping;
    expect(stream.changes.map((c) => `${c.kind} ${c.tripId}`)).toEqual(
      Array.from({ length: 3000 }, (_, i) => `INSERT ${900_001 + i}`),
    );
    expect(stream.errors).toEqual([]);
    // Swept at least once while in use, and a new window computed from where the reader was.
    expect(sweeps).toBeGreaterThan(0);
    expect(opened() - openedBefore).toBeGreaterThan(1);
    stream.close();
  });
});
