/**
 * Development fallback used by src/main.ts when no database is configured
 * outside production: an embedded PostgreSQL holding the synced table exactly
 * as Lakebase would, filled with the synthetic sample on first start.
 */
import pg from 'pg';
import { loadConfig, type DatabaseConfig } from '../config/env.js';
import { read } from '../config/variables.js';
import type { Logger } from '../logger.js';
import type { SyncSource } from '../sync/source.js';
import { embeddedDataDir } from './dev-database.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres.js';
import { loadSampleIntoSource } from './load/sample-source.js';
import {
  LocalSyncSource,
  pipelineNames,
  seedLocalPipeline,
  SyncWorker,
  WorkerAlreadyRunningError,
  type SchedulingPolicy,
} from './pipeline/index.js';
import { ensureSyncedTable } from './synced-table.js';

export interface DevEnvironment {
  database: DatabaseConfig;
  /** The emulated sync pipeline, reporting in the Databricks status shape. */
  syncSource: SyncSource;
  stop(): Promise<void>;
}

export async function startDevEnvironment(
  logger: Logger,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DevEnvironment> {
  const port = read(env, 'EMBEDDED_PG_PORT');
  const dataDir = embeddedDataDir(env);
  // Every setting read before the cluster starts: a typo must stop startup with nothing left running.
  const policy: SchedulingPolicy = read(env, 'LOCAL_SYNC_POLICY');
  const intervalMs = read(env, 'LOCAL_SYNC_INTERVAL_MS');
  const retentionMs = changeRetentionMs(env);
  // PGSSLMODE is checked too, though the embedded cluster is reached without TLS whatever it says; a stale
  // PGSSLROOTCERT (meant for another server) is left out.
  loadConfig({ ...env, PGSSLROOTCERT: undefined, DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/postgres` });
  // Unused without PGHOST, but a value that does not read is still a mistake to name.
  if (env.PGPORT !== undefined) read(env, 'PGPORT');
  logger.warn(
    'No database configured (DATABASE_URL / PGHOST unset): starting the EMBEDDED PostgreSQL for local development. ' +
      'It is not Lakebase and is never used in production.',
    { dataDir, port },
  );
  const embedded = await startEmbeddedPostgres({
    dataDir,
    port,
    persistent: true,
    ownProcessGroup: true,
    shareWithDataCommands: true,
    log: (line) => logger.debug(line),
    notice: (line) => logger.warn(line),
  });
  try {
    return await startPipeline(logger, embedded, { env, port, dataDir, policy, intervalMs, retentionMs });
  } catch (error) {
    // The cluster must not outlive a failed start: it would hold its port and data directory.
    await embedded.stop().catch(() => undefined);
    throw error;
  }
}

async function startPipeline(
  logger: Logger,
  embedded: EmbeddedDatabase,
  settings: {
    env: NodeJS.ProcessEnv;
    port: number;
    dataDir: string;
    policy: SchedulingPolicy;
    intervalMs: number;
    retentionMs: number | null;
  },
): Promise<DevEnvironment> {
  const { env, dataDir, policy } = settings;
  // The embedded cluster has no TLS: a shell's PGSSLMODE or PGSSLROOTCERT (meant for another server) must not
  // apply to it (a stale PGSSLROOTCERT stopped `npm start`).
  const loaded = loadConfig({ ...env, DATABASE_URL: withoutTls(embedded.connectionString) });
  if (!loaded.database) throw new Error('embedded database configuration missing');
  const database: DatabaseConfig = { ...loaded.database, source: 'embedded' };

  // Kept open for the pipeline worker and the status source: the worker's control connection, and
  // its CONTINUOUS writers (DEFAULT_RUNNER_SETTINGS.continuousWriters, capped by this size).
  const pool = new pg.Pool({ connectionString: embedded.connectionString, max: 6 });
  pool.on('error', (error) =>
    pool.ending
      ? logger.debug('dev pipeline connection closed while the pool ends', { error: error.message })
      : logger.warn('dev pipeline connection closed', { error: error.message }),
  );
  const table = `${database.schema}.${database.table}`;
  await ensureSyncedTable(pool, database.schema, database.table);

  // The Unity Catalog side, emulated: a source table with a change feed, and a
  // worker that syncs it into the synced table like Lakebase's pipeline does.
  // An empty database gets the sample in the source, and the initial snapshot copies it (load/sample-source.ts).
  const names = pipelineNames({ syncedSchema: database.schema, syncedTable: database.table });
  const log = (line: string) => logger.info(line, { component: 'local-pipeline' });
  const seeded = await seedLocalPipeline(pool, { names, policy, log, loadSource: loadSampleIntoSource });
  if (seeded.sourceFilledFrom === 'loader') {
    logger.info('loaded the synthetic NYC taxi sample into the embedded database', { rows: seeded.sourceRows, table });
  } else {
    logger.info('reusing the embedded database and its data', { dataDir, table });
  }
  const worker = new SyncWorker(pool, {
    names,
    policy,
    intervalMs: settings.intervalMs,
    changeRetentionMs: settings.retentionMs,
    log,
  });
  let workerRunning = false;
  try {
    await worker.start();
    workerRunning = true;
  } catch (error) {
    if (!(error instanceof WorkerAlreadyRunningError)) throw error;
    logger.info('another process runs the local sync worker for this table; not starting a second one');
  }
  logger.info('local sync pipeline emulation running', {
    source: `${names.sourceSchema}.${names.sourceTable}`,
    policy,
    hint: 'npm run data -- insert --count 10  (then: npm run data -- sync, unless CONTINUOUS)',
  });
  logger.info('using the embedded development database', {
    // Its own port, which differs from EMBEDDED_PG_PORT when an `npm run data` command started it elsewhere.
    url: `postgres://postgres@127.0.0.1:${embedded.port}/postgres`,
    table,
  });
  return {
    database,
    syncSource: new LocalSyncSource(pool, { names, log }),
    async stop() {
      if (workerRunning) await worker.stop();
      await pool.end();
      await embedded.stop();
    },
  };
}

/** LOCAL_SYNC_CHANGE_RETENTION_HOURS: how long the emulated source keeps its change data (0 = forever). */
function changeRetentionMs(env: NodeJS.ProcessEnv): number | null {
  const hours = read(env, 'LOCAL_SYNC_CHANGE_RETENTION_HOURS');
  return hours === 0 ? null : hours * 3_600_000;
}

function withoutTls(connectionString: string): string {
  const url = new URL(connectionString);
  url.searchParams.set('sslmode', 'disable');
  return url.href;
}
