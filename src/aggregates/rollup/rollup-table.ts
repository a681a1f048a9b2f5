import { sql } from 'kysely';
import type { Db } from '../../db/database.js';
import type { SchemaStep } from '../../db/gateway-schema/installer.js';
import { qualified, quoteIdent } from '../../db/sql-identifiers.js';
import { ROLLUP_TABLE_NAMES } from '../../db/tables.js';
import { MEASURES, rollupColumn } from '../stats.js';
import { installChangeCounters, installZipChangeTrigger } from './change-trigger.js';
import { GRAIN_NAMES } from './grains.js';
import { installSignatureFunction, type SignatureTarget } from './signature.js';

/**
 * What the rollup needs in the gateway's own schema, as steps of the gateway
 * schema installer (db/gateway-schema), which runs them in one transaction
 * under the schema's advisory lock. The rollup is LIST-partitioned by grain,
 * so a query that reads one grain scans only that partition (the grain is
 * always a literal, pruned at plan time). Also installs what the freshness
 * check reads: the ZIP table's change trigger and the signature function
 * (signature.ts).
 */
export function rollupSchemaSteps(target: SignatureTarget, notifyChannel: string | null): SchemaStep<void>[] {
  return [
    {
      name: 'rollup change counters',
      run: (trx, gatewaySchema) => installChangeCounters(trx, gatewaySchema, notifyChannel),
    },
    { name: 'rollup tables', run: (trx, gatewaySchema) => createRollupTables(trx, gatewaySchema) },
    { name: 'zip change trigger', run: (trx, gatewaySchema) => installZipChangeTrigger(trx, gatewaySchema) },
    { name: 'rollup signature function', run: (trx) => installSignatureFunction(trx, target) },
  ];
}

async function createRollupTables(trx: Db, gatewaySchema: string): Promise<void> {
  const rollup = qualified(gatewaySchema, ROLLUP_TABLE_NAMES.rollup);
  const state = qualified(gatewaySchema, ROLLUP_TABLE_NAMES.state);
  const measureColumns = MEASURES.flatMap((measure) => [
    `${rollupColumn(measure, 'sum')} double precision`,
    `${rollupColumn(measure, 'nonnull')} bigint NOT NULL`,
    `${rollupColumn(measure, 'min')} double precision`,
    `${rollupColumn(measure, 'max')} double precision`,
  ]);
  await sql
    .raw(
      `CREATE TABLE IF NOT EXISTS ${rollup} (
         grain text NOT NULL,
         pickup_zip integer,
         dropoff_zip integer,
         tpep_pickup_datetime timestamptz,
         fare_amount double precision,
         pickup_borough text,
         dropoff_borough text,
         trips_part bigint NOT NULL,
         ${measureColumns.join(',\n           ')}
       ) PARTITION BY LIST (grain)`,
    )
    .execute(trx);
  for (const grain of GRAIN_NAMES) {
    const partition = qualified(gatewaySchema, `${ROLLUP_TABLE_NAMES.rollup}_${grain}`);
    await sql
      .raw(`CREATE TABLE IF NOT EXISTS ${partition} PARTITION OF ${rollup} FOR VALUES IN ('${grain}')`)
      .execute(trx);
  }
  // Partitioned indexes (one per partition): ZIP lists and time ranges are the filters a rollup serves.
  for (const [suffix, columns] of [
    ['time', 'tpep_pickup_datetime'],
    ['pickup', 'pickup_zip, tpep_pickup_datetime'],
    ['dropoff', 'dropoff_zip, tpep_pickup_datetime'],
  ] as const) {
    const name = quoteIdent(`${ROLLUP_TABLE_NAMES.rollup}_${suffix}_idx`);
    await sql.raw(`CREATE INDEX IF NOT EXISTS ${name} ON ${rollup} (${columns})`).execute(trx);
  }
  await sql
    .raw(
      `CREATE TABLE IF NOT EXISTS ${state} (
         id integer PRIMARY KEY CHECK (id = 1),
         signature text NOT NULL,
         built_at timestamptz NOT NULL,
         grain_rows jsonb NOT NULL,
         build_ms integer NOT NULL,
         min_hour timestamptz,
         max_hour timestamptz,
         base text,
         inserts bigint,
         max_id bigint,
         trips_total bigint NOT NULL,
         compacted_rows bigint NOT NULL
       )`,
    )
    .execute(trx);
}
