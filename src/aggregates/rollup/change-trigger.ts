import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../../db/database.js';
import { lockGatewaySchema } from '../../db/gateway-schema/installer.js';
import { qualified, quoteIdent, quoteLiteral } from '../../db/sql-identifiers.js';
import { ROLLUP_TABLE_NAMES } from '../../db/tables.js';
import { ZIP_ZONES_TABLE } from '../../zones/install-zip-zones.js';

const CHANGE_FUNCTION = 'note_trip_change';
/** On the gateway's own ZIP table (see installZipChangeTrigger). */
const ZIP_TRIGGER = 'zip_zones_changes';

/**
 * The triggers on the synced table, one per kind of write: UPDATE and DELETE
 * need transition tables, which Postgres allows only on single-event
 * triggers. Named per gateway schema, so gateways with schemas of their own
 * (staging and production on one database) each count changes in their own table.
 */
function changeTriggerNames(gatewaySchema: string): { inserts: string; updates: string; deletes: string } {
  const name = (suffix: string) => `${gatewaySchema.slice(0, 63 - suffix.length)}${suffix}`;
  return { inserts: name('_inserts'), updates: name('_updates'), deletes: name('_deletes') };
}

/** The single all-events trigger of earlier releases; replaced by changeTriggerNames' three. */
function formerChangeTriggerName(gatewaySchema: string): string {
  return `${gatewaySchema}_changes`.slice(0, 63);
}

/** The trigger function, as `to_regprocedure` text. */
function changeFunction(gatewaySchema: string): string {
  return `${qualified(gatewaySchema, CHANGE_FUNCTION)}()`;
}

export interface ChangeTriggerTarget {
  schema: string;
  table: string;
  gatewaySchema: string;
}

/**
 * Why a trigger: a rollup may answer only while it provably equals the synced
 * table, and Postgres has no other change marker that is both exact and cheap
 * to a reader (statistics counters are published up to a second or more after
 * the commit; xmin has no index; commit timestamps are a server setting). A
 * statement-level trigger bumps a counter in the gateway's schema inside the
 * writer's own transaction, so the counter and the rows become visible in the
 * same snapshot: a reader comparing counters can never see new rows with an
 * old counter, or the reverse.
 *
 * Per statement, not per row: a COPY of 10M rows costs one upsert. UPDATE and
 * DELETE statements are counted only when they changed a row (read from their
 * transition table): a sync written as `INSERT ... ON CONFLICT DO UPDATE`
 * fires the UPDATE trigger too, and an empty DELETE fires anyway, and counting
 * those would make every such sync look like more than appends (a full
 * rollup build instead of an append). The price is that updated and deleted
 * rows are kept in a tuplestore until the statement ends. Each writing
 * backend has its own counter row, so concurrent sync connections never wait
 * on each other. ENABLE ALWAYS makes it fire for writers that run with
 * session_replication_role = replica too (bulk loaders do). Rows written by
 * logical replication apply workers do not fire statement triggers; the
 * Databricks sync pipeline writes with ordinary statements.
 *
 * SECURITY DEFINER: the trigger runs as the writer (the sync pipeline's role),
 * which has no rights in the gateway's schema; the function runs as its owner.
 */
export async function installChangeCounters(
  db: Db,
  gatewaySchema: string,
  /** Channel for a TableChangeNotification at each commit (src/sync/sync-notification.ts); null: none. */
  notifyChannel: string | null,
): Promise<void> {
  const changes = qualified(gatewaySchema, ROLLUP_TABLE_NAMES.changes);
  const fn = qualified(gatewaySchema, CHANGE_FUNCTION);
  // Delivered at commit, deduplicated per transaction: live subscribers and the
  // rollup maintainer hear of new rows at once instead of at their next poll.
  const notify =
    notifyChannel === null
      ? ''
      : `PERFORM pg_notify(${quoteLiteral(notifyChannel)},
           json_build_object('event', 'change', 'schema', TG_TABLE_SCHEMA, 'table', TG_TABLE_NAME)::text);`;
  await sql
    .raw(
      `CREATE TABLE IF NOT EXISTS ${changes} (
         relid oid NOT NULL,
         backend integer NOT NULL,
         inserts bigint NOT NULL DEFAULT 0,
         others bigint NOT NULL DEFAULT 0,
         PRIMARY KEY (relid, backend)
       )`,
    )
    .execute(db);
  await sql
    .raw(
      `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger
         LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
       DECLARE
         changed bigint;
       BEGIN
         -- Statement triggers on UPDATE and DELETE see the rows in changed_rows (see installChangeTrigger).
         IF TG_LEVEL = 'STATEMENT' AND TG_OP IN ('UPDATE', 'DELETE') THEN
           BEGIN
             SELECT count(*) INTO changed FROM changed_rows;
           EXCEPTION WHEN undefined_table THEN
             -- A trigger made by hand without the transition table: count the statement, never fail the writer.
             changed := 1;
           END;
           IF changed = 0 THEN
             RETURN NULL;
           END IF;
         END IF;
         INSERT INTO ${changes} AS c (relid, backend, inserts, others)
         VALUES (TG_RELID, pg_backend_pid(), (TG_OP = 'INSERT')::int, (TG_OP <> 'INSERT')::int)
         ON CONFLICT (relid, backend) DO UPDATE
           SET inserts = c.inserts + EXCLUDED.inserts, others = c.others + EXCLUDED.others;
         ${notify}
         RETURN NULL;
       END $fn$`,
    )
    .execute(db);
}

/** Puts the triggers on the synced table (the counters and function must exist: installChangeCounters). */
export async function installChangeTrigger(db: Db, target: ChangeTriggerTarget): Promise<void> {
  const fn = qualified(target.gatewaySchema, CHANGE_FUNCTION);
  const synced = qualified(target.schema, target.table);
  const names = changeTriggerNames(target.gatewaySchema);
  const triggers = [
    [names.inserts, 'INSERT OR TRUNCATE', ''],
    [names.updates, 'UPDATE', 'REFERENCING OLD TABLE AS changed_rows'],
    [names.deletes, 'DELETE', 'REFERENCING OLD TABLE AS changed_rows'],
  ] as const;
  await db.transaction().execute(async (trx) => {
    // The gateway schema installer's lock: its counters and function must not change under the new triggers.
    await lockGatewaySchema(trx, target.gatewaySchema);
    // CREATE TRIGGER takes a lock that waits for (and then blocks) the pipeline's writes:
    // give up quickly instead of stalling a sync; the caller retries on its next poll.
    await sql`SET LOCAL lock_timeout = '2s'`.execute(trx);
    if (await hasChangeTrigger(trx, target)) return;
    await sql
      .raw(`DROP TRIGGER IF EXISTS ${quoteIdent(formerChangeTriggerName(target.gatewaySchema))} ON ${synced}`)
      .execute(trx);
    for (const [name, events, referencing] of triggers) {
      // CREATE OR REPLACE: a trigger of that name calling something else (or disabled) is put right.
      await sql
        .raw(
          `CREATE OR REPLACE TRIGGER ${quoteIdent(name)} AFTER ${events} ON ${synced} ${referencing}
             FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
        )
        .execute(trx);
      await sql.raw(`ALTER TABLE ${synced} ENABLE ALWAYS TRIGGER ${quoteIdent(name)}`).execute(trx);
    }
  });
}

/**
 * Change triggers' pg_trigger rows for the table whose pg_class row is aliased
 * `alias`: ours, calling our function, firing always. Constants are inlined
 * (not parameters) so this can also live in the body of the signature
 * function (signature.ts).
 */
function triggerRows(gatewaySchema: string, alias: string, names: readonly string[]): RawBuilder<unknown> {
  const relation = sql.ref(`${alias}.oid`);
  return sql`pg_trigger t
              WHERE t.tgrelid = ${relation} AND t.tgname IN (${sql.join(names.map((name) => sql.lit(name)))})
                AND t.tgenabled = 'A' AND t.tgfoid = to_regprocedure(${sql.lit(changeFunction(gatewaySchema))})`;
}

/**
 * Identifies triggers as they stand: their oids and the xmins of their
 * catalog rows, which change whenever one is recreated, disabled or
 * re-enabled. Writes made while one was away were not counted, so the
 * signature must change with them. NULL unless all of them are in place:
 * then nothing can be proven fresh.
 */
function triggerIdentity(gatewaySchema: string, alias: string, names: readonly string[]): RawBuilder<string | null> {
  return sql<string | null>`(
    SELECT CASE WHEN count(*) = ${sql.lit(names.length)}
                THEN string_agg(t.oid::text || '.' || t.xmin::text, ',' ORDER BY t.tgname) END
      FROM ${triggerRows(gatewaySchema, alias, names)})`;
}

/** The synced table's change triggers, for its pg_class row aliased `c` (see triggerIdentity). */
export function changeTriggerIdentity(gatewaySchema: string): RawBuilder<string | null> {
  return triggerIdentity(gatewaySchema, 'c', Object.values(changeTriggerNames(gatewaySchema)));
}

/** Whether all the named triggers of ours are in place on `relation`; null when the relation does not exist. */
async function triggersInPlace(
  db: Db,
  gatewaySchema: string,
  relation: string,
  names: readonly string[],
): Promise<boolean | null> {
  const { rows } = await sql<{ present: boolean }>`
    SELECT ${triggerIdentity(gatewaySchema, 'c', names)} IS NOT NULL AS present
      FROM pg_class c WHERE c.oid = to_regclass(${relation})`.execute(db);
  return rows[0]?.present ?? null;
}

export async function hasChangeTrigger(db: Db, target: ChangeTriggerTarget): Promise<boolean> {
  const names = Object.values(changeTriggerNames(target.gatewaySchema));
  return (await triggersInPlace(db, target.gatewaySchema, qualified(target.schema, target.table), names)) === true;
}

/**
 * The borough grains resolve each ZIP's borough when they are built, so a
 * change to the ZIP reference table (a release with a new list, or an edit by
 * hand) must make the rollup stale. The gateway owns that table, so it can
 * always count its writes with the same counters: a row-level trigger (the
 * startup upsert is one statement whether or not it changes a row, and a
 * statement trigger would make every restart invalidate the rollup; a row
 * trigger fires only for rows that really changed). TRUNCATE is seen through
 * the table's relfilenode. This replaced an md5 of the whole table on every
 * request, which cost more than the rest of the freshness check.
 * A step of the gateway schema installer (rollupSchemaSteps), under its advisory lock.
 */
export async function installZipChangeTrigger(db: Db, gatewaySchema: string): Promise<void> {
  const zips = qualified(gatewaySchema, ZIP_ZONES_TABLE);
  const present = await triggersInPlace(db, gatewaySchema, zips, [ZIP_TRIGGER]);
  // No ZIP table (it is installed first at startup): the marker stays NULL and nothing is proven fresh.
  if (present !== false) return;
  const fn = qualified(gatewaySchema, CHANGE_FUNCTION);
  await sql
    .raw(
      `CREATE OR REPLACE TRIGGER ${quoteIdent(ZIP_TRIGGER)}
         AFTER INSERT OR UPDATE OR DELETE ON ${zips}
         FOR EACH ROW EXECUTE FUNCTION ${fn}()`,
    )
    .execute(db);
  await sql.raw(`ALTER TABLE ${zips} ENABLE ALWAYS TRIGGER ${quoteIdent(ZIP_TRIGGER)}`).execute(db);
}

/** The ZIP table's identity and write count (see installZipChangeTrigger); NULL without the table or its trigger. */
export function zipChangeMarker(gatewaySchema: string): RawBuilder<string | null> {
  return sql<string | null>`(
    SELECT z.oid::text || '.' || pg_relation_filenode(z.oid)::text || '.' || ${triggerIdentity(gatewaySchema, 'z', [ZIP_TRIGGER])}
           || '.' || coalesce((SELECT sum(ch.inserts + ch.others) FROM ${sql.table('trip_changes')} ch
                                WHERE ch.relid = z.oid), 0)::text
      FROM pg_class z WHERE z.oid = to_regclass(${sql.lit(qualified(gatewaySchema, ZIP_ZONES_TABLE))}))`;
}
