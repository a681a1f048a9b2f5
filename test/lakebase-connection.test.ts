/**
 * Real Postgres logins with Lakebase-style OAuth passwords: a role whose
 * password is set to each token the fake workspace issues, so an old token
 * really stops working when a new one is issued, as a rotation does. Also the
 * explanation of failed connections, from real Postgres errors.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadDatabricksConfig } from '../src/config/databricks.js';
import { freePort } from '../src/dev/embedded-postgres.js';
import { quoteIdent } from '../src/db/sql-identifiers.js';
import { createWorkspaceClient } from '../src/databricks/workspace-client.js';
import { instanceCredentialIssuer } from '../src/lakebase/credential-issuer.js';
import { LakebaseConnectionError } from '../src/lakebase/errors.js';
import { credentialFirstClient } from '../src/lakebase/pg-client.js';
import { explainConnectionError, type ConnectionTarget } from '../src/lakebase/postgres-errors.js';
import { pgSslOption } from '../src/db/ssl.js';
import { TokenCache } from '../src/lakebase/token-cache.js';
import { createTestDatabase, dropTestRole, type TestDatabase } from './support/database.js';
import { startFakeWorkspace, type FakeWorkspace } from './support/fake-workspace.js';

const CLIENT_ID = '0b7d4c2e-5f61-4a8b-9c3d-7e2f1a6b8c90';
const CLIENT_SECRET = 'fake-client-secret';
const INSTANCE = 'trips-db';

let db: TestDatabase;
let fake: FakeWorkspace;
let host: string;
let port: number;
const role = `app_${randomBytes(4).toString('hex')}`;
let clock = Date.parse('2026-03-01T12:00:00Z');

function workspaceClient() {
  const config = loadDatabricksConfig({
    DATABRICKS_HOST: fake.url,
    DATABRICKS_CLIENT_ID: CLIENT_ID,
    DATABRICKS_CLIENT_SECRET: CLIENT_SECRET,
  });
  return createWorkspaceClient(config, { env: {}, retryTimeoutSeconds: 5 });
}

function tokenCache() {
  return new TokenCache(instanceCredentialIssuer(workspaceClient(), INSTANCE), {
    maxConnectionLifetimeSeconds: 45 * 60,
    now: () => clock,
    logger: { info: () => {}, warn: () => {} },
  });
}

/** A pool of the credential-first client on the test database, as the gateway builds it for Lakebase. */
function credentialFirstPool(cache: TokenCache, extra: Partial<pg.PoolConfig> = {}): pg.Pool {
  return new pg.Pool({
    host,
    port,
    database: db.name,
    user: role,
    password: cache.password,
    Client: credentialFirstClient(cache, 'disable'),
    max: 1,
    ...extra,
  });
}

/** What pool.connect() rejects with; undefined when it connects. */
async function connectError(pool: pg.Pool): Promise<unknown> {
  return pool.connect().then(
    (client) => client.release(),
    (caught: unknown) => caught,
  );
}

async function connectAs(user: string, password: string, database = db.name): Promise<unknown> {
  const client = new pg.Client({ host, port, user, password, database });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return error;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Resolves once `count` more passwords have been asked for, so the test can hold the credential answer until then. */
function passwordGate(password: () => Promise<string>) {
  let asked = 0;
  let target = Infinity;
  let open: () => void = () => {};
  return {
    password: () => {
      asked += 1;
      if (asked >= target) open();
      return password();
    },
    expect(count: number): Promise<void> {
      target = asked + count;
      return new Promise((resolve) => {
        open = resolve;
      });
    },
  };
}

beforeAll(async () => {
  db = await createTestDatabase('lakebase_login');
  const url = new URL(db.url);
  host = url.hostname;
  port = Number(url.port);
  await db.pool.query(`CREATE ROLE ${quoteIdent(role)} LOGIN`);
  fake = await startFakeWorkspace({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    instances: [INSTANCE],
    now: () => clock,
  });
});
afterAll(async () => {
  await fake.close();
  await db.drop();
  await dropTestRole(role);
});
afterEach(() => fake.reset());

describe('OAuth token as the Postgres password', () => {
  it('rotates: new connections log in with the new token, open ones keep working, no query fails', async () => {
    // Precondition: the server really checks passwords (a trust setup would make this test vacuous).
    expect(await connectAs(role, 'not-the-token')).toMatchObject({ code: '28P01' });

    // Postgres reads a role's password when a login starts, before the client
    // sends it; so the role is switched to the token the workspace will issue
    // next at the moment of rotation, before the logins that will use it.
    const rotateRolePassword = () =>
      db.pool.query(`ALTER ROLE ${quoteIdent(role)} PASSWORD ${pg.escapeLiteral(fake.peekNextToken())}`);
    const cache = tokenCache();
    const gate = passwordGate(cache.password);
    let releaseIssue: Promise<void> = Promise.resolve();
    // Hold each credential answer until every pending connection has asked for a password.
    fake.onCredentialIssued = () => releaseIssue;
    const pool = new pg.Pool({ host, port, database: db.name, user: role, password: gate.password, max: 6 });
    try {
      await rotateRolePassword();
      // Four connections at once: one credential request.
      releaseIssue = gate.expect(4);
      const first = await Promise.all([pool.connect(), pool.connect(), pool.connect(), pool.connect()]);
      for (const client of first) {
        expect((await client.query<{ user: string }>('SELECT current_user AS user')).rows[0]?.user).toBe(role);
      }
      expect(fake.count('database-credentials')).toBe(1);
      const [heldA, heldB, ...rest] = first;
      for (const client of rest) client.release(true);

      // 15 minutes on, the token no longer outlives a 45-minute connection: the next login renews it.
      clock += 15 * 60_000;
      await rotateRolePassword();
      releaseIssue = gate.expect(4);
      const during = Array.from({ length: 20 }, (_, i) => pool.query<{ n: number }>('SELECT $1::int AS n', [i]));
      const openSessionQueries = [heldA!.query('SELECT 1 AS n'), heldB!.query('SELECT 1 AS n')];
      const results = await Promise.allSettled([...during, ...openSessionQueries]);

      expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
      expect(fake.count('database-credentials')).toBe(2);
      const [oldToken, newToken] = fake.issued.map((credential) => credential.token);
      expect(newToken).not.toBe(oldToken);
      // The rotation was real: the old token no longer logs in, the new one does.
      expect(await connectAs(role, oldToken!)).toMatchObject({ code: '28P01' });
      expect(await connectAs(role, newToken!)).toBeUndefined();
      // Sessions opened with the old token are unaffected (Postgres checks the password only at login).
      expect((await heldA!.query('SELECT current_user AS user')).rows[0]?.user).toBe(role);
      heldA!.release();
      heldB!.release();
    } finally {
      await pool.end();
    }
  });

  it('a credential API failure reaches pool.connect as the explained error', async () => {
    const cache = tokenCache();
    const pool = credentialFirstPool(cache);
    fake.failNext('database-credentials', { status: 403 });
    try {
      const error = await connectError(pool);
      expect(error).toBeInstanceOf(LakebaseConnectionError);
      expect((error as LakebaseConnectionError).step).toBe('credential-api');
      expect(explainConnectionError(error, target({ passwordSource: 'oauth' }))).toBe(error);
    } finally {
      await pool.end();
    }
  });

  it('a credential API that does not answer fails the connection within the pool wait, naming that API', async () => {
    const cache = tokenCache();
    const pool = credentialFirstPool(cache, { connectionTimeoutMillis: 500 });
    // Held until the finally below: a connection that waited for it (the SDK retries a 429 for up to a minute)
    // would never settle, and the test would time out.
    const release = fake.hold('database-credentials');
    try {
      const error = await connectError(pool);
      expect(error).toBeInstanceOf(LakebaseConnectionError);
      expect((error as LakebaseConnectionError).step).toBe('credential-api');
      expect((error as Error).message).toMatch(/did not come within 450 ms of the 500 ms PG_POOL_WAIT_MS allows/);
    } finally {
      release();
      await pool.end();
    }
  });

  it('a login refused by Postgres comes out of the pool as a postgres-login error', async () => {
    const cache = tokenCache();
    // The role's password is not the token the workspace will issue.
    await db.pool.query(`ALTER ROLE ${quoteIdent(role)} PASSWORD 'something-else'`);
    const pool = credentialFirstPool(cache);
    try {
      const error = await connectError(pool);
      expect(error).toBeInstanceOf(LakebaseConnectionError);
      expect(error).toMatchObject({ step: 'postgres-login', status: '28P01' });
      expect((error as Error).message).toContain(`OAuth token as password of role "${role}"`);
    } finally {
      await pool.end();
    }
  });

  it('with the credential-first client, a failed credential opens no Postgres connection', async () => {
    const proxy = await startCountingProxy(host, port);
    const failing = (cache: TokenCache, extra: Partial<pg.PoolConfig>) =>
      new pg.Pool({ host: '127.0.0.1', port: proxy.port, database: db.name, user: role, max: 1, ...extra });
    try {
      // pg alone: the socket is opened before the password is asked for, and left open when it fails.
      const plainCache = tokenCache();
      const plain = failing(plainCache, { password: plainCache.password });
      fake.failNext('database-credentials', { status: 503 });
      await expect(plain.connect()).rejects.toBeInstanceOf(LakebaseConnectionError);
      expect(proxy.accepted).toBe(1);
      expect(proxy.open).toBe(1);
      proxy.closeAll();
      await plain.end();

      const cache = tokenCache();
      const pool = failing(cache, { password: cache.password, Client: credentialFirstClient(cache, 'disable') });
      fake.failNext('database-credentials', { status: 503 });
      await expect(pool.connect()).rejects.toBeInstanceOf(LakebaseConnectionError);
      expect(proxy.accepted).toBe(1);

      // Once the credential API answers again, the next attempt connects.
      await db.pool.query(`ALTER ROLE ${quoteIdent(role)} PASSWORD ${pg.escapeLiteral(fake.peekNextToken())}`);
      const client = await pool.connect();
      expect((await client.query('SELECT current_user AS user')).rows[0]?.user).toBe(role);
      client.release();
      expect(proxy.accepted).toBe(2);
      await pool.end();
    } finally {
      await proxy.close();
    }
  });
});

/** A TCP relay to Postgres that counts the connections it is asked to open. */
async function startCountingProxy(targetHost: string, targetPort: number) {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted += 1;
    const upstream = net.connect(targetPort, targetHost);
    sockets.add(socket).add(upstream);
    socket.pipe(upstream).pipe(socket);
    const forget = () => {
      socket.destroy();
      upstream.destroy();
      sockets.delete(socket);
      sockets.delete(upstream);
    };
    socket.on('close', forget).on('error', forget);
    upstream.on('close', forget).on('error', forget);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get accepted() {
      return accepted;
    },
    /** Client-side connections still open. */
    get open() {
      return sockets.size / 2;
    },
    closeAll() {
      for (const socket of sockets) socket.destroy();
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function target(overrides: Partial<ConnectionTarget> = {}): ConnectionTarget {
  return { host, port, user: role, database: db.name, passwordSource: 'static', sslMode: 'disable', ...overrides };
}

describe('explaining failed connections', () => {
  it('wrong password: postgres-login, naming the role and what to check', async () => {
    const error = explainConnectionError(await connectAs(role, 'wrong'), target());
    expect(error.step).toBe('postgres-login');
    expect(error.status).toBe('28P01');
    expect(error.message).toContain(`role "${role}"`);
    expect(error.message).toContain('PGPASSWORD');

    const oauth = explainConnectionError(await connectAs(role, 'wrong'), target({ passwordSource: 'oauth' }));
    expect(oauth.message).toContain('service principal client id');
  });

  it('missing database: postgres-login pointing at PGDATABASE', async () => {
    const adminUser = new URL(db.url).username;
    const adminPassword = decodeURIComponent(new URL(db.url).password);
    const error = explainConnectionError(
      await connectAs(adminUser, adminPassword, 'no_such_database'),
      target({ user: adminUser, database: 'no_such_database' }),
    );
    expect(error.step).toBe('postgres-login');
    expect(error.status).toBe('3D000');
    expect(error.message).toContain('PGDATABASE');
  });

  it('nothing listening: postgres-connect pointing at PGHOST/PGPORT', async () => {
    const closedPort = await freePort();
    const client = new pg.Client({ host, port: closedPort, user: role, password: 'x', database: db.name });
    const caught = await client.connect().then(
      () => undefined,
      (error: unknown) => error,
    );
    const error = explainConnectionError(caught, target({ port: closedPort }));
    expect(error.step).toBe('postgres-connect');
    expect(error.message).toContain('PGHOST/PGPORT');
  });

  it('PGSSLMODE=require is enforced: no silent fallback to an unencrypted connection', async () => {
    expect(pgSslOption({ host, sslMode: 'require' })).toEqual({ rejectUnauthorized: false });
    const client = new pg.Client({
      host,
      port,
      user: role,
      password: 'x',
      database: db.name,
      ssl: pgSslOption({ host, sslMode: 'require' }),
    });
    const caught = await client.connect().then(
      () => undefined,
      (error: unknown) => error,
    );
    const error = explainConnectionError(caught, target({ sslMode: 'require' }));
    expect(error.step).toBe('postgres-connect');
    expect(error.message).toContain('PGSSLMODE=require requires SSL');
  });
});
