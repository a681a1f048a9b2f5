import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSyncedTable } from '../src/dev/synced-table.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

describe('test harness', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('harness');
  });
  afterAll(() => db.drop());

  it('creates the synced table with the Lakebase column types', async () => {
    await ensureSyncedTable(db.pool, 'default', 'trips_synced');
    const { rows } = await db.pool.query<{ column_name: string; data_type: string }>(
      `SELECT column_name, data_type FROM information_schema.columns
        WHERE table_schema = 'default' AND table_name = 'trips_synced' ORDER BY ordinal_position`,
    );
    expect(rows).toEqual([
      { column_name: 'id', data_type: 'bigint' },
      { column_name: 'tpep_pickup_datetime', data_type: 'timestamp with time zone' },
      { column_name: 'tpep_dropoff_datetime', data_type: 'timestamp with time zone' },
      { column_name: 'trip_distance', data_type: 'double precision' },
      { column_name: 'fare_amount', data_type: 'double precision' },
      { column_name: 'pickup_zip', data_type: 'integer' },
      { column_name: 'dropoff_zip', data_type: 'integer' },
    ]);
  });
});

describe('embedded Postgres process hooks', () => {
  it('leaves no exit or signal handlers behind (they would turn a failing run into exit code 0)', async () => {
    const { mkdtemp } = await import('node:fs/promises');
    const os = await import('node:os');
    const path = await import('node:path');
    const { startEmbeddedPostgres } = await import('../src/dev/embedded-postgres.js');
    const events = ['beforeExit', 'SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    const before = events.map((event) => process.listenerCount(event));
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lakebase-graphql-hooks-'));
    const embedded = await startEmbeddedPostgres({ dataDir: path.join(dir, 'pg'), persistent: false });
    try {
      expect(events.map((event) => process.listenerCount(event))).toEqual(before);
    } finally {
      await embedded.stop();
    }
  });
});

describe('embedded Postgres as root', () => {
  // PostgreSQL runs as the "postgres" user then, which cannot enter a 0700 folder of root's, like a clone under /root.
  it.skipIf(process.getuid?.() !== 0)(
    'starts from a folder only root can enter, moving the data where the server user can reach it',
    async () => {
      const { mkdtemp, rm } = await import('node:fs/promises');
      const os = await import('node:os');
      const path = await import('node:path');
      const pg = (await import('pg')).default;
      const { startEmbeddedPostgres } = await import('../src/dev/embedded-postgres.js');
      const outer = await mkdtemp(path.join(os.homedir(), 'lakebase-graphql-private-'));
      const notices: string[] = [];
      try {
        const inner = await mkdtemp(path.join(outer, 'clone-'));
        const embedded = await startEmbeddedPostgres({
          dataDir: path.join(inner, '.data', 'pg'),
          persistent: false,
          notice: (line) => notices.push(line),
        });
        try {
          expect(embedded.dataDir.startsWith(outer)).toBe(false);
          expect(notices.join('\n')).toContain(`keeping the PostgreSQL data in ${embedded.dataDir}`);
          const client = new pg.Client({ connectionString: embedded.connectionString });
          await client.connect();
          const { rows } = await client.query<{ one: number }>('SELECT 1 AS one');
          await client.end();
          expect(rows).toEqual([{ one: 1 }]);
        } finally {
          await embedded.stop();
        }
        // A throwaway cluster takes its moved folder with it: runs of the suite left empty /var/tmp folders behind.
        const { existsSync } = await import('node:fs');
        expect(existsSync(embedded.dataDir)).toBe(false);
        expect(existsSync(path.dirname(embedded.dataDir))).toBe(false);
      } finally {
        await rm(outer, { recursive: true, force: true });
      }
    },
  );
});
