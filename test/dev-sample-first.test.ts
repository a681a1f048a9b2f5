/**
 * A new user's first step on an empty embedded database may be an `npm run data` command rather than
 * `npm start`. The sample used to go into the synced table alone on `npm start`, while the command had
 * already given the source rows of its own: the pipeline then wrote the source's trips over the sample's
 * ids (trip 1 of the sample silently became the inserted trip 1), and a full refresh wiped the sample.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/dev/cli.js';
import { startDevEnvironment } from '../src/dev/bootstrap.js';
import { freePort } from '../src/dev/embedded-postgres.js';
import { runningServerOf, stopServer } from '../src/dev/orphaned-postgres.js';
import { DEFAULT_SAMPLE_ROWS } from '../src/dev/sample/trip-generator.js';
import { capturingLogger } from './support/captured-log.js';

describe('an `npm run data` command before the first `npm start` on an empty embedded database', () => {
  let dir: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lakebase-graphql-sample-first-'));
    env = { EMBEDDED_PG_DIR: path.join(dir, 'pg'), EMBEDDED_PG_PORT: String(await freePort()) };
    // The pipeline commands read the process environment (as `npm run data` has it): no configured database.
    vi.stubEnv('DATABASE_URL', undefined);
    vi.stubEnv('PGHOST', undefined);
    vi.stubEnv('NODE_ENV', 'development');
    vi.stubEnv('EMBEDDED_PG_DIR', env.EMBEDDED_PG_DIR);
    vi.stubEnv('EMBEDDED_PG_PORT', env.EMBEDDED_PG_PORT);
  });

  afterAll(async () => {
    vi.unstubAllEnvs();
    const left = await runningServerOf(env.EMBEDDED_PG_DIR!);
    if (left) await stopServer(left.pid);
    await rm(dir, { recursive: true, force: true });
  });

  it('gives the source the sample first, so the inserted trips come after it and npm start keeps both', async () => {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => void out.push(parts.join(' ')));
    vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => void err.push(parts.join(' ')));
    let code: number;
    try {
      code = await runCli(['insert', '--count', '5']);
    } finally {
      vi.restoreAllMocks();
    }
    expect(code).toBe(0);
    expect(err.join('\n')).toContain(
      `the embedded database was empty: loaded the synthetic NYC taxi sample (${DEFAULT_SAMPLE_ROWS} trips)`,
    );
    const first = DEFAULT_SAMPLE_ROWS + 1;
    expect(out.join('\n')).toContain(`inserted 5 trips (ids ${first}..${first + 4})`);

    // The command stopped the database it started; `npm start` starts it again.
    const { logger, lines } = capturingLogger('info');
    const dev = await startDevEnvironment(logger, { ...process.env, ...env });
    try {
      expect(lines.map((line) => line.msg)).toContain('reusing the embedded database and its data');
      expect(lines.map((line) => line.msg)).not.toContain(
        'loaded the synthetic NYC taxi sample into the embedded database',
      );
      const pg = (await import('pg')).default;
      const client = new pg.Client({
        connectionString: `postgres://postgres:postgres@127.0.0.1:${dev.database.port}/postgres`,
      });
      await client.connect();
      try {
        // The CONTINUOUS worker (the default) applies the insert soon after the start.
        const deadline = Date.now() + 30_000;
        const differing = async () =>
          (
            await client.query<{ n: number }>(
              `SELECT count(*)::int AS n FROM (
                 (SELECT * FROM lakebase_dev_source.trips EXCEPT SELECT * FROM "default".trips_synced)
                 UNION ALL
                 (SELECT * FROM "default".trips_synced EXCEPT SELECT * FROM lakebase_dev_source.trips)) d`,
            )
          ).rows[0]!.n;
        while ((await differing()) > 0 && Date.now() < deadline) {
          await client.query(`SELECT pg_sleep(0.2)`);
        }
        expect(await differing()).toBe(0);
        const { rows } = await client.query<{ n: number; hi: number }>(
          `SELECT count(*)::int AS n, max(id)::int AS hi FROM "default".trips_synced`,
        );
        expect(rows[0]).toEqual({ n: DEFAULT_SAMPLE_ROWS + 5, hi: DEFAULT_SAMPLE_ROWS + 5 });
      } finally {
        await client.end();
      }
    } finally {
      await dev.stop();
    }
  }, 120_000);
});
