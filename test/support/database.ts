/**
 * Each test file gets its own database on the shared test cluster, so files
 * can run in parallel without seeing each other's rows.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

export interface TestDatabase {
  url: string;
  name: string;
  /** A pool on the test database, for arranging data and checking results with plain SQL. */
  pool: pg.Pool;
  drop(): Promise<void>;
}

export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const adminUrl = inject('adminDatabaseUrl');
  const name = `t_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const { url, pool } = await openNewDatabase(adminUrl, name);
  return {
    url,
    name,
    pool,
    async drop() {
      await pool.end();
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** CREATE DATABASE `name` on the cluster `adminUrl` logs in to; its URL, and a pool on it. */
export async function openNewDatabase(adminUrl: string, name: string): Promise<{ url: string; pool: pg.Pool }> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4 });
  // pool.end() resolves before its clients have finished closing, so DROP DATABASE ... WITH (FORCE) (or a cluster
  // that stops) can still end one; unhandled, that FATAL would surface as an uncaught error in whichever test runs
  // next.
  pool.on('error', () => {});
  return { url: url.toString(), pool };
}

/**
 * A login role (password: its name) with the grants docs/deploy.md lists for the gateway's role, plus
 * `privileges` on the synced table; returns the test database's URL logged in as it. Created when missing:
 * roles belong to the cluster, which test files share.
 */
export async function grantGatewayRole(database: TestDatabase, role: string, privileges: string): Promise<string> {
  await database.pool.query(`DO $$ BEGIN
                               IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role}') THEN
                                 CREATE ROLE ${role} LOGIN PASSWORD '${role}';
                               END IF;
                             END $$`);
  await database.pool.query(`GRANT CREATE ON DATABASE "${database.name}" TO ${role};
                             GRANT USAGE ON SCHEMA "default" TO ${role};
                             GRANT ${privileges} ON "default".trips_synced TO ${role}`);
  const url = new URL(database.url);
  url.username = role;
  url.password = role;
  return url.toString();
}

/**
 * Drops a login role a test created on the shared cluster. Roles belong to the
 * cluster, not to the test's database, so dropping the database leaves them.
 */
export async function dropTestRole(role: string): Promise<void> {
  const client = new pg.Client({ connectionString: inject('adminDatabaseUrl') });
  await client.connect();
  try {
    await client.query(`DROP ROLE IF EXISTS "${role.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}

/**
 * Backends of the pool's database waiting for a lock (optionally only one application's), oldest first: how a
 * test knows that a statement it started is blocked where it meant it to be.
 */
export async function lockWaiters(pool: pg.Pool, applicationName?: string): Promise<number[]> {
  const { rows } = await pool.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity
      WHERE wait_event_type = 'Lock' AND datname = current_database() AND ($1::text IS NULL OR application_name = $1)
      ORDER BY backend_start`,
    [applicationName ?? null],
  );
  return rows.map((row) => row.pid);
}

/**
 * The cluster's open write transactions (those holding back `pg_snapshot_xmin(pg_current_snapshot())`, which
 * the change record's retention prunes below), one line each: what a test waiting for a prune names when the
 * prune never came. Test files share the cluster, so the holder may be another file's.
 */
export async function horizonHolders(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ line: string }>(
    `SELECT format('%s/%s pid %s (%s, transaction open %s s): %s', datname, application_name, pid, state,
                   round(extract(epoch FROM now() - xact_start)::numeric, 1), left(query, 120)) AS line
       FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid() ORDER BY xact_start`,
  );
  return rows.map((row) => row.line);
}

/** `waiting`, failing with the open write transactions named when it fails (see horizonHolders). */
export async function namingHorizonHolders<T>(pool: pg.Pool, waiting: Promise<T>): Promise<T> {
  try {
    return await waiting;
  } catch (error) {
    const holders = await horizonHolders(pool).catch((failure: unknown) => [`(not listed: ${String(failure)})`]);
    const message = `${error instanceof Error ? error.message : String(error)}\nopen write transactions:\n${
      holders.join('\n') || '(none)'
    }`;
    throw new Error(message, { cause: error });
  }
}
