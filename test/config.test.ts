import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { ConfigError, loadConfig } from '../src/config/env.js';
import { read, VARIABLES } from '../src/config/variables.js';
import { embeddedDataDir } from '../src/dev/dev-database.js';
import { DEFAULT_CHANGE_RETENTION_MS } from '../src/dev/pipeline/index.js';
import { SYNC_NOTIFY_CHANNEL } from '../src/sync/sync-notification.js';

function errorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration from the environment', () => {
  it('has development defaults: no database (embedded), port 8000 on all interfaces', () => {
    const config = loadConfig({});
    expect(config.database).toBeNull();
    expect(config.port).toBe(8000);
    expect(config.host).toBe('0.0.0.0');
    expect(config.production).toBe(false);
    expect(config.limits.maxPageSize).toBe(1000);
  });

  it('reads the PG* variables Databricks Apps provides, with the reference app schema default', () => {
    const config = loadConfig({
      PGHOST: 'instance-1.database.cloud.databricks.com',
      PGPORT: '5432',
      PGDATABASE: 'databricks_postgres',
      PGUSER: 'app-sp-uuid',
      PGSSLMODE: 'require',
      DATABRICKS_APP_PORT: '8080',
      PORT: '9999',
    });
    expect(config.database).toMatchObject({
      source: 'PG*',
      host: 'instance-1.database.cloud.databricks.com',
      user: 'app-sp-uuid',
      sslMode: 'require',
      schema: 'default',
      table: 'trips_synced',
      password: undefined,
    });
    expect(config.port).toBe(8080);
  });

  it('reads DATABASE_URL with sslmode and percent-encoded credentials', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgresql://u%40x:p%2Fw@db.local:6543/trips?sslmode=verify-full',
      PORT: '7000',
    });
    expect(config.database).toMatchObject({
      user: 'u@x',
      password: 'p/w',
      host: 'db.local',
      port: 6543,
      database: 'trips',
      sslMode: 'verify-full',
    });
    expect(config.port).toBe(7000);
  });

  it("names the connections as libpq does: DATABASE_URL's application_name, else PGAPPNAME", () => {
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/d' }).database?.applicationName).toBe('lakebase-graphql');
    expect(loadConfig({ DATABASE_URL: 'postgres://u@h/d', PGAPPNAME: 'trips blue' }).database?.applicationName).toBe(
      'trips blue',
    );
    expect(
      loadConfig({ DATABASE_URL: 'postgres://u@h/d?application_name=trips%20green', PGAPPNAME: 'trips blue' }).database
        ?.applicationName,
    ).toBe('trips green');
    expect(loadConfig({ PGHOST: 'h', PGUSER: 'u', PGAPPNAME: 'trips blue' }).database?.applicationName).toBe(
      'trips blue',
    );
    // Postgres would show these as something else (non-ASCII as ?, cut at 63 bytes with the gateway's suffixes).
    expect(errorOf({ PGHOST: 'h', PGUSER: 'u', PGAPPNAME: 'trajets-\u00e9t\u00e9' }).message).toMatch(
      /^PGAPPNAME: .*printable ASCII/,
    );
    expect(errorOf({ DATABASE_URL: `postgres://u@h/d?application_name=${'x'.repeat(49)}` }).message).toBe(
      'DATABASE_URL: application_name is 49 characters long, at most 48 are allowed',
    );
  });

  it('names the variable at fault', () => {
    expect(errorOf({ PORT: 'eighty' }).variable).toBe('PORT');
    expect(errorOf({ DATABRICKS_APP_PORT: '70000' }).message).toMatch(
      /^DATABRICKS_APP_PORT: must be between 0 and 65535/,
    );
    expect(errorOf({ PGHOST: 'h', PGUSER: 'u', PGSSLMODE: 'sometimes' }).message).toMatch(
      /^PGSSLMODE: expected one of/,
    );
    expect(errorOf({ PGHOST: 'h' }).variable).toBe('PGUSER');
    expect(errorOf({ DATABASE_URL: 'mysql://x@y/z' }).variable).toBe('DATABASE_URL');
    expect(errorOf({ DATABASE_URL: 'not a url' }).variable).toBe('DATABASE_URL');
    // A stray % in the password was an uncaught URIError with a stack trace; the message must not quote it.
    const badEscape = errorOf({ DATABASE_URL: 'postgres://u:secret%zz@h/d' });
    expect(badEscape.message).toBe(
      'DATABASE_URL: the password holds a malformed percent-escape (write % itself as %25)',
    );
    expect(errorOf({ MAX_PAGE_SIZE: '0' }).variable).toBe('MAX_PAGE_SIZE');
    expect(errorOf({ LOG_LEVEL: 'chatty' }).variable).toBe('LOG_LEVEL');
  });

  it('refuses to start without a database in production', () => {
    expect(errorOf({ NODE_ENV: 'production' }).message).toMatch(
      /no database configured.*embedded development database is disabled/,
    );
    expect(errorOf({ DATABRICKS_APP_NAME: 'lakebase-graphql' }).variable).toBe('PGHOST');
  });
});

describe('the declared variables (src/config/variables.ts)', () => {
  it('name the variable at fault for every kind of value', () => {
    expect(() => read({ LIVE_KEEPALIVE_MS: '10' }, 'LIVE_KEEPALIVE_MS')).toThrow(
      /^LIVE_KEEPALIVE_MS: must be between 50 and 600000, got 10$/,
    );
    expect(() => read({ ROLLUPS: 'maybe' }, 'ROLLUPS')).toThrow(/^ROLLUPS: expected one of on, off, got "maybe"$/);
    expect(() => read({ GRAPHQL_JIT: '1' }, 'GRAPHQL_JIT')).toThrow(/^GRAPHQL_JIT: expected one of on, off/);
    expect(() => read({ PGSCHEMA: 'a"b' }, 'PGSCHEMA')).toThrow(/^PGSCHEMA: "a"b" is not a valid Postgres identifier$/);
    expect(() => read({ GATEWAY_TRUST_FORWARDED_IDENTITY: 'yes' }, 'GATEWAY_TRUST_FORWARDED_IDENTITY')).toThrow(
      /^GATEWAY_TRUST_FORWARDED_IDENTITY: expected true or false, got "yes"$/,
    );
    expect(() => read({ LOCAL_SYNC_POLICY: 'sometimes' }, 'LOCAL_SYNC_POLICY')).toThrow(
      /^LOCAL_SYNC_POLICY: expected one of SNAPSHOT, TRIGGERED, CONTINUOUS/,
    );
  });

  it('treat blank as unset, trim, and compare choices case-insensitively', () => {
    expect(read({ PG_POOL_MAX: '  ' }, 'PG_POOL_MAX')).toBe(10);
    expect(read({ PG_POOL_MAX: ' 7 ' }, 'PG_POOL_MAX')).toBe(7);
    expect(read({ LOG_LEVEL: 'WARN' }, 'LOG_LEVEL')).toBe('warn');
    expect(read({ LOCAL_SYNC_POLICY: 'triggered' }, 'LOCAL_SYNC_POLICY')).toBe('TRIGGERED');
    expect(read({ LIVE_NOTIFY_CHANNEL: 'OFF' }, 'LIVE_NOTIFY_CHANNEL')).toBeNull();
    expect(read({}, 'LIVE_NOTIFY_CHANNEL')).toBe(SYNC_NOTIFY_CHANNEL);
  });

  it('keep cross-variable rules in the loader, naming the variable', () => {
    expect(errorOf({ MAX_PAGE_SIZE: '50', DEFAULT_PAGE_SIZE: '60' }).message).toBe(
      'DEFAULT_PAGE_SIZE: must be between 1 and 50, got 60',
    );
    expect(loadConfig({ MAX_PAGE_SIZE: '50' }).limits.defaultPageSize).toBe(50);
    expect(loadConfig({ MAX_GROUPS: '1000' }).limits.maxCost).toBe(50_000);
    expect(loadConfig({ MAX_GROUPS: '100000' }).limits.maxCost).toBe(3_000_000);
  });

  it('have defaults that agree with the code they configure', () => {
    expect(read({}, 'LOCAL_SYNC_CHANGE_RETENTION_HOURS') * 3_600_000).toBe(DEFAULT_CHANGE_RETENTION_MS);
    expect(loadConfig({}).fastPaths).toEqual({ graphqlJit: true, sseDirectWrites: true });
  });

  it('every meaning fits one table row', () => {
    for (const [name, variable] of Object.entries(VARIABLES)) {
      expect(variable.meaning, name).not.toMatch(/\n/);
      expect(variable.meaning.length, name).toBeLessThanOrEqual(160);
    }
  });
});

describe('EMBEDDED_PG_DIR', () => {
  it('is where `npm start` and `npm run data` both look for the embedded cluster', () => {
    expect(embeddedDataDir({})).toBe(path.resolve('.data/pg'));
    expect(embeddedDataDir({ EMBEDDED_PG_DIR: 'tmp/pg-other' })).toBe(path.resolve('tmp/pg-other'));
    expect(embeddedDataDir({ EMBEDDED_PG_DIR: '/srv/pg' })).toBe('/srv/pg');
  });
});

describe('settings found wrong only once startup is under way', () => {
  // The real entrypoint, as production starts it: these used to exit 1 with a stack trace, one without naming
  // the variable.
  async function start(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        DATABASE_URL: 'postgres://u:p@127.0.0.1:1/none',
        PORT: '0',
        LOG_LEVEL: 'error',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    return { code, stderr };
  }

  it('a HOST that is no address of this machine exits 78, naming HOST', async () => {
    const { code, stderr } = await start({ HOST: 'not a host' });
    expect(stderr).toMatch(
      /^lakebase-graphql: configuration error: HOST: "not a host" is not an address of this machine/m,
    );
    expect(code).toBe(78);
  }, 60_000);

  it('an unreadable persisted operations manifest exits 78, naming the variable', async () => {
    const { code, stderr } = await start({
      PERSISTED_OPERATIONS: 'only',
      PERSISTED_OPERATIONS_MANIFEST: '/nonexistent/manifest.json',
    });
    expect(stderr).toMatch(/^lakebase-graphql: configuration error: PERSISTED_OPERATIONS_MANIFEST: cannot read/m);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(code).toBe(78);
  }, 60_000);

  it('a refused value is quoted without the credentials written into it', async () => {
    const { code, stderr } = await start({ DATABRICKS_HOST: 'https://token:dapi-secret-value@example.com/some/path' });
    expect(stderr).toMatch(/^lakebase-graphql: configuration error: DATABRICKS_HOST: /m);
    expect(stderr).not.toContain('dapi-secret-value');
    expect(code).toBe(78);
  }, 60_000);
});

describe('LIVE_LISTEN_HOST', () => {
  it('takes a name, an IPv4 or IPv6 address, with or without a port', () => {
    const read = (value: string) => loadConfig({ LIVE_LISTEN_HOST: value }).live.listenHost;
    expect(read('ep-direct.example.com')).toEqual({ host: 'ep-direct.example.com', port: undefined });
    expect(read('10.0.0.7:5433')).toEqual({ host: '10.0.0.7', port: 5433 });
    expect(read('::1')).toEqual({ host: '::1', port: undefined });
    expect(read('[::1]:5432')).toEqual({ host: '::1', port: 5432 });
    expect(read('[fe80::1:2]')).toEqual({ host: 'fe80::1:2', port: undefined });
    for (const bad of ['host:0', 'host:70000', '[::1]:x', 'a b', '[nothex]:5432']) {
      expect(() => read(bad), bad).toThrow(/^LIVE_LISTEN_HOST: expected a host name, an IP address/);
    }
  });
});
