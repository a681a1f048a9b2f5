import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/dev/cli.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

describe('npm run data (CLI dispatcher)', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  const run = async (...argv: string[]): Promise<{ code: number; output: string }> => {
    const lines: string[] = [];
    const code = await runCli(argv, { env, out: (line) => lines.push(line) });
    return { code, output: lines.join('\n') };
  };
  const count = async () =>
    (await db.pool.query(`SELECT count(*)::int AS n, max(id)::int AS hi FROM "default".trips_synced`)).rows[0];

  beforeAll(async () => {
    db = await createTestDatabase('data_cli');
    env = { DATABASE_URL: db.url };
  });
  afterAll(() => db.drop());

  it('loads the sample into the configured database, creating the synced table, then leaves it alone', async () => {
    const first = await run('sample');
    expect(first.code).toBe(0);
    expect(first.output).toMatch(/using the DATABASE_URL database/);
    expect(first.output).toMatch(/loaded the sample into "default"."trips_synced": 21,932 rows in .* rows\/s/);
    const second = await run('sample');
    expect(second.output).toMatch(/already has rows; nothing loaded/);
    expect(await count()).toEqual({ n: 21_932, hi: 21_932 });
  });

  it('generates N rows and prints the rate', async () => {
    const result = await run('generate', '--rows', '2500', '--seed', '5', '--truncate');
    expect(result.code).toBe(0);
    expect(result.output).toMatch(/loaded 2,500 rows in [\d.]+ s \([\d,]+ rows\/s\)/);
    expect(await count()).toEqual({ n: 2500, hi: 2500 });
    const clash = await run('generate', '--rows', '10');
    expect(clash.code).toBe(1);
    expect(clash.output).toMatch(/duplicate key[\s\S]*use --truncate, or --start-id/);
    expect((await run('generate', '--rows', '10', '--start-id', '2501')).code).toBe(0);
    expect(await count()).toEqual({ n: 2510, hi: 2510 });
  });

  it('explains bad usage with exit code 2', async () => {
    expect(await run('generate')).toMatchObject({
      code: 2,
      output: expect.stringMatching(/--rows is required\nusage: npm run data -- generate --rows N/),
    });
    expect(await run('generate', '--rows', 'many')).toMatchObject({
      code: 2,
      output: expect.stringMatching(/--rows: expected an integer/),
    });
    expect(await run('generate', '--rows', '5', '--colour', 'red')).toMatchObject({
      code: 2,
      output: expect.stringMatching(/--colour/),
    });
    expect(await run('load-csv')).toMatchObject({ code: 2, output: expect.stringMatching(/the CSV file is required/) });
    expect(await run('frobnicate')).toMatchObject({
      code: 2,
      output: expect.stringMatching(/unknown command "frobnicate"[\s\S]*commands:/),
    });
    const help = await run('--help');
    expect(help.code).toBe(0);
    for (const command of ['sample', 'generate', 'load-csv']) expect(help.output).toContain(`  ${command} `);
  });

  it('reports a missing CSV file by name', async () => {
    const result = await run('load-csv', '/nonexistent/trips.csv');
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/load-csv failed: .*\/nonexistent\/trips\.csv/);
  });
});
