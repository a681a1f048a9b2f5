import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { insertTrickyTrips } from './support/trips-fixture.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';

/** The dashboard's question (latest trips) and a BI one, each with its answer straight from SQL. */
const LATEST = `query Latest($min: Float) {
  trips(first: 100, orderBy: [TRIP_ID_DESC], filter: { fareAmount: { gte: $min } }) {
    edges { node { tripId fareAmount pickupZip pickupZone { borough } } }
  }
}`;
const LATEST_SQL = `SELECT t.id::text AS "tripId", t.fare_amount AS "fareAmount", t.pickup_zip AS "pickupZip",
                           z.borough
                      FROM "default".trips_synced t
                      LEFT JOIN lakebase_graphql.zip_zones z ON z.zip = t.pickup_zip
                     WHERE t.fare_amount >= $1 ORDER BY t.id DESC LIMIT 100`;
const STATS = `{ tripStats { count fareAmount { sum } } }`;
const STATS_SQL = `SELECT count(*)::text AS count, sum(fare_amount) AS sum FROM "default".trips_synced`;

interface LatestData {
  trips: {
    edges: {
      node: { tripId: string; fareAmount: number; pickupZip: number | null; pickupZone: { borough: string } | null };
    }[];
  };
}

describe('the response cache', () => {
  let gw: TestGateway;
  let writer: pg.Client;

  beforeAll(async () => {
    // No rollup maintenance: answers come from the table, so only the response cache is under test.
    gw = await startTestGateway('response_cache', { ROLLUP_POLL_MS: '0', RESPONSE_CACHE: 'on' });
    writer = new pg.Client({ connectionString: gw.database.url });
    await writer.connect();
    await insertTrickyTrips(gw.database.pool, 400);
  });
  afterAll(async () => {
    await writer.end();
    await gw.close();
  });

  /** Asks LATEST and STATS and checks both against SQL run right after. */
  async function expectAnswersEqualSql(min = 5): Promise<void> {
    const latest = await gw.query<LatestData>(LATEST, { min });
    expect(latest.body.errors, JSON.stringify(latest.body.errors)).toBeUndefined();
    const expected = (await gw.database.pool.query(LATEST_SQL, [min])).rows;
    expect(
      latest.body.data!.trips.edges.map(({ node }) => ({
        tripId: node.tripId,
        fareAmount: node.fareAmount,
        pickupZip: node.pickupZip,
        borough: node.pickupZone?.borough ?? null,
      })),
    ).toEqual(expected);
    const stats = await gw.query<{ tripStats: { count: string; fareAmount: { sum: number } } }>(STATS);
    expect(stats.body.errors, JSON.stringify(stats.body.errors)).toBeUndefined();
    const [reference] = (await gw.database.pool.query<{ count: string; sum: number }>(STATS_SQL)).rows;
    expect(stats.body.data!.tripStats.count).toBe(reference!.count);
    expect(stats.body.data!.tripStats.fareAmount.sum).toBeCloseTo(reference!.sum, 6);
  }

  /** Warm: the same questions again are served from the cache; the only statements sent are version reads. */
  async function expectServedFromCache(min = 5): Promise<void> {
    const cache = gw.app.responseCache!;
    const hits = cache.store.stats.hits;
    await gw.query(LATEST, { min });
    await gw.query(STATS);
    expect(cache.store.stats.hits - hits, JSON.stringify(cache.store.stats)).toBe(2);
  }

  it('serves a repeated query from the cache at the cost of one version read', async () => {
    await expectAnswersEqualSql();
    await expectServedFromCache();
    expect(gw.app.responseCache!.versions.latest.mode).toBe('exact');
    const ready = await gw.app.gateway.fetch('http://gateway.test/ready');
    expect(await ready.json()).toMatchObject({ status: 'ready', responseCache: { mode: 'exact', entries: 2 } });
  });

  it('reads the version on a new connection when its own was closed while idle, and stays exact', async () => {
    // What a Lakebase Autoscaling compute does when it suspends: it closes idle connections.
    await expectAnswersEqualSql();
    const closed = await gw.database.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'lakebase-graphql response cache'`,
    );
    expect(closed.rowCount).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const reads = gw.app.responseCache!.versions.reads;
    await expectServedFromCache();
    expect(gw.app.responseCache!.versions.latest.mode).toBe('exact');
    expect(gw.app.responseCache!.versions.reads - reads).toBe(2);
  });

  it('answers equal SQL at once after an insert', async () => {
    await expectAnswersEqualSql();
    await writer.query(
      `INSERT INTO "default".trips_synced (id, fare_amount, pickup_zip) VALUES (100000, 42, 10001), (100001, 7, 11201)`,
    );
    await expectAnswersEqualSql();
    await expectServedFromCache();
  });

  it('answers equal SQL at once after an update', async () => {
    await expectAnswersEqualSql();
    await writer.query(`UPDATE "default".trips_synced SET fare_amount = 99.5 WHERE id = 100000`);
    await expectAnswersEqualSql();
    await expectServedFromCache();
  });

  it('stays exact while another gateway with ROLLUP_FRESHNESS=statistics shares its gateway schema', async () => {
    // Its startup replaced the one signature function every gateway's cache checked with its statistics body,
    // which sees an update about a second late: this gateway's cache then served stale answers.
    const other = await startTestGateway(
      'response_cache_statistics',
      { ROLLUP_FRESHNESS: 'statistics' },
      {
        database: gw.database,
      },
    );
    try {
      const { rows } = await gw.database.pool.query<{ signature: string }>(
        'SELECT lakebase_graphql.trip_rollup_v4_signature() AS signature',
      );
      expect(rows[0]!.signature).toMatch(/^trigger:/);
      for (let round = 0; round < 4; round += 1) {
        await expectAnswersEqualSql();
        await writer.query(`UPDATE "default".trips_synced SET fare_amount = fare_amount + 1 WHERE id = 100000`);
        await expectAnswersEqualSql();
      }
    } finally {
      await other.close();
    }
  });

  it('answers equal SQL at once after a delete', async () => {
    await expectAnswersEqualSql();
    await writer.query(`DELETE FROM "default".trips_synced WHERE id IN (100000, 100001)`);
    await expectAnswersEqualSql();
    await expectServedFromCache();
  });

  it('ignores a rolled-back write, and an update that changed nothing', async () => {
    await expectAnswersEqualSql();
    await writer.query('BEGIN');
    await writer.query(`INSERT INTO "default".trips_synced (id, fare_amount) VALUES (200000, 500)`);
    await writer.query(`UPDATE "default".trips_synced SET fare_amount = fare_amount + 1`);
    // Uncommitted: other sessions see none of it, and neither may the cache.
    await expectAnswersEqualSql();
    await writer.query('ROLLBACK');
    await expectAnswersEqualSql();
    await expectServedFromCache();
    await writer.query(`UPDATE "default".trips_synced SET fare_amount = 1 WHERE id = -1`);
    await expectServedFromCache();
  });

  it('answers equal SQL at once after a snapshot refresh (delete and re-insert in one transaction, as the pipeline does)', async () => {
    await expectAnswersEqualSql();
    await writer.query('BEGIN');
    await writer.query(`DELETE FROM "default".trips_synced`);
    await insertTrickyTrips(gw.database.pool, 0);
    await writer.query(
      `INSERT INTO "default".trips_synced (id, fare_amount, pickup_zip)
       SELECT g, 3 + g % 40, 10001 + g % 3 FROM generate_series(1, 300) AS g`,
    );
    await writer.query('COMMIT');
    await expectAnswersEqualSql();
    await expectServedFromCache();
  });

  it('answers equal SQL after TRUNCATE and a reload', async () => {
    await writer.query(`TRUNCATE "default".trips_synced`);
    await expectAnswersEqualSql();
    await insertTrickyTrips(gw.database.pool, 250);
    await expectAnswersEqualSql();
    await expectServedFromCache();
  });

  it('answers equal SQL after a write to the ZIP reference table (boroughs)', async () => {
    await expectAnswersEqualSql();
    await writer.query(`UPDATE lakebase_graphql.zip_zones SET borough = 'Elsewhere' WHERE zip = 10001`);
    await expectAnswersEqualSql();
    await writer.query(`UPDATE lakebase_graphql.zip_zones SET borough = 'Manhattan' WHERE zip = 10001`);
    await expectAnswersEqualSql();
  });

  it('runs a question asked by many at once after a write once, and answers them all from it', async () => {
    const statements = gw.app.statements;
    await writer.query(`UPDATE "default".trips_synced SET fare_amount = fare_amount + 1 WHERE id = 3`);
    let before = statements.total;
    await gw.query<LatestData>(LATEST, { min: 5 });
    const one = statements.total - before;
    expect(one).toBeGreaterThan(0);

    await writer.query(`UPDATE "default".trips_synced SET fare_amount = fare_amount + 1 WHERE id = 3`);
    before = statements.total;
    const answers = await Promise.all(Array.from({ length: 20 }, () => gw.query<LatestData>(LATEST, { min: 5 })));
    expect(statements.total - before).toBe(one);
    const expected = (await gw.database.pool.query(LATEST_SQL, [5])).rows.map((row) => row.tripId);
    for (const { body } of answers) expect(body.data!.trips.edges.map(({ node }) => node.tripId)).toEqual(expected);
  });

  it('never caches an answer with errors', async () => {
    const cache = gw.app.responseCache!;
    const hits = cache.store.stats.hits;
    for (let i = 0; i < 3; i += 1) {
      const { body } = await gw.query('{ syncStatus { state } }');
      // No sync pipeline configured here: an error each time, computed each time.
      expect(body.errors?.[0]?.extensions?.code).toBe('SYNC_NOT_CONFIGURED');
    }
    expect(cache.store.stats.hits).toBe(hits);
  });

  it('refuses an oversized list variable without the cache warning on the console', async () => {
    // The variable guard stops execution; placed after the cache it left the cache's execute uncalled, and
    // @envelop/response-cache printed a console warning for every such request, past the gateway's logger.
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      const ids = Array.from({ length: 5000 }, (_, i) => String(i));
      for (let i = 0; i < 2; i += 1) {
        const { body } = await gw.query('query($ids: [ID!]!) { nodes(ids: $ids) { id } }', { ids });
        expect(body.data).toBeUndefined();
        expect(body.errors?.[0]?.message).toMatch(/^\$ids: lists 5000 items; at most \d+/);
        // Its claim to compute the answer ended with it: a second such request does not wait for it.
        expect(gw.app.responseCache!.store.computing).toBe(0);
      }
      expect(warn.mock.calls.map((call) => String(call[0]))).toEqual([]);
    } finally {
      warn.mockRestore();
    }
  });

  it('lets a request refused before execution (limits, validation) end its claim on the answer at once', async () => {
    // A request claims the answer it is about to compute, and identical ones wait for it to be stored. One
    // refused before execution never reaches the cache's store: without the release, the next identical
    // request waited 5 s for the claim to time out.
    const store = gw.app.responseCache!.store;
    const refused = [
      [
        'a validation error',
        '{ trips(first: 1) { edges { node { noSuchField } } } }',
        /Cannot query field "noSuchField"/,
      ],
      ['a page over the limit', '{ trips(first: 100000) { edges { node { tripId } } } }', /first/],
      [
        'a list literal over the limit',
        `{ nodes(ids: [${Array.from({ length: 1500 }, (_, i) => `"${i}"`).join(',')}]) { id } }`,
        /ids: lists 1500 items/,
      ],
    ] as const;
    for (const [name, query, message] of refused) {
      for (let i = 0; i < 2; i += 1) {
        const { body } = await gw.query(query);
        expect(body.errors?.[0]?.message, name).toMatch(message);
        expect(store.computing, name).toBe(0);
      }
    }
  });
});
