import { describe, expect, it } from 'vitest';
import { loadDatabricksConfig } from '../src/config/databricks.js';
import { ConfigError, loadConfig } from '../src/config/env.js';
import { choosePasswordSource } from '../src/lakebase/password-source.js';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadDatabricksConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(env)}`);
}

describe('loadDatabricksConfig', () => {
  it('reads what Databricks Apps provides', () => {
    const config = loadDatabricksConfig({
      DATABRICKS_HOST: 'adb-123.4.azuredatabricks.net',
      DATABRICKS_CLIENT_ID: 'sp-id',
      DATABRICKS_CLIENT_SECRET: 'sp-secret',
      DATABRICKS_APP_NAME: 'lakebase-graphql',
      LAKEBASE_INSTANCE_NAME: 'trips-db',
      SYNCED_TABLE_NAME: 'main.default.trips_synced',
      GATEWAY_ADMINS: ' Ada@Example.com, 1234567 ,,',
    });
    expect(config).toMatchObject({
      host: 'https://adb-123.4.azuredatabricks.net',
      clientId: 'sp-id',
      workspaceConfigured: true,
      lakebase: { kind: 'instance', instanceName: 'trips-db' },
      syncedTableName: 'main.default.trips_synced',
      syncStatusCacheSeconds: 5,
    });
    expect([...config.admin.principals]).toEqual(['ada@example.com', '1234567']);
    expect(config.admin.trustForwardedIdentity).toBe(true);
  });

  it('accepts the reference app’s DATABRICKS_PROFILE as the CLI profile', () => {
    expect(loadDatabricksConfig({ DATABRICKS_PROFILE: 'dev' })).toMatchObject({
      profile: 'dev',
      workspaceConfigured: true,
    });
    expect(configError({ DATABRICKS_PROFILE: 'a', DATABRICKS_CONFIG_PROFILE: 'b' }).variable).toBe(
      'DATABRICKS_PROFILE',
    );
  });

  it('takes an Autoscaling endpoint, or finds the database through the synced table', () => {
    expect(loadDatabricksConfig({ LAKEBASE_ENDPOINT: 'projects/p/branches/main/endpoints/ep' }).lakebase).toEqual({
      kind: 'endpoint',
      endpoint: 'projects/p/branches/main/endpoints/ep',
    });
    expect(loadDatabricksConfig({ SYNCED_TABLE_NAME: 'main.default.trips_synced' }).lakebase).toEqual({
      kind: 'synced-table',
      syncedTableName: 'main.default.trips_synced',
      api: 'postgres',
    });
  });

  it('takes a synced table name copied from SQL, backticks and all, as the REST path names it', () => {
    const named = (name: string) => loadDatabricksConfig({ SYNCED_TABLE_NAME: name }).syncedTableName;
    expect(named('`my-catalog`.default.`trips-synced`')).toBe('my-catalog.default.trips-synced');
    expect(named('`cat``s`.default.trips_synced')).toBe('cat`s.default.trips_synced');
    expect(named('main.default.trips_synced')).toBe('main.default.trips_synced');
  });

  it('asks the postgres API first for the synced table, unless Provisioned is configured or SYNCED_TABLE_API says', () => {
    expect(loadDatabricksConfig({}).syncedTableApi).toBe('postgres');
    expect(loadDatabricksConfig({ LAKEBASE_ENDPOINT: 'projects/p/branches/b/endpoints/e' }).syncedTableApi).toBe(
      'postgres',
    );
    expect(loadDatabricksConfig({ LAKEBASE_INSTANCE_NAME: 'trips-db' }).syncedTableApi).toBe('database');
    expect(loadDatabricksConfig({ SYNCED_TABLE_API: 'Database' }).syncedTableApi).toBe('database');
  });

  it.each([
    [{ DATABRICKS_CLIENT_ID: 'id', DATABRICKS_HOST: 'h.example.com' }, 'DATABRICKS_CLIENT_SECRET'],
    [{ DATABRICKS_CLIENT_SECRET: 's', DATABRICKS_HOST: 'h.example.com' }, 'DATABRICKS_CLIENT_ID'],
    [{ DATABRICKS_CLIENT_ID: 'id', DATABRICKS_CLIENT_SECRET: 's' }, 'DATABRICKS_HOST'],
    [{ DATABRICKS_HOST: 'https://h.example.com/some/path' }, 'DATABRICKS_HOST'],
    [{ LAKEBASE_INSTANCE_NAME: 'a', LAKEBASE_ENDPOINT: 'projects/p/branches/b/endpoints/e' }, 'LAKEBASE_ENDPOINT'],
    [{ LAKEBASE_ENDPOINT: 'p/branches/b' }, 'LAKEBASE_ENDPOINT'],
    [{ SYNCED_TABLE_NAME: 'trips_synced' }, 'SYNCED_TABLE_NAME'],
    [{ SYNCED_TABLE_NAME: 'main.`my.schema`.trips_synced' }, 'SYNCED_TABLE_NAME'],
    [{ SYNCED_TABLE_NAME: 'main.default.trips synced' }, 'SYNCED_TABLE_NAME'],
    [{ SYNCED_TABLE_NAME: 'main.default.trips/synced' }, 'SYNCED_TABLE_NAME'],
    [{ SYNCED_TABLE_API: 'lakebase' }, 'SYNCED_TABLE_API'],
    [{ GATEWAY_ADMIN_TOKEN: 'short' }, 'GATEWAY_ADMIN_TOKEN'],
    [{ GATEWAY_TRUST_FORWARDED_IDENTITY: 'yes' }, 'GATEWAY_TRUST_FORWARDED_IDENTITY'],
    [{ SYNC_STATUS_CACHE_SECONDS: 'soon' }, 'SYNC_STATUS_CACHE_SECONDS'],
  ])('rejects %j naming %s', (env, variable) => {
    expect(configError(env).variable).toBe(variable);
  });

  it('trusts forwarded identity headers only on Databricks Apps unless told otherwise', () => {
    expect(loadDatabricksConfig({}).admin.trustForwardedIdentity).toBe(false);
    expect(loadDatabricksConfig({ GATEWAY_TRUST_FORWARDED_IDENTITY: 'true' }).admin.trustForwardedIdentity).toBe(true);
    expect(
      loadDatabricksConfig({ DATABRICKS_APP_NAME: 'x', GATEWAY_TRUST_FORWARDED_IDENTITY: 'false' }).admin
        .trustForwardedIdentity,
    ).toBe(false);
  });
});

describe('choosePasswordSource', () => {
  const pgEnv = { PGHOST: 'instance-1.database.cloud.databricks.com', PGUSER: 'sp-id', PGSSLMODE: 'require' };

  it('keeps a static password for plain Postgres', () => {
    const env = {
      ...pgEnv,
      PGPASSWORD: 'secret',
      LAKEBASE_INSTANCE_NAME: 'trips-db',
      DATABRICKS_HOST: 'h.example.com',
    };
    const source = choosePasswordSource(loadConfig(env).database!, loadDatabricksConfig(env));
    expect(source).toEqual({ kind: 'static', password: 'secret' });
  });

  it('uses OAuth credentials with a Lakebase target and a workspace', () => {
    const env = {
      ...pgEnv,
      LAKEBASE_INSTANCE_NAME: 'trips-db',
      DATABRICKS_HOST: 'h.example.com',
      DATABRICKS_CLIENT_ID: 'sp-id',
      DATABRICKS_CLIENT_SECRET: 'sp-secret',
    };
    const source = choosePasswordSource(loadConfig(env).database!, loadDatabricksConfig(env));
    expect(source.kind).toBe('oauth');
    expect(source.kind === 'oauth' && source.description).toBe('Lakebase OAuth credentials for instance "trips-db"');
  });

  it('refuses a Lakebase host without any password source, naming the missing setting', () => {
    const env = { ...pgEnv, DATABRICKS_HOST: 'h.example.com' };
    expect(() => choosePasswordSource(loadConfig(env).database!, loadDatabricksConfig(env))).toThrow(
      expect.objectContaining({ variable: 'LAKEBASE_INSTANCE_NAME' }),
    );
  });

  it('refuses a Lakebase instance without a workspace to ask for credentials', () => {
    const env = { ...pgEnv, LAKEBASE_INSTANCE_NAME: 'trips-db' };
    expect(() => choosePasswordSource(loadConfig(env).database!, loadDatabricksConfig(env))).toThrow(
      expect.objectContaining({ variable: 'DATABRICKS_HOST' }),
    );
  });
});
