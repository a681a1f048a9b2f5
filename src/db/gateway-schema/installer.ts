/**
 * The one way the gateway installs what it owns in its schema (the ZIP
 * reference table, the rollup tables, their triggers and functions): an
 * ordered list of idempotent steps, run in one transaction under one
 * transaction-level advisory lock keyed on the gateway schema. Several
 * instances may start at once (Databricks Apps rolling deploys, two local
 * processes): CREATE ... IF NOT EXISTS alone still races on the catalog's
 * unique indexes, so the second instance waits for the first to commit and
 * then finds everything in place. Data refreshes (rollup builds) are not
 * installation and do not run here.
 */
import { sql, type Transaction } from 'kysely';
import type { Logger } from '../../logger.js';
import type { Db } from '../database.js';
import { quoteIdent } from '../sql-identifiers.js';
import type { Database } from '../tables.js';

/** One idempotent piece of the gateway schema; runs inside the installer's transaction, under its lock. */
export interface SchemaStep<R = unknown> {
  /** Names the step in the log line and in errors. */
  readonly name: string;
  run(trx: Transaction<Database>, gatewaySchema: string): Promise<R>;
  /** Fields for the step's log line (e.g. rows changed). */
  summary?(result: R): Record<string, unknown>;
}

type StepResults<S extends readonly SchemaStep<unknown>[]> = {
  -readonly [K in keyof S]: S[K] extends SchemaStep<infer R> ? R : never;
};

/** The advisory lock key every installation into `gatewaySchema` takes (also the synced table's change trigger). */
export function gatewaySchemaLockKey(gatewaySchema: string): string {
  return `lakebase-graphql gateway schema ${gatewaySchema}`;
}

/** Takes the installer's lock inside `trx` (released at its commit or rollback). */
export async function lockGatewaySchema(trx: Transaction<Database>, gatewaySchema: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${gatewaySchemaLockKey(gatewaySchema)}))`.execute(trx);
}

/**
 * Runs `steps` in order, all or nothing, and logs one line per step. Returns
 * each step's result, in the order given.
 */
export async function installGatewaySchema<const S extends readonly SchemaStep<unknown>[]>(
  db: Db,
  gatewaySchema: string,
  steps: S,
  logger: Pick<Logger, 'info'>,
): Promise<StepResults<S>> {
  return db.transaction().execute(async (trx) => {
    await lockGatewaySchema(trx, gatewaySchema);
    await sql.raw(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(gatewaySchema)}`).execute(trx);
    const results: unknown[] = [];
    for (const step of steps) {
      const started = performance.now();
      const result = await step.run(trx, gatewaySchema);
      results.push(result);
      logger.info('gateway schema step installed', {
        schema: gatewaySchema,
        step: step.name,
        ms: Math.round(performance.now() - started),
        ...step.summary?.(result),
      });
    }
    return results as StepResults<S>;
  });
}
