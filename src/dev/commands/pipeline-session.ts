/** Shared setup of the pipeline commands: dev database, pipeline names, emulation ready. */
import { read } from '../../config/variables.js';
import type pg from 'pg';
import { openDevDatabase } from '../dev-database.js';
import { pipelineNames, type PipelineNames } from '../pipeline/names.js';
import { loadSampleIntoSource } from '../load/sample-source.js';
import { seedLocalPipeline } from '../pipeline/seed.js';

export interface PipelineSession {
  pool: pg.Pool;
  names: PipelineNames;
  log: (line: string) => void;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Opens the dev database, makes sure the emulation exists (source table,
 * change feed, initial snapshot; see seedLocalPipeline) and runs fn.
 * LAKEBASE_DEV_SOURCE_SCHEMA / LAKEBASE_DEV_PIPELINE_SCHEMA move the emulation's own schemas.
 */
export async function withPipeline<T>(
  fn: (session: PipelineSession) => Promise<T>,
  options: { poolMax?: number; env?: Env } = {},
): Promise<T> {
  const env = options.env ?? process.env;
  const db = await openDevDatabase(env, { poolMax: options.poolMax });
  const log = (line: string) => console.error(line);
  try {
    const names = pipelineNames({
      syncedSchema: db.schema,
      syncedTable: db.table,
      sourceSchema: read(env, 'LAKEBASE_DEV_SOURCE_SCHEMA'),
      pipelineSchema: read(env, 'LAKEBASE_DEV_PIPELINE_SCHEMA'),
    });
    // An empty embedded database gets the sample here as `npm start` would give it (load/sample-source.ts).
    const seeded = await seedLocalPipeline(db.pool, {
      names,
      log,
      loadSource: db.embedded ? loadSampleIntoSource : undefined,
    });
    if (seeded.sourceFilledFrom === 'loader') {
      log(
        `the embedded database was empty: loaded the synthetic NYC taxi sample (${seeded.sourceRows} trips), as npm start does`,
      );
    }
    return await fn({ pool: db.pool, names, log });
  } finally {
    await db.close();
  }
}
