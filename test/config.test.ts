import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/env.js';

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
