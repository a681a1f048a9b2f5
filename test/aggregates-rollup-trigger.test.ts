import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi, type Mock } from 'vitest';
import { createApp, type App } from '../src/app.js';
import type { Logger } from '../src/logger.js';
import { installZipZones } from '../src/zones/install-zip-zones.js';
import { insertAggregateTrips } from './support/aggregates-fixture.js';
import { startTestGateway, type TestGateway } from './support/gateway.js';
import { dropTestRole, grantGatewayRole } from './support/database.js';

/** One aggregate the rollup answers (per-ZIP totals), with its answer from the table itself. */
const QUERY = `{ tripGroups(groupBy: [PICKUP_ZIP], orderBy: [KEY_ASC], first: 100) { pickupZip stats { count fareAmount { sum } } } }`;
const REFERENCE = `SELECT pickup_zip, count(*)::text AS count, sum(fare_amount) AS sum
                     FROM "default".trips_synced GROUP BY pickup_zip ORDER BY pickup_zip NULLS LAST`;

interface Group {
  pickupZip: number | null;
  stats: { count: string; fareAmount: { sum: number | null } };
}

describe('the change trigger behind rollup freshness', () => {
  let gw: TestGateway;
  let writer: pg.Client;

  beforeAll(async () => {
    gw = await startTestGateway('agg_trigger', { ROLLUP_POLL_MS: '0' });
    writer = new pg.Client({ connectionString: gw.database.url });
    await writer.connect();
    await insertAggregateTrips(gw.database.pool, 600);
  });
  afterAll(async () => {
    await writer.end();
    await gw.close();
  });

  /** Runs QUERY, checks it against the table, and says where the answer came from. */
  async function answeredFrom(): Promise<'raw' | 'rollup'> {
    const before = gw.app.rollups.served.rollup;
    const { body } = await gw.query<{ tripGroups: Group[] }>(QUERY);
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    const expected = (
      await gw.database.pool.query<{ pickup_zip: number | null; count: string; sum: number | null }>(REFERENCE)
    ).rows;
    expect(body.data!.tripGroups.map((g) => [g.pickupZip, g.stats.count, g.stats.fareAmount.sum])).toEqual(
      expected.map((r) => [r.pickup_zip, r.count, r.sum === null ? null : expect.closeTo(r.sum, 6)]),
    );
    return gw.app.rollups.served.rollup > before ? 'rollup' : 'raw';
  }

  async function rebuild(): Promise<void> {
    expect((await gw.app.rollups.refresh()).status).toMatch(/built|unchanged/);
    expect(await answeredFrom()).toBe('rollup');
  }

  it('is installed by the gateway, on all four kinds of writes, firing always', async () => {
    const { rows } = await gw.database.pool.query<{ name: string; enabled: string; definition: string }>(
      `SELECT tgname AS name, tgenabled AS enabled, pg_get_triggerdef(oid) AS definition
         FROM pg_trigger WHERE tgrelid = '"default".trips_synced'::regclass AND NOT tgisinternal
          AND tgname NOT LIKE '%\\_live\\_%' -- the live change capture's own triggers aside
        ORDER BY tgname`,
    );
    expect(rows.map((row) => [row.name, row.enabled])).toEqual([
      ['lakebase_graphql_deletes', 'A'],
      ['lakebase_graphql_inserts', 'A'],
      ['lakebase_graphql_updates', 'A'],
    ]);
    expect(rows[0]!.definition).toMatch(/AFTER DELETE .* REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT/);
    expect(rows[1]!.definition).toMatch(/AFTER INSERT OR TRUNCATE .* FOR EACH STATEMENT/);
    expect(rows[2]!.definition).toMatch(/AFTER UPDATE .* REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT/);
  });

  it('lets a sync written as upserts that only add rows append, and counts the ones that change rows', async () => {
    await rebuild();
    const { rows } = await writer.query<{ max: string }>(`SELECT max(id)::text AS max FROM "default".trips_synced`);
    const next = Number(rows[0]!.max) + 1;
    // The local pipeline's shape: deletes and upserts in one statement; here no row is deleted or updated.
    const upsert = (ids: number[]) =>
      writer.query(
        `WITH removed AS (DELETE FROM "default".trips_synced WHERE id = -1 RETURNING id),
              upserted AS (
                INSERT INTO "default".trips_synced (id, pickup_zip, fare_amount)
                SELECT id, 10001, 12.5 FROM unnest($1::int8[]) AS id
                ON CONFLICT (id) DO UPDATE SET fare_amount = EXCLUDED.fare_amount RETURNING id)
         SELECT (SELECT count(*) FROM removed) + (SELECT count(*) FROM upserted)`,
        [ids],
      );
    await upsert([next, next + 1]);
    expect(await answeredFrom()).toBe('raw');
    expect(await gw.app.rollups.refresh()).toMatchObject({ status: 'built', build: { kind: 'append' } });
    expect(await answeredFrom()).toBe('rollup');
    // Now the upsert changes an existing row: more than an append.
    await upsert([next]);
    expect(await answeredFrom()).toBe('raw');
    expect(await gw.app.rollups.refresh()).toMatchObject({ status: 'built', build: { kind: 'full' } });
    expect(await answeredFrom()).toBe('rollup');
    await writer.query(`DELETE FROM "default".trips_synced WHERE id >= $1`, [next]);
  });

  it('sees a write only once it commits, exactly then', async () => {
    await rebuild();
    await writer.query('BEGIN');
    await writer.query(`UPDATE "default".trips_synced SET fare_amount = fare_amount * 2 WHERE id % 4 = 0`);
    // Uncommitted: readers still see the old rows, and the rollup still equals them.
    expect(await answeredFrom()).toBe('rollup');
    await writer.query('COMMIT');
    expect(await answeredFrom()).toBe('raw');
    await rebuild();
    await writer.query('BEGIN');
    await writer.query(`DELETE FROM "default".trips_synced WHERE id % 5 = 0`);
    await writer.query('ROLLBACK');
    expect(await answeredFrom()).toBe('rollup');
  });

  it('counts writers running as replicas (bulk loaders) too', async () => {
    await rebuild();
    await writer.query(`SET session_replication_role = replica`);
    try {
      await writer.query(`UPDATE "default".trips_synced SET fare_amount = fare_amount + 1 WHERE id % 3 = 0`);
    } finally {
      await writer.query(`SET session_replication_role = origin`);
    }
    expect(await answeredFrom()).toBe('raw');
  });

  it('trusts no counter while the trigger is disabled or gone, and puts it back', async () => {
    await rebuild();
    await writer.query(`ALTER TABLE "default".trips_synced DISABLE TRIGGER lakebase_graphql_deletes`);
    expect(await answeredFrom()).toBe('raw');
    expect(await gw.app.rollups.refresh()).toMatchObject({ status: 'unprovable' });
    await writer.query(`DROP TRIGGER lakebase_graphql_updates ON "default".trips_synced`);
    await writer.query(`UPDATE "default".trips_synced SET fare_amount = 1 WHERE id = 7`);
    expect(await answeredFrom()).toBe('raw');
    await gw.app.rollups.install();
    await rebuild();
  });

  it('proves freshness inside the answering statement, adding a check only after the table changed', async () => {
    const statementsFor = async () => {
      const before = gw.app.statements.total;
      const from = await answeredFrom();
      return { from, statements: gw.app.statements.total - before };
    };
    await rebuild();
    expect(await statementsFor()).toEqual({ from: 'rollup', statements: 1 });
    await writer.query(`UPDATE "default".trips_synced SET fare_amount = fare_amount + 1 WHERE id % 7 = 0`);
    // The speculative statement's proof fails, a check confirms, and the table answers.
    expect(await statementsFor()).toEqual({ from: 'raw', statements: 3 });
    // Nothing proven to speculate on now: check, then the table.
    expect(await statementsFor()).toEqual({ from: 'raw', statements: 2 });
    expect((await gw.app.rollups.refresh()).status).toBe('built');
    expect(await statementsFor()).toEqual({ from: 'rollup', statements: 2 });
    expect(await statementsFor()).toEqual({ from: 'rollup', statements: 1 });
  });

  it('keeps an empty rollup answer, which carries no proof, once a check made after it agrees', async () => {
    const EMPTY = `{ tripGroups(groupBy: [PICKUP_ZIP], first: 10, filter: { pickupZip: { eq: 1 } }) { pickupZip } }`;
    const emptyAnswer = async () => {
      const before = { statements: gw.app.statements.total, ...gw.app.rollups.served };
      const { body } = await gw.query<{ tripGroups: unknown[] }>(EMPTY);
      expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
      expect(body.data!.tripGroups).toEqual([]);
      return {
        statements: gw.app.statements.total - before.statements,
        from: gw.app.rollups.served.rollup > before.rollup ? 'rollup' : 'raw',
      };
    };
    await rebuild();
    // The rollup statement, then a check: the same signature, so the empty answer stands.
    expect(await emptyAnswer()).toEqual({ statements: 2, from: 'rollup' });
    await writer.query(`INSERT INTO "default".trips_synced (id, pickup_zip) VALUES (900001, 1)`);
    const { body } = await gw.query<{ tripGroups: { pickupZip: number | null }[] }>(EMPTY);
    // Stale now: the check disagrees and the table answers, with the new trip.
    expect(body.data!.tripGroups).toEqual([{ pickupZip: 1 }]);
    await writer.query(`DELETE FROM "default".trips_synced WHERE id = 900001`);
  });

  it('answers from the table, without an error, when the signature function is dropped under it', async () => {
    await rebuild();
    await writer.query(`DROP FUNCTION lakebase_graphql.trip_rollup_v4_signature()`);
    expect(await answeredFrom()).toBe('raw');
    expect(await answeredFrom()).toBe('raw');
    await gw.app.rollups.install();
    await rebuild();
  });

  it('trusts no rollup once the ZIP table changes, while a restart that rewrites nothing keeps it', async () => {
    // The borough grains resolved each ZIP's borough when they were built.
    await rebuild();
    expect(await installZipZones(gw.database.pool, 'lakebase_graphql')).toMatchObject({ inserted: 0, updated: 0 });
    expect(await answeredFrom()).toBe('rollup');
    await writer.query(`UPDATE lakebase_graphql.zip_zones SET borough = 'Elsewhere' WHERE zip = 10001`);
    expect(await answeredFrom()).toBe('raw');
    expect(await installZipZones(gw.database.pool, 'lakebase_graphql')).toMatchObject({ updated: 1 });
    await rebuild();
    await writer.query(`BEGIN; TRUNCATE lakebase_graphql.zip_zones; ROLLBACK`);
    expect(await answeredFrom()).toBe('rollup');
    await writer.query(`TRUNCATE lakebase_graphql.zip_zones`);
    expect(await answeredFrom()).toBe('raw');
    await installZipZones(gw.database.pool, 'lakebase_graphql');
    await rebuild();
  });

  it('answers from the table, and says why once, when the role may not create the trigger', async () => {
    // A role that may read the synced table and keep its own gateway schema, but not put triggers on the table.
    const { app, warn } = await appAsRole(gw, 'agg_reader', 'SELECT', 'reader_gw');
    try {
      await app.initialised;
      await app.rollups.install();
      // The live change capture needs the same privilege: it falls back, and says so once too.
      const live = warn.mock.calls.filter((call) => /live changes: NOT exact/.test(String(call[0])));
      expect(live).toHaveLength(1);
      expect(live[0]![0]).toMatch(/GRANT TRIGGER/);
      expect(app.live.mechanism).toBe('key-high-water');
      const rollup = warn.mock.calls.filter((call) => !/live changes/.test(String(call[0])));
      expect(rollup).toHaveLength(1);
      expect(rollup[0]![0]).toMatch(/cannot install the change trigger/);
      expect(rollup[0]![1]).toMatchObject({
        fix: expect.stringMatching(/TRIGGER/),
        error: expect.any(String),
      });
      expect(await app.rollups.refresh()).toMatchObject({ status: 'unprovable' });
      expect(await app.rollups.freshRollup()).toBeNull();
      const response = await app.gateway.fetch('http://gateway.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `{ tripStats { count } }` }),
      });
      const body = (await response.json()) as { data?: { tripStats: { count: string } } };
      expect(Number(body.data?.tripStats.count)).toBeGreaterThan(0);
      expect(app.rollups.served).toEqual({ raw: 1, rollup: 0 });
    } finally {
      await app.close();
    }
  });
});

describe('a role with TRIGGER on the synced table but not its owner', () => {
  it('gets exact live changes, and rollup advice that names ownership, not the grant it has', async () => {
    const gw = await startTestGateway('agg_trigger_not_owner');
    const { app, warn } = await appAsRole(gw, 'agg_trigger_only', 'SELECT, TRIGGER', 'trigger_only_gw');
    try {
      await app.initialised;
      await app.rollups.install();
      expect(app.live.mechanism).toBe('trigger');
      const rollup = warn.mock.calls.filter((call) => /rollups unused/.test(String(call[0])));
      expect(rollup).toHaveLength(1);
      expect(rollup[0]![1]).toMatchObject({ error: expect.stringMatching(/must be owner/) });
      expect((rollup[0]![1] as { fix: string }).fix).toMatch(/has TRIGGER on default\.trips_synced.*owner/);
      expect((rollup[0]![1] as { fix: string }).fix).not.toMatch(/^grant/);
    } finally {
      await app.close();
      await gw.close();
      await dropTestRole('agg_trigger_only');
    }
  });
});

describe('catching up when the table changes', () => {
  it('folds an append into the rollup when the trigger announces it, long before the next poll', async () => {
    const gw = await startTestGateway('agg_wake', { ROLLUP_POLL_MS: '3600000' });
    try {
      await vi.waitFor(() => expect(gw.app.live.listener?.listening).toBe(true), { timeout: 20_000 });
      await insertAggregateTrips(gw.database.pool, 300);
      await vi.waitFor(async () => expect(await gw.app.rollups.freshRollup()).not.toBeNull(), { timeout: 20_000 });
      const before = await gw.app.rollups.freshRollup();
      await insertAggregateTrips(gw.database.pool, 50, 10_000);
      // Stale at once (the INSERT was counted), then fresh again without any poll: the hour-long
      // interval cannot have fired, only the notification can have woken the maintainer.
      await vi.waitFor(
        async () => {
          const now = await gw.app.rollups.freshRollup();
          expect(now).not.toBeNull();
          expect(now!.signature).not.toBe(before!.signature);
        },
        { timeout: 20_000, interval: 50 },
      );
      const { body } = await gw.query<{ tripStats: { count: string } }>(`{ tripStats { count } }`);
      const { rows } = await gw.database.pool.query<{ n: string }>(
        `SELECT count(*)::text AS n FROM "default".trips_synced`,
      );
      expect(body.data?.tripStats.count).toBe(rows[0]!.n);
      expect(gw.app.rollups.served.rollup).toBe(1);
    } finally {
      await gw.close();
    }
  });
});

describe('ROLLUP_FRESHNESS=statistics', () => {
  it('needs no trigger, and serves the rollup while the statistics show no change', async () => {
    const gw = await startTestGateway('agg_stats', { ROLLUP_POLL_MS: '0', ROLLUP_FRESHNESS: 'statistics' });
    try {
      await insertAggregateTrips(gw.database.pool, 300);
      await gw.database.pool.query('SELECT pg_stat_force_next_flush()');
      const triggers = await gw.database.pool.query(
        `SELECT 1 FROM pg_trigger WHERE tgrelid = '"default".trips_synced'::regclass AND NOT tgisinternal
           AND tgname NOT LIKE '%\\_live\\_%'`,
      );
      expect(triggers.rowCount).toBe(0);
      expect(await gw.app.rollups.refresh()).toMatchObject({ status: 'built', build: { kind: 'full' } });
      expect(await gw.app.rollups.freshRollup()).not.toBeNull();
      await gw.database.pool.query(`DELETE FROM "default".trips_synced WHERE id % 2 = 0`);
      await gw.database.pool.query('SELECT pg_stat_force_next_flush()');
      expect(await gw.app.rollups.freshRollup()).toBeNull();
    } finally {
      await gw.close();
    }
  });
});

describe("inserts below the rollup's highest id, one after another (a backfill)", () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startTestGateway('agg_backfill', { ROLLUP_POLL_MS: '150' });
    await insertAggregateTrips(gw.database.pool, 600, 1_000);
    await gw.app.rollups.refresh();
  });
  afterAll(() => gw.close());

  it('wait for the table to hold still before a full rebuild, instead of one per commit', async () => {
    const fullBefore = gw.app.rollups.builds.full ?? 0;
    // Commits every 20 ms for about a second (faster than the maintainer looks: its poll is 150 ms), each
    // adding trips below the highest id, so none can be appended.
    for (let batch = 0; batch < 40; batch += 1) {
      await gw.database.pool.query(
        `INSERT INTO "default".trips_synced (id, tpep_pickup_datetime, fare_amount, pickup_zip)
         SELECT g, timestamptz '2016-01-10 00:00:00+00' + g * interval '1 minute', 7.5, 10001
           FROM generate_series($1::int8, $1::int8 + 2) AS g`,
        [1 + batch * 3],
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const duringWrites = (gw.app.rollups.builds.full ?? 0) - fullBefore;
    // One full build for the first such commit (it could have been an append), then none while commits keep
    // coming. Two checks in a row that read the same signature count as holding still, and on a starved event
    // loop the poll and a wake-up's check can follow each other closely between two commits: a few more. Before:
    // one per look, 10-12 here (overlapping checks, now one at a time, made 5 and 6 under heavy CPU contention).
    expect(duringWrites).toBeLessThanOrEqual(7);
    // Once the table holds still, the rollup catches up and answers again.
    await expect.poll(async () => (await gw.app.rollups.freshRollup()) !== null, { timeout: 10_000 }).toBe(true);
  });
});

/**
 * A second gateway on `gw`'s database, logged in as `role` (created when missing) with the grants docs/deploy.md
 * lists plus `privileges` on the synced table, in a gateway schema of its own; its warnings are recorded.
 */
async function appAsRole(
  gw: TestGateway,
  role: string,
  privileges: string,
  gatewaySchema: string,
): Promise<{ app: App; warn: Mock }> {
  const roleUrl = new URL(await grantGatewayRole(gw.database, role, privileges));
  const warn = vi.fn();
  const logger: Logger = { debug: () => {}, info: () => {}, warn, error: () => {}, child: () => logger };
  const app = createApp({
    config: {
      ...gw.config,
      rollups: { ...gw.config.rollups, pollMs: 0 },
      database: {
        ...gw.config.database,
        user: role,
        password: role,
        host: roleUrl.hostname,
        gatewaySchema,
      },
    },
    logger,
  });
  return { app, warn };
}
