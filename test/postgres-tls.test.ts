/**
 * TLS of the Postgres connections against a man in the middle: a "server" (support/pg-impostor.ts) that presents
 * the self-signed certificate of test/fixtures/tls and asks for the password in clear text, as any server may.
 *
 * Databricks Apps sets PGSSLMODE=require, which in libpq's sense encrypts but accepts any certificate: until
 * 2026-12-06 the gateway handed its Lakebase OAuth token to whoever answered for PGHOST (and, with PGSSLMODE
 * unset, to any server offering TLS). On Lakebase, require and prefer now verify the certificate and the host
 * name; elsewhere PGSSLROOTCERT gives require libpq's verify-ca, and verify-full checks the host it was given.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type DatabaseConfig } from '../src/config/env.js';
import { sendCancelRequest } from '../src/db/cancel-request.js';
import { connectDedicatedClient } from '../src/db/dedicated-client.js';
import { createPool } from '../src/db/pool.js';
import { settleSslMode } from '../src/db/ssl-preference.js';
import { isLakebaseHost, pgSslOption } from '../src/db/ssl.js';
import { isDatabaseUnavailable } from '../src/db/sql-state.js';
import { silentLogger } from '../src/logger.js';
import { startFakeWorkspace, type FakeWorkspace } from './support/fake-workspace.js';
import { startPgImpostor, type Impostor } from './support/pg-impostor.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const fixture = (name: string) => path.join(root, 'test/fixtures/tls', name);
const PASSWORD = 'pgpassword-secret-4711';

let impostor: Impostor;
/** Listening on an address its certificate does not name (it names 127.0.0.1 and localhost). */
let elsewhere: Impostor;

beforeAll(async () => {
  impostor = await startPgImpostor('127.0.0.1');
  elsewhere = await startPgImpostor('127.0.0.2');
});
afterAll(async () => {
  await impostor.close();
  await elsewhere.close();
});
afterEach(() => {
  for (const server of [impostor, elsewhere]) {
    server.captured.length = 0;
    server.sslAnswers.length = 0;
  }
});

function database(server: Impostor, env: Record<string, string> = {}): DatabaseConfig {
  const host = server === elsewhere ? '127.0.0.2' : '127.0.0.1';
  const config = loadConfig({
    PGHOST: host,
    PGPORT: String(server.port),
    PGUSER: 'gateway',
    PGPASSWORD: PASSWORD,
    ...env,
  }).database;
  if (!config) throw new Error('no database');
  return config;
}

const settled = (config: DatabaseConfig, lakebaseCredentials = false) =>
  settleSslMode(config, { lakebaseCredentials }, silentLogger);

/** Opens one pooled connection; what the server got is in its `captured`. */
async function connect(config: DatabaseConfig): Promise<string> {
  const pool = createPool({ ...config, poolMax: 1 }, { logger: silentLogger });
  try {
    await pool.query('SELECT 1');
    return 'connected';
  } catch (error) {
    return (error as Error).message;
  } finally {
    await pool.end().catch(() => undefined);
  }
}

const passwordsGot = (server: Impostor) => server.captured.filter((entry) => entry.kind === 'password');

describe('on Lakebase (its OAuth tokens, or its host names)', () => {
  it.each(['require', 'prefer'])('PGSSLMODE=%s verifies the certificate: the password never leaves', async (mode) => {
    const config = await settled(database(impostor, { PGSSLMODE: mode }), true);
    expect(config.sslMode).toBe('verify-full');
    expect(await connect(config)).toMatch(/self[- ]signed certificate/);
    expect(passwordsGot(impostor)).toEqual([]);
    // It did try: the refusal is the certificate's, not a connection that never happened.
    expect(impostor.captured.some((entry) => entry.kind === 'probe')).toBe(true);
  });

  it('the LISTEN connection for live changes too', async () => {
    const config = await settled(database(impostor, { PGSSLMODE: 'require' }), true);
    await expect(connectDedicatedClient(config, { applicationName: 'tls-test' })).rejects.toThrow(/certificate/);
    expect(passwordsGot(impostor)).toEqual([]);
  });

  it("checks the LISTEN connection's own host (LIVE_LISTEN_HOST), not PGHOST's", async () => {
    // PGHOST is 127.0.0.1, which the certificate names; the LISTEN host 127.0.0.2 is not named in it.
    const config = {
      ...(await settled(
        database(impostor, { PGSSLMODE: 'require', PGSSLROOTCERT: fixture('self-signed-cert.pem') }),
        true,
      )),
    };
    expect(config.sslMode).toBe('verify-full');
    await expect(
      connectDedicatedClient(config, {
        applicationName: 'tls-test',
        host: { host: '127.0.0.2', port: elsewhere.port },
      }),
    ).rejects.toThrow(/IP: 127\.0\.0\.2 is not in the cert's list/);
    expect(passwordsGot(elsewhere)).toEqual([]);
  });

  it('knows Lakebase by its host names, static passwords included', () => {
    for (const host of [
      'instance-0e8c1546-218c-4d07-a73d-c08d9fbdf375.database.cloud.databricks.com',
      'ep-round-sun-1234.database.us-east-1.cloud.databricks.com',
      'instance-48e7b373-3240-4e42-a9f0-d7289706e1c6.database.azuredatabricks.net',
    ]) {
      expect({ host, lakebase: isLakebaseHost(host) }).toEqual({ host, lakebase: true });
    }
    for (const host of [
      '127.0.0.1',
      'db.example.com',
      'database.cloud.databricks.com.evil.example',
      'databricks.com',
    ]) {
      expect({ host, lakebase: isLakebaseHost(host) }).toEqual({ host, lakebase: false });
    }
  });
});

describe('elsewhere, as libpq', () => {
  it('require without a root certificate encrypts but does not verify (libpq: encryption only)', async () => {
    const config = await settled(database(impostor, { PGSSLMODE: 'require' }));
    expect(config.sslMode).toBe('require');
    expect(await connect(config)).toMatch(/password authentication failed/);
    expect(passwordsGot(impostor)).toEqual([{ kind: 'password', tls: true, user: 'gateway', value: PASSWORD }]);
  });

  it('require with PGSSLROOTCERT verifies the chain (libpq: as verify-ca)', async () => {
    const untrusted = await settled(
      database(impostor, { PGSSLMODE: 'require', PGSSLROOTCERT: fixture('other-ca-cert.pem') }),
    );
    expect(await connect(untrusted)).toMatch(/self[- ]signed certificate|unable to verify/);
    expect(passwordsGot(impostor)).toEqual([]);
    // The server's own certificate as the root: trusted, so the login goes ahead (and fails on the password).
    const trusted = await settled(
      database(impostor, { PGSSLMODE: 'require', PGSSLROOTCERT: fixture('self-signed-cert.pem') }),
    );
    expect(await connect(trusted)).toMatch(/password authentication failed/);
    expect(passwordsGot(impostor)).toHaveLength(1);
  });

  it('verify-full checks the host name it was given, verify-ca does not', async () => {
    const env = { PGSSLROOTCERT: fixture('self-signed-cert.pem') };
    expect(await connect(database(elsewhere, { ...env, PGSSLMODE: 'verify-full' }))).toMatch(
      /IP: 127\.0\.0\.2 is not in the cert's list/,
    );
    expect(passwordsGot(elsewhere)).toEqual([]);
    expect(await connect(database(elsewhere, { ...env, PGSSLMODE: 'verify-ca' }))).toMatch(
      /password authentication failed/,
    );
    expect(await connect(database(impostor, { ...env, PGSSLMODE: 'verify-full' }))).toMatch(
      /password authentication failed/,
    );
  });

  it('PGSSLROOTCERT=system means verify-full against the system store', async () => {
    const config = await settled(database(impostor, { PGSSLMODE: 'require', PGSSLROOTCERT: 'system' }));
    expect(config.sslMode).toBe('verify-full');
    expect(await connect(config)).toMatch(/self[- ]signed certificate/);
    expect(passwordsGot(impostor)).toEqual([]);
  });

  it('names the variable when verification needs a root certificate that cannot be used', () => {
    expect(() => database(impostor, { PGSSLMODE: 'verify-full', PGSSLROOTCERT: '/nonexistent/root.crt' })).toThrow(
      /^PGSSLROOTCERT: cannot read the CA certificate file \/nonexistent\/root\.crt/,
    );
    expect(() => database(impostor, { PGSSLMODE: 'require', PGSSLROOTCERT: path.join(root, 'package.json') })).toThrow(
      /^PGSSLROOTCERT: .*package\.json holds no PEM certificate/,
    );
    // As libpq: under require and prefer a missing file is no file.
    expect(database(impostor, { PGSSLMODE: 'require', PGSSLROOTCERT: '/nonexistent/root.crt' }).sslRootCert).toBe(
      undefined,
    );
  });

  it('prefer with an unanswered startup probe asks again before each connection until the server answers', async () => {
    // The database still starting when the gateway starts: the probe gets no answer. The server then offers TLS.
    elsewhere.sslAnswers.push('silent');
    const config = await settleSslMode(database(elsewhere), { lakebaseCredentials: false }, silentLogger, 300);
    expect(config.sslMode).toBe('prefer');
    expect(await connect(config)).toMatch(/password authentication failed/);
    // Encrypted, as the server offers TLS: settled in the clear, every password went unencrypted.
    expect(passwordsGot(elsewhere)).toEqual([{ kind: 'password', tls: true, user: 'gateway', value: PASSWORD }]);
    // Asked once more (the connection's probe), then its own SSLRequest: and never again after an answer.
    const probes = () => elsewhere.captured.filter((entry) => entry.kind === 'probe').length;
    const before = probes();
    await connect(config);
    expect(probes() - before).toBe(1);
  });

  it('prefer settles per connection to the clear for a server without TLS that came up late', async () => {
    const { createTestDatabase } = await import('./support/database.js');
    const db = await createTestDatabase('tls_prefer_late');
    try {
      const url = new URL(db.url);
      url.search = '';
      const config = loadConfig({ DATABASE_URL: url.href }).database!;
      expect(config.sslMode).toBe('prefer');
      // As if the startup probe had got no answer: the mode is still prefer when the pool connects.
      expect(await connect(config)).toBe('connected');
    } finally {
      await db.drop();
    }
  });

  it('ignores PGSSLROOTCERT for a mode without TLS, as libpq does', () => {
    // A shell's PGSSLROOTCERT stopped `npm start` on the embedded database (sslmode=disable).
    expect(database(impostor, { PGSSLMODE: 'disable', PGSSLROOTCERT: '/nonexistent/root.crt' }).sslRootCert).toBe(
      undefined,
    );
  });

  it('never asks for TLS over a Unix socket, whatever the mode', () => {
    for (const sslMode of ['require', 'verify-ca', 'verify-full'] as const) {
      expect(pgSslOption({ host: '/var/run/postgresql', sslMode, sslRootCert: 'system' })).toBe(false);
    }
  });

  it('reads an IPv6 address in DATABASE_URL without its brackets', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://u:p@[::1]:5432/trips' }).database;
    expect(config?.host).toBe('::1');
  });
});

describe('a TLS failure is the database out of reach (DATABASE_UNAVAILABLE), not an internal error', () => {
  async function failureOf(config: DatabaseConfig): Promise<unknown> {
    const pool = createPool({ ...config, poolMax: 1 }, { logger: silentLogger });
    try {
      return await pool.query('SELECT 1').then(
        () => undefined,
        (error: unknown) => error,
      );
    } finally {
      await pool.end().catch(() => undefined);
    }
  }

  it('a certificate that fails verification, and a server that offers no TLS under require', async () => {
    const refused = await failureOf(await settled(database(impostor, { PGSSLMODE: 'require' }), true));
    expect(isDatabaseUnavailable(refused)).toBe(true);
    impostor.sslAnswers.push('N');
    const noTls = await failureOf(database(impostor, { PGSSLMODE: 'require' }));
    expect((noTls as Error).message).toMatch(/does not support SSL/);
    expect(isDatabaseUnavailable(noTls)).toBe(true);
  });
});

describe('cancel requests (a client gone away stops its statement)', () => {
  const key = { processID: 4242, secretKey: 987654321 };

  it('go over TLS when the connection did, so the key is not shown to the path', async () => {
    await sendCancelRequest({ host: '127.0.0.1', port: impostor.port }, key, 5_000, { rejectUnauthorized: false });
    expect(impostor.captured.filter((entry) => entry.kind === 'cancel')).toEqual([
      { kind: 'cancel', tls: true, value: 'pid=4242 key=987654321' },
    ]);
  });

  it('check the certificate as the connection did, and send nothing to a server that fails it', async () => {
    const verified = pgSslOption({ host: '127.0.0.1', sslMode: 'verify-full' });
    expect(verified).not.toBe(false);
    await expect(
      sendCancelRequest(
        { host: '127.0.0.1', port: impostor.port },
        key,
        5_000,
        verified as Exclude<typeof verified, false>,
      ),
    ).rejects.toThrow(/self[- ]signed certificate/);
    expect(impostor.captured.filter((entry) => entry.kind === 'cancel')).toEqual([]);
  });

  it('stay in the clear for a connection in the clear', async () => {
    await sendCancelRequest({ host: '127.0.0.1', port: impostor.port }, key, 5_000);
    expect(impostor.captured.filter((entry) => entry.kind === 'cancel')).toEqual([
      { kind: 'cancel', tls: false, value: 'pid=4242 key=987654321' },
    ]);
  });
});

describe('the gateway as Databricks Apps starts it (PGSSLMODE=require, Lakebase OAuth)', () => {
  let fake: FakeWorkspace;
  beforeAll(async () => {
    fake = await startFakeWorkspace({ clientId: 'tls-client', clientSecret: 'tls-secret', instances: ['trips-db'] });
  });
  afterAll(() => fake.close());

  it('gives its token to no impostor at PGHOST, and says why it refused', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        DATABRICKS_APP_NAME: 'tls-test',
        DATABRICKS_APP_PORT: '0',
        HOST: '127.0.0.1',
        PGHOST: '127.0.0.1',
        PGPORT: String(impostor.port),
        PGDATABASE: 'trips',
        PGUSER: 'tls-client',
        PGSSLMODE: 'require',
        DATABRICKS_HOST: fake.url,
        DATABRICKS_CLIENT_ID: 'tls-client',
        DATABRICKS_CLIENT_SECRET: 'tls-secret',
        LAKEBASE_INSTANCE_NAME: 'trips-db',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const logs: string[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => logs.push(line));
    createInterface({ input: child.stderr! }).on('line', (line) => logs.push(line));
    try {
      // A token was issued and a connection attempted with it; then the certificate's refusal is logged.
      await expect.poll(() => fake.issued.length, { timeout: 30_000 }).toBeGreaterThan(0);
      await expect
        .poll(
          () =>
            logs.some(
              (line) => /certificate/.test(line) && /failed verification under PGSSLMODE=verify-full/.test(line),
            ),
          {
            timeout: 30_000,
          },
        )
        .toBe(true);
      expect(
        logs.some((line) => line.includes("the server's certificate and host name are verified (verify-full)")),
      ).toBe(true);
      const issued = fake.issued.map((credential) => credential.token);
      expect(issued.length).toBeGreaterThan(0);
      expect(passwordsGot(impostor)).toEqual([]);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
