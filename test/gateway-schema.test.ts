/**
 * What the gateway owns in its schema (the ZIP table, the rollup tables, their
 * triggers and functions) installs through one installer: one transaction, one
 * advisory lock keyed on the gateway schema. Real Postgres throughout.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRollup } from '../src/aggregates/rollup/build.js';
import { createApp, type App } from '../src/app.js';
import { loadConfig } from '../src/config/env.js';
import { createDb } from '../src/db/database.js';
import { gatewaySchemaLockKey } from '../src/db/gateway-schema/installer.js';
import { ROLLUP_TABLE_NAMES } from '../src/db/tables.js';
import { ensureSyncedTable } from '../src/dev/synced-table.js';
import { createLogger, type Logger } from '../src/logger.js';
import { NYC_ZIP_ZONES } from '../src/zones/nyc-zip-codes.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

interface Line {
  level: string;
  msg: string;
  step?: string;
  inserted?: number;
  gateway: string;
}

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('gateway_schema');
  await ensureSyncedTable(db.pool, 'default', 'trips_synced');
});
afterAll(async () => {
  await db.drop();
});

function configFor(gatewaySchema: string) {
  const loaded = loadConfig({ DATABASE_URL: db.url, GATEWAY_SCHEMA: gatewaySchema, ROLLUP_POLL_MS: '0' });
  if (!loaded.database) throw new Error('test config has no database');
  return { ...loaded, database: loaded.database };
}

describe('the gateway schema installer', () => {
  it('lets two gateways start at once on one database: both become ready, and the schema is installed once', async () => {
    const config = configFor('two_at_once');
    const lines: Line[] = [];
    const logger = (gateway: string): Logger =>
      createLogger('info', { gateway }, (_level, line) => lines.push(JSON.parse(line) as Line));
    const apps: App[] = ['a', 'b'].map((name) => createApp({ config, logger: logger(name), retryMs: 50 }));
    try {
      await Promise.all(apps.map((app) => app.initialised));
      expect(apps.map((app) => app.readiness.initialised)).toEqual([true, true]);
      // Neither start failed and retried.
      expect(lines.filter((line) => line.level === 'error')).toEqual([]);

      // One log line per step, in order, from each gateway.
      const steps = [
        'zip zones',
        'rollup change counters',
        'rollup tables',
        'zip change trigger',
        'rollup signature function',
        'response cache cursor generation',
      ];
      for (const gateway of ['a', 'b']) {
        expect(
          lines
            .filter((line) => line.gateway === gateway && line.msg === 'gateway schema step installed')
            .map((line) => line.step),
        ).toEqual(steps);
      }
      // The rows went in once: whichever gateway took the lock first inserted them, the other found them in place.
      const zipLines = lines.filter((line) => line.step === 'zip zones');
      expect(zipLines.map((line) => line.inserted).sort((x, y) => x! - y!)).toEqual([0, NYC_ZIP_ZONES.length]);

      const { rows } = await db.pool.query<{ relname: string }>(
        `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'two_at_once' AND c.relkind IN ('r', 'p') ORDER BY c.relname`,
      );
      expect(rows.map((row) => row.relname)).toEqual(
        expect.arrayContaining([
          ROLLUP_TABLE_NAMES.rollup,
          ROLLUP_TABLE_NAMES.state,
          ROLLUP_TABLE_NAMES.changes,
          'zip_zones',
        ]),
      );
      const zips = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM two_at_once.zip_zones');
      expect(zips.rows[0]!.n).toBe(NYC_ZIP_ZONES.length);
      const triggers = await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = 'two_at_once.zip_zones'::regclass AND NOT tgisinternal`,
      );
      expect(triggers.rows[0]!.n).toBe(1);
    } finally {
      await Promise.all(apps.map((app) => app.close()));
    }
  });

  it('installs nothing while another installer holds the schema lock, and everything once it is released', async () => {
    const config = configFor('held');
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    let app: App | undefined;
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock(hashtext($1))', [gatewaySchemaLockKey('held')]);
      app = createApp({ config, logger: createLogger('error', {}, () => {}), retryMs: 50 });
      // Wait until the installer is queued on the lock, then check it has created nothing.
      await expect
        .poll(
          async () =>
            (
              await db.pool.query<{ n: number }>(
                `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`,
              )
            ).rows[0]!.n,
          { timeout: 20_000 },
        )
        .toBe(1);
      expect((await db.pool.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'held'`)).rowCount).toBe(0);
      await holder.query('COMMIT');
      await app.initialised;
      expect(app.readiness.initialised).toBe(true);
      expect((await db.pool.query('SELECT 1 FROM held.zip_zones')).rowCount).toBe(NYC_ZIP_ZONES.length);
    } finally {
      await holder.end();
      await app?.close();
    }
  });
});

describe('while the database cannot be reached', () => {
  it('/ready says why the last attempt failed, not only that startup is unfinished', async () => {
    const loaded = loadConfig({
      DATABASE_URL: 'postgres://postgres:postgres@127.0.0.1:1/nowhere',
      ROLLUP_POLL_MS: '0',
    });
    const app = createApp({
      config: { ...loaded, database: loaded.database! },
      logger: createLogger('error', {}, () => {}),
      retryMs: 50,
    });
    try {
      await expect
        .poll(
          async () => {
            const response = await app.gateway.fetch('http://gateway.test/ready');
            return { status: response.status, body: (await response.json()) as { reason: string } };
          },
          { timeout: 10_000 },
        )
        .toMatchObject({
          status: 503,
          body: { reason: expect.stringMatching(/the last attempt failed: .*ECONNREFUSED 127\.0\.0\.1:1/) as unknown },
        });
    } finally {
      await app.close();
    }
  });
});

describe('a rollup build whose connection dies', () => {
  it('rejects with the cause, not with a failed unlock on the dead connection', async () => {
    const config = configFor('dead_build');
    const app = createApp({ config, logger: createLogger('error', {}, () => {}) });
    await app.initialised;
    await app.close();
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      // Lock the rollup so the build waits inside its transaction (after taking the build lock), then kill it there.
      await holder.query('BEGIN');
      await holder.query(`LOCK TABLE dead_build.${ROLLUP_TABLE_NAMES.rollup} IN ACCESS EXCLUSIVE MODE`);
      const target = {
        schema: 'default',
        table: 'trips_synced',
        gatewaySchema: 'dead_build',
        freshness: 'trigger' as const,
      };
      const settled = buildRollup(createDb(pool, config.database), target).then(
        () => null,
        (error: unknown) => error,
      );
      const waiting = `SELECT pid FROM pg_locks WHERE locktype = 'relation' AND NOT granted
                         AND relation = 'dead_build.${ROLLUP_TABLE_NAMES.rollup}'::regclass`;
      await expect.poll(async () => (await holder.query(waiting)).rowCount, { timeout: 20_000 }).toBe(1);
      await holder.query(`SELECT pg_terminate_backend(pid) FROM (${waiting}) AS w`);
      const error = await settled;
      expect(error).toBeInstanceOf(Error);
      // The statement the build was running when its session ended, not the unlock
      // attempted afterwards on the dead connection ("... is not queryable").
      expect((error as Error).message).toMatch(/terminat/i);
      expect((error as Error).message).not.toMatch(/not queryable/);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
      await pool.end();
    }
  });
});
