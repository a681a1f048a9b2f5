import { sql, type RawBuilder } from 'kysely';
import type { RollupFreshness } from '../../config/env.js';
import { qualified } from '../../db/sql-identifiers.js';
import { ROLLUP_TABLE_NAMES } from '../../db/tables.js';
import type { Db } from '../../db/database.js';
import { changeTriggerIdentity, zipChangeMarker, type ChangeTriggerTarget } from './change-trigger.js';

/**
 * How the gateway proves a rollup equals the synced table:
 * - `trigger` (default, exact): counters kept by statement triggers on the
 *   synced table (change-trigger.ts), visible in the same snapshot as the rows.
 * - `statistics` (no DDL on the synced table, for roles that may not create
 *   triggers on it): Postgres' cumulative statistics, which a writing backend
 *   publishes when it goes idle and at most once a second. An update or delete
 *   that leaves max(id) unchanged can go unseen for about a second after its
 *   commit (up to a minute under statistics lock contention). Opt-in only.
 */
export type Freshness = RollupFreshness;

export interface SignatureTarget extends ChangeTriggerTarget {
  freshness: Freshness;
}

/** The synced table's change state, read in one snapshot. */
export interface ChangeState {
  /** Equal signatures prove equal contents. NULL: nothing can be proven (table missing, no trigger, no statistics). */
  signature: string | null;
  /** The signature without the INSERT counter (trigger mode). */
  base: string | null;
  /** INSERT statements counted by the trigger (trigger mode). */
  inserts: string | null;
}

/**
 * Parts common to both modes:
 * - the table's oid and relfilenode: a full refresh that recreates the table,
 *   TRUNCATE or VACUUM FULL changes them (transactional);
 * - the ZIP reference table's change marker: the borough grains resolve
 *   boroughs at build time, so a change to the ZIP list invalidates them.
 * Trigger mode adds the triggers' identity (see changeTriggerIdentity) and
 * their counters of statements that wrote the table (UPDATEs and DELETEs only
 * when they changed a row), INSERTs apart from the rest so a build can tell
 * an append from other writes.
 * Statistics mode adds max(id) (an append is seen in the same snapshot) and
 * the insert/update/delete statistics counters, read through the
 * pg_stat_get_* functions directly: planning the pg_stat_all_tables view costs
 * milliseconds, and this runs on every request.
 * Every constant is inlined (sql.lit), so the same text can be the body of the
 * signature function.
 */
export function changeState(target: SignatureTarget): RawBuilder<ChangeState> {
  const zips = zipChangeMarker(target.gatewaySchema);
  const relation = sql.lit(qualified(target.schema, target.table));
  if (target.freshness === 'statistics') {
    return sql<ChangeState>`(
      SELECT CASE WHEN current_setting('track_counts')::boolean THEN
               concat_ws(':', 'statistics', c.oid::int8, pg_relation_filenode(c.oid), pg_stat_get_tuples_inserted(c.oid),
                         pg_stat_get_tuples_updated(c.oid), pg_stat_get_tuples_deleted(c.oid),
                         coalesce((SELECT max(id)::text FROM ${sql.table('trips')}), 'empty')) || ':' || ${zips}
             END AS signature,
             NULL::text AS base, NULL::text AS inserts
        FROM pg_class c WHERE c.oid = to_regclass(${relation}))`;
  }
  return sql<ChangeState>`(
    SELECT s.base || ':' || s.inserts AS signature, s.base, s.inserts
      FROM (SELECT 'trigger:' || ${changeTriggerIdentity(target.gatewaySchema)} || ':' || ${zips} || ':' ||
                   concat_ws(':', c.oid::int8, pg_relation_filenode(c.oid), coalesce(sum(ch.others), 0)) AS base,
                   coalesce(sum(ch.inserts), 0)::text AS inserts
              FROM pg_class c
              LEFT JOIN ${sql.table('trip_changes')} ch ON ch.relid = c.oid
             WHERE c.oid = to_regclass(${relation})
             GROUP BY c.oid) AS s)`;
}

/**
 * The per-request freshness check calls a function instead of embedding
 * changeState: planning its catalog lookups took about 0.4 ms per request,
 * several times what executing them takes, and PL/pgSQL plans the statement
 * once per connection and keeps the plan. STABLE, so it reads the calling
 * statement's snapshot. Its body names this gateway's synced table, so it is
 * replaced at every startup (one rollup per gateway schema, as before).
 * A step of the gateway schema installer (rollupSchemaSteps), under its advisory lock.
 */
export async function installSignatureFunction(db: Db, target: SignatureTarget): Promise<void> {
  const body = sql`(SELECT signature FROM ${changeState(target)} AS state)`.compile(db);
  if (body.parameters.length > 0 || body.sql.includes('$fn$')) {
    throw new Error(`installSignatureFunction: the signature of ${target.schema}.${target.table} cannot be inlined`);
  }
  await sql
    .raw(
      `CREATE OR REPLACE FUNCTION ${signatureFunction(target)}() RETURNS text
         LANGUAGE plpgsql STABLE AS $fn$ BEGIN RETURN ${body.sql}; END $fn$`,
    )
    .execute(db);
}

/** The current signature (the per-request freshness check); needs installSignatureFunction. */
export function currentSignature(target: SignatureTarget): RawBuilder<string | null> {
  return sql<string | null>`${sql.raw(signatureFunction(target))}()`;
}

/**
 * One function per freshness mode: gateways sharing a gateway schema each call their own. With one name, a
 * gateway started with ROLLUP_FRESHNESS=statistics replaced the body every other gateway's response cache
 * checked, and theirs then served answers up to a second stale (the statistics' delay), until they restarted.
 */
function signatureFunction(target: SignatureTarget): string {
  const name =
    target.freshness === 'statistics' ? `${ROLLUP_TABLE_NAMES.signature}_statistics` : ROLLUP_TABLE_NAMES.signature;
  return qualified(target.gatewaySchema, name);
}
