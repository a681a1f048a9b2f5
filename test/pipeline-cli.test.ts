/** The dev CLI's pipeline commands, run through the dispatcher against a real database. */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/dev/cli.js';
import { pipelineNames, relations } from '../src/dev/pipeline/names.js';
import { lockNewTripIds } from '../src/dev/pipeline/source-writes.js';
import type { TestDatabase } from './support/database.js';
import { countRows, createPipelineTestDatabase, headVersion, tableDifference } from './support/pipeline.js';

describe('npm run data -- <pipeline command>', () => {
  let db: TestDatabase;
  const names = pipelineNames({
    sourceSchema: 'cli_source',
    syncedSchema: 'cli_synced',
    pipelineSchema: 'cli_pipeline',
  });
  const r = relations(names);

  beforeAll(async () => {
    db = await createPipelineTestDatabase('pipeline_cli');
    vi.stubEnv('DATABASE_URL', db.url);
    vi.stubEnv('PGSCHEMA', names.syncedSchema);
    vi.stubEnv('LAKEBASE_DEV_SOURCE_SCHEMA', names.sourceSchema);
    vi.stubEnv('LAKEBASE_DEV_PIPELINE_SCHEMA', names.pipelineSchema);
    vi.stubEnv('NODE_ENV', 'development');
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await db.drop();
  });

  /** Runs a command; returns its exit code and what it printed on stdout and stderr. */
  async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void out.push(parts.join(' ')));
    vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => void err.push(parts.join(' ')));
    const code = await runCli(argv);
    vi.restoreAllMocks();
    // The last stderr line is the outcome; earlier ones say which database was used.
    return { code, out: out.join('\n'), err: err.at(-1) ?? '' };
  }

  it('inserts, updates, deletes, syncs and reports status', async () => {
    expect(await run('insert', '--count', '25')).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^inserted 25 trips \(ids 1\.\.25\)/),
    });
    const explicit = await run(
      'insert',
      '--id',
      '21933',
      '--pickup',
      '2016-02-14T16:52:13Z',
      '--dropoff',
      '2016-02-14T17:16:04Z',
      '--distance',
      '4.94',
      '--fare',
      '19',
      '--pickup-zip',
      '10282',
      '--dropoff-zip',
      '10171',
    );
    expect(explicit.code).toBe(0);
    const { rows } = await db.pool.query(`SELECT * FROM ${r.source} WHERE id = 21933`);
    expect(rows).toEqual([
      {
        id: '21933',
        tpep_pickup_datetime: new Date('2016-02-14T16:52:13Z'),
        tpep_dropoff_datetime: new Date('2016-02-14T17:16:04Z'),
        trip_distance: 4.94,
        fare_amount: 19,
        pickup_zip: 10282,
        dropoff_zip: 10171,
      },
    ]);
    expect(await run('update', '--ids', '21933,3', '--fare', '20')).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^updated 2 trips/),
    });
    expect(await run('delete', '--count', '4')).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^deleted 4 trips/),
    });
    expect(await tableDifference(db.pool, names)).not.toEqual({ missing: 0, extra: 0 });

    const sync = await run('sync');
    expect(sync.code).toBe(0);
    expect(sync.out).toMatch(/COMPLETED: synced table at source version \d+/);
    expect(await tableDifference(db.pool, names)).toEqual({ missing: 0, extra: 0 });

    const status = await run('status');
    const info = JSON.parse(status.out) as {
      name: string;
      data_synchronization_status: {
        detailed_state: string;
        last_sync: { delta_table_sync_info: { delta_commit_version: number } };
      };
    };
    expect(info.name).toBe('main.cli_synced.trips_synced');
    expect(info.data_synchronization_status.detailed_state).toBe('SYNCED_TABLE_ONLINE_NO_PENDING_UPDATE');
    expect(info.data_synchronization_status.last_sync.delta_table_sync_info.delta_commit_version).toBe(
      await headVersion(db.pool, names),
    );
  });

  it('streams a given number of rows in batches, one version each', async () => {
    const rowsBefore = await countRows(db.pool, r.source);
    const versionBefore = await headVersion(db.pool, names);
    const result = await run('stream', '--rate', '2000', '--rows', '150', '--batch', '20ms');
    expect(result).toMatchObject({ code: 0, out: expect.stringMatching(/^inserted 150 trips in \d+ transactions/) });
    expect(await countRows(db.pool, r.source)).toBe(rowsBefore + 150);
    const transactions = Number(/in (\d+) transactions/.exec(result.out)?.[1]);
    expect(await headVersion(db.pool, names)).toBe(versionBefore + transactions);
    expect(await run('sync', '--full')).toMatchObject({ code: 0 });
    expect(await tableDifference(db.pool, names)).toEqual({ missing: 0, extra: 0 });
  });

  // insert-reversed read the maximum id without the lock `insert` and `stream` take: a stream beside it died on a
  // duplicate key, or insert-reversed blamed an --ids it was not given.
  it('allocates insert-reversed ids under the lock the other inserting commands take', async () => {
    const holder = await db.pool.connect();
    try {
      await holder.query('BEGIN');
      const held = await lockNewTripIds(holder, names);
      let done = false;
      const reversed = run('insert-reversed').then((result) => {
        done = true;
        return result;
      });
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      // Waiting for the lock, not past the ids the holder may still take.
      expect(done).toBe(false);
      await holder.query(`INSERT INTO ${r.source} (id) VALUES ($1), ($2)`, [held + 1n, held + 2n]);
      await holder.query('COMMIT');
      const result = await reversed;
      expect(result).toMatchObject({
        code: 0,
        out: expect.stringContaining(`inserted trip ${held + 4n} (committed first), then trip ${held + 3n}`),
      });
    } finally {
      holder.release();
    }
  });

  it('names the input at fault', async () => {
    expect(await run('insert', '--id', '777777')).toMatchObject({ code: 0 });
    expect(await run('insert', '--id', '777777')).toMatchObject({
      code: 1,
      err: 'insert: --id: trip 777777 already exists in the source table',
    });
    expect(await run('update', '--fare', '3')).toMatchObject({
      code: 1,
      err: 'update: give exactly one of --ids or --count (update --help)',
    });
    expect(await run('delete', '--ids', '1,x')).toMatchObject({
      code: 1,
      err: 'delete: --ids: expected comma-separated integer ids, got "x"',
    });
    expect(await run('stream', '--batch', 'soon')).toMatchObject({
      code: 1,
      err: expect.stringContaining('--batch: expected a duration'),
    });
    expect(await run('pipeline', '--policy', 'HOURLY')).toMatchObject({
      code: 1,
      err: 'pipeline: --policy: expected one of SNAPSHOT, TRIGGERED, CONTINUOUS, got "HOURLY"',
    });
    // Values outside the columns' types used to come back in Postgres' words, naming no option.
    expect(await run('insert', '--id', '9', '--pickup-zip', '1.5')).toMatchObject({
      code: 1,
      err: 'insert: --pickup-zip: expected a ZIP code (a whole number, e.g. 10001), got "1.5"',
    });
    expect(await run('update', '--ids', '1', '--dropoff-zip', '99999999999')).toMatchObject({
      code: 1,
      err: 'update: --dropoff-zip: expected a ZIP code (a whole number, e.g. 10001), got "99999999999"',
    });
    expect(await run('insert', '--id', '99999999999999999999')).toMatchObject({
      code: 1,
      err: 'insert: --id: expected an integer id from -9223372036854775808 to 9223372036854775807, got "99999999999999999999"',
    });
    expect(await run('delete', '--ids', '1,99999999999999999999')).toMatchObject({
      code: 1,
      err: 'delete: --ids: expected comma-separated integer ids, got "99999999999999999999"',
    });
    expect(await run('insert', '--count', '0')).toMatchObject({
      code: 1,
      err: 'insert: --count: expected at least 1 trip to insert, got 0',
    });
    // Exit code 2: usage errors, as for the data loading commands.
    expect(await run('nonsense')).toMatchObject({
      code: 2,
      err: expect.stringContaining('unknown command "nonsense"'),
    });
  });
});
