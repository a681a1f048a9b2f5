import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSyncedTable } from '../src/dev/synced-table.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';

/** The environment of an `npm run data` command on its own embedded database: none of the test run's PG settings. */
function devCommandEnv(dataDir: string, port: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('PG') && name !== 'DATABASE_URL') env[name] = value;
  }
  return { ...env, EMBEDDED_PG_DIR: dataDir, EMBEDDED_PG_PORT: String(port), NODE_ENV: 'development' };
}

/** `npm run data -- stream` until Ctrl-C (SIGINT, to the command alone): the test decides when it ends. */
async function streamCommand(env: Record<string, string>) {
  const { spawn } = await import('node:child_process');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/dev/cli.ts', 'stream', '--rate', '20', '--seconds', '0'],
    { cwd: process.cwd(), env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  /** Resolves once the command has printed `text`; fails after a minute, saying `what`. */
  const printed = async (text: string, what: string) => {
    for (let waited = 0; !stderr.includes(text); waited += 50) {
      if (waited > 60_000) throw new Error(`${what}; it printed: ${stderr.slice(-500)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return { child, exited, stderr: () => stderr, printed };
}

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
    const { mkdtemp, rm } = await import('node:fs/promises');
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
      // stop() removes the cluster's folder, not the one made for it here.
      await rm(dir, { recursive: true, force: true });
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

describe('embedded Postgres left running by a killed gateway', () => {
  it('is stopped and started again by the next start, which says so', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { spawn } = await import('node:child_process');
    const os = await import('node:os');
    const path = await import('node:path');
    const { freePort, startEmbeddedPostgres } = await import('../src/dev/embedded-postgres.js');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lakebase-graphql-orphan-'));
    const dataDir = path.join(dir, 'pg');
    const port = await freePort();
    // A gateway's process that starts the server, then dies without stopping it (kill -9).
    const starter = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `import('./src/dev/embedded-postgres.ts').then(async (m) => {
           const db = await m.startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, port: ${port} });
           console.log('ready ' + db.dataDir);
         });`,
      ],
      { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const usedDir = await new Promise<string>((resolve, reject) => {
      let out = '';
      starter.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /ready (.+)\n/.exec(out);
        if (match) resolve(match[1]!);
      });
      starter.once('exit', (code) => reject(new Error(`the starter exited (${code}) before the server was up`)));
    });
    const killed = new Promise((resolve) => starter.once('exit', resolve));
    starter.kill('SIGKILL');
    await killed;

    const notices: string[] = [];
    const { runningServerOf, stopServer } = await import('../src/dev/orphaned-postgres.js');
    const embedded = await startEmbeddedPostgres({
      dataDir,
      port,
      persistent: false,
      notice: (line) => notices.push(line),
    }).catch(async (error: unknown) => {
      // Leave no server behind when the start fails.
      const left = await runningServerOf(usedDir);
      if (left) await stopServer(left.pid);
      await rm(dir, { recursive: true, force: true });
      throw error;
    });
    try {
      expect(embedded.dataDir).toBe(usedDir);
      expect(notices.some((line) => /stopping the embedded PostgreSQL left running in .* \(pid \d+\)/.test(line))).toBe(
        true,
      );
      const pg = (await import('pg')).default;
      const client = new pg.Client({ connectionString: embedded.connectionString });
      await client.connect();
      expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await client.end();
    } finally {
      await embedded.stop();
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('the dev commands and the embedded database they start', () => {
  // The command that started it stopped it on its way out, killing another command using it mid-way; and an idle
  // connection that the server ended was an unhandled 'error' event that killed the command with a dump.
  it('leave it running while another connection uses it, and outlive it stopping under them', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const os = await import('node:os');
    const path = await import('node:path');
    const { freePort } = await import('../src/dev/embedded-postgres.js');
    const { openDevDatabase } = await import('../src/dev/dev-database.js');
    const { runningServerOf, stopServer } = await import('../src/dev/orphaned-postgres.js');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lakebase-graphql-cli-db-'));
    const env = { EMBEDDED_PG_DIR: path.join(dir, 'pg'), EMBEDDED_PG_PORT: String(await freePort()) };
    const lines: string[] = [];
    const log = (line: string) => void lines.push(line);
    try {
      const first = await openDevDatabase(env, { log });
      const second = await openDevDatabase(env, { log });
      expect(lines.filter((line) => line.startsWith('starting'))).toHaveLength(1);
      await second.pool.query('SELECT 1');
      await first.close();
      expect(lines.at(-1)).toBe('leaving the embedded development database running: 1 other connection(s) use it');
      expect((await second.pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);

      const running = await runningServerOf(env.EMBEDDED_PG_DIR);
      expect(running).toBeDefined();
      await stopServer(running!.pid);
      // Its idle connection ended under it: no crash (vitest fails a test on an unhandled error), the next query fails.
      await new Promise((resolve) => setTimeout(resolve, 200));
      await expect(second.pool.query('SELECT 1')).rejects.toThrow();
      await second.close();
    } finally {
      const left = await runningServerOf(env.EMBEDDED_PG_DIR);
      if (left) await stopServer(left.pid);
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('two dev commands in their own processes, sharing the embedded database the first started', () => {
  // The first kept waiting for the server it left running (its child process), and never exited; nothing then
  // stopped the server once the second was done.
  it('the first exits, leaving it to the second, which stops it as the last to use it', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const os = await import('node:os');
    const path = await import('node:path');
    const { freePort } = await import('../src/dev/embedded-postgres.js');
    const { runningServerOf, stopServer } = await import('../src/dev/orphaned-postgres.js');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lakebase-graphql-cli-pair-'));
    const dataDir = path.join(dir, 'pg');
    const env = devCommandEnv(dataDir, await freePort());
    const within = <T>(promise: Promise<T>, ms: number, what: string) =>
      Promise.race([
        promise,
        new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} after ${ms} ms`)), ms)),
      ]);
    const first = await streamCommand(env);
    let second: Awaited<ReturnType<typeof streamCommand>> | undefined;
    try {
      await first.printed('using the embedded development database in', 'the first command did not start it');
      second = await streamCommand(env);
      await second.printed('(already running)', 'the second command did not reuse it');
      // Its progress line comes after 5 s of writes: by then it has its connections open.
      await second.printed('stream: ', 'the second command did not stream');
      // Both stream now; the first ends, and leaves the database to the second.
      first.child.kill('SIGINT');
      expect(await within(first.exited, 30_000, 'the first command did not exit')).toBe(0);
      expect(first.stderr()).toContain('leaving the embedded development database running: ');
      second.child.kill('SIGINT');
      expect(await within(second.exited, 30_000, 'the second command did not exit')).toBe(0);
      expect(second.stderr()).toContain(
        'stopping the embedded development database that another command left running (nothing else uses it)',
      );
      expect(await runningServerOf(dataDir)).toBeUndefined();
    } finally {
      first.child.kill('SIGKILL');
      second?.child.kill('SIGKILL');
      const left = await runningServerOf(dataDir);
      if (left) await stopServer(left.pid);
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('npm start beside a dev command that started the embedded database', () => {
  // It was refused ("another npm start or test run uses it") until the command ended.
  it('uses the database as it is, and both leave it running for the other', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const os = await import('node:os');
    const path = await import('node:path');
    const pg = (await import('pg')).default;
    const { EmbeddedPostgresSetupError, freePort, startEmbeddedPostgres } =
      await import('../src/dev/embedded-postgres.js');
    const { runningServerOf, stopServer } = await import('../src/dev/orphaned-postgres.js');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lakebase-graphql-cli-share-'));
    const dataDir = path.join(dir, 'pg');
    const cliPort = await freePort();
    const cli = await streamCommand(devCommandEnv(dataDir, cliPort));
    try {
      await cli.printed('using the embedded development database in', 'the command did not start the database');
      // As the CLI's own processes see it, not shared unless asked (a test run must not take it over).
      await expect(startEmbeddedPostgres({ dataDir, port: await freePort() })).rejects.toThrow(
        EmbeddedPostgresSetupError,
      );
      const notices: string[] = [];
      const shared = await startEmbeddedPostgres({
        dataDir,
        port: await freePort(),
        shareWithDataCommands: true,
        notice: (line) => notices.push(line),
      });
      expect(shared.port).toBe(cliPort);
      expect(notices.join('\n')).toContain('that an `npm run data` command started');
      const client = new pg.Client({ connectionString: shared.connectionString });
      await client.connect();
      expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      // The command ends while the gateway's connection is open: it leaves the database running.
      cli.child.kill('SIGINT');
      expect(await cli.exited).toBe(0);
      expect(cli.stderr()).toContain('leaving the embedded development database running: ');
      expect((await client.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await client.end();
      await shared.stop();
      expect(await runningServerOf(dataDir)).toBeDefined();
    } finally {
      cli.child.kill('SIGKILL');
      const left = await runningServerOf(dataDir);
      if (left) await stopServer(left.pid);
      await rm(dir, { recursive: true, force: true });
    }
  });
});
