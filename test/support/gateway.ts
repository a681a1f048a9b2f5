import type { ExecutionResult } from 'graphql';
import { createApp, type App, type AppOptions } from '../../src/app.js';
import { loadConfig, type Config, type DatabaseConfig } from '../../src/config/env.js';
import { ensureSyncedTable } from '../../src/dev/synced-table.js';
import { silentLogger, type Logger } from '../../src/logger.js';
import { createTestDatabase, type TestDatabase } from './database.js';

export interface TestGateway {
  app: App;
  database: TestDatabase;
  config: Config & { database: DatabaseConfig };
  /** POSTs a GraphQL request through yoga.fetch, exactly as an HTTP client would. */
  query<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: ExecutionResult<T> }>;
  close(): Promise<void>;
}

/** A gateway on its own fresh database with an empty synced table; `env` overrides configuration. */
export async function startTestGateway(
  label: string,
  env: Record<string, string> = {},
  options: Pick<AppOptions, 'sync' | 'otelEnv' | 'webDir' | 'onQuery'> & {
    logger?: Logger;
    /** Another gateway's database (a restart): kept when this gateway closes. */
    database?: TestDatabase;
  } = {},
): Promise<TestGateway> {
  const shared = options.database;
  const database = shared ?? (await createTestDatabase(label));
  await ensureSyncedTable(database.pool, 'default', 'trips_synced');
  // The response cache answers repeated queries without running them, which would hide what most tests
  // look at (statements sent, rollup use); tests of the cache turn it on.
  const loaded = loadConfig({ DATABASE_URL: database.url, RESPONSE_CACHE: 'off', ...env });
  if (!loaded.database) throw new Error('test config has no database');
  const config = { ...loaded, database: loaded.database };
  const { logger = silentLogger, database: _shared, ...appOptions } = options;
  const app = createApp({ config, logger, ...appOptions });
  await app.initialised;
  return {
    app,
    database,
    config,
    async query<T>(query: string, variables?: Record<string, unknown>, headers: Record<string, string> = {}) {
      const response = await app.gateway.fetch('http://gateway.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return { status: response.status, body: (await response.json()) as ExecutionResult<T> };
    },
    async close() {
      await app.close();
      if (!shared) await database.drop();
    },
  };
}
