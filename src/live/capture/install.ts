import { sql } from 'kysely';
import type { Db } from '../../db/database.js';
import { lockGatewaySchema } from '../../db/gateway-schema/installer.js';
import { qualified, quoteIdent, quoteLiteral } from '../../db/sql-identifiers.js';
import { INSUFFICIENT_PRIVILEGE, sqlState } from '../../db/sql-state.js';
import { TRIP_DATA_COLUMNS } from '../../db/tables.js';
import { CAPTURE_TABLES } from './tables.js';

export interface CaptureTarget {
  schema: string;
  table: string;
  gatewaySchema: string;
  /** Channel for a change notification at each writing commit; null: none. */
  notifyChannel: string | null;
}

/** Why the exact capture is not available, phrased for the startup warning. */
export class CaptureUnavailable extends Error {
  constructor(
    message: string,
    readonly sqlState: string | undefined,
  ) {
    super(message);
    this.name = 'CaptureUnavailable';
  }
}

const FUNCTION_NAME = 'capture_trip_changes';
const PRUNED_FUNCTION_NAME = 'note_pruned_trip_changes';
const PRUNED_TRIGGER_NAME = 'trip_change_log_pruned';

/** Trigger names on the synced table, per gateway schema (staging and production may share a database). */
export function captureTriggerNames(gatewaySchema: string) {
  const name = (suffix: string) => `${gatewaySchema.slice(0, 63 - suffix.length)}${suffix}`;
  return {
    inserts: name('_live_ins'),
    updates: name('_live_upd'),
    deletes: name('_live_del'),
    truncates: name('_live_trunc'),
  };
}

/**
 * The change record (docs/subscriptions.md, "How changes are captured"):
 *
 * - `change_log`: one row per writing statement (not per row), stamped with the
 *   writer's top-level transaction id. Inserts record only their keys (the
 *   bulk path of a sync stays cheap: one array per statement); updates and
 *   deletes also record the rows as they were before (the *before image*), so
 *   a reader can tell whether a row left or entered a filter, and whether a
 *   delete followed by a re-insert changed anything at all. An update that
 *   keeps its keys records every row it wrote, changed or not; the reader
 *   drops the unchanged ones (their before image equals the table).
 * - `capture_state`: the pruning horizon. Changes of transactions below it
 *   were dropped by retention; a cursor whose snapshot xmin is below it has
 *   lost changes and gets CURSOR_EXPIRED.
 * - `capture_marks`: (time, snapshot xmin) samples taken by the pruner, so
 *   retention can be expressed in time but applied by transaction id.
 * - `windows` and `window_rows`: catch-up windows (windows.ts).
 *
 * The trigger function is SECURITY DEFINER (the writer, the sync pipeline's
 * role, has no rights in the gateway's schema) with a pinned search_path.
 */
export async function installCapture(db: Db, target: CaptureTarget): Promise<void> {
  const synced = qualified(target.schema, target.table);
  const log = qualified(target.gatewaySchema, CAPTURE_TABLES.log);
  const state = qualified(target.gatewaySchema, CAPTURE_TABLES.state);
  const marks = qualified(target.gatewaySchema, CAPTURE_TABLES.marks);
  const windows = qualified(target.gatewaySchema, CAPTURE_TABLES.windows);
  const windowRows = qualified(target.gatewaySchema, CAPTURE_TABLES.windowRows);
  const fn = qualified(target.gatewaySchema, FUNCTION_NAME);
  const types = await columnTypes(db, target);
  const oldColumns = TRIP_DATA_COLUMNS.map((column) => `old_${column} ${types[column]}[]`).join(',\n');
  const windowColumns = TRIP_DATA_COLUMNS.flatMap((column) => [
    `${quoteIdent(`old_${column}`)} ${types[column]}`,
    `${quoteIdent(column)} ${types[column]}`,
  ]).join(',\n');
  const names = captureTriggerNames(target.gatewaySchema);

  await db.transaction().execute(async (trx) => {
    // The gateway schema installer's lock (db/gateway-schema): one lock for everything installed into the schema.
    await lockGatewaySchema(trx, target.gatewaySchema);
    // CREATE TRIGGER waits for (and then blocks) the pipeline's writes: give up quickly, retry later.
    await sql`SET LOCAL lock_timeout = '2s'`.execute(trx);
    await sql.raw(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(target.gatewaySchema)}`).execute(trx);
    await sql
      .raw(
        `CREATE TABLE IF NOT EXISTS ${log} (
           seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
           xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
           relid oid NOT NULL,
           op "char" NOT NULL CHECK (op IN ('I', 'U', 'D')),
           ids bigint[] NOT NULL,
           max_id bigint,
           ${oldColumns}
         )`,
      )
      .execute(trx);
    await addMaxId(trx, log);
    await sql.raw(`CREATE INDEX IF NOT EXISTS ${quoteIdent(`${CAPTURE_TABLES.log}_xid`)} ON ${log} (xid)`).execute(trx);
    await storeArraysUncompressed(trx, log);
    // A new (or recreated) change record starts at the current snapshot: cursors older than it expire.
    await sql
      .raw(
        `CREATE TABLE IF NOT EXISTS ${state} (
           relid oid PRIMARY KEY,
           horizon xid8 NOT NULL,
           epoch text
         )`,
      )
      .execute(trx);
    // The largest sequence number retention has deleted: a reader whose stamp saw less lost changes it had not
    // read (change-feed.ts), where the horizon alone cannot tell that from a reader that sat idle.
    await addColumn(trx, state, 'pruned_seq', 'bigint NOT NULL DEFAULT 0');
    // The transaction that last put the capture back: positions whose snapshot does not see it may miss writes
    // made while it was away. The horizon cannot tell: it is an xmin, which a long transaction anywhere in the
    // cluster holds at the same value before and after the recapture.
    await addColumn(trx, state, 'recaptured_xid', 'xid8');
    await sql
      .raw(
        `CREATE TABLE IF NOT EXISTS ${marks} (
           at timestamptz NOT NULL DEFAULT now(),
           horizon xid8 NOT NULL
         )`,
      )
      .execute(trx);
    // Catch-up windows (windows.ts): a long catch-up's net changes, computed once and then paged by their place in key order.
    // UNLOGGED: a crash empties them, and a reader whose window is gone computes a new one.
    await sql
      .raw(
        `CREATE UNLOGGED TABLE IF NOT EXISTS ${windows} (
           window_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
           relid oid NOT NULL,
           snapshot text NOT NULL,
           created_at timestamptz NOT NULL DEFAULT now()
         )`,
      )
      .execute(trx);
    await sql
      .raw(
        `CREATE UNLOGGED TABLE IF NOT EXISTS ${windowRows} (
           window_id bigint NOT NULL,
           n integer NOT NULL,
           key bigint NOT NULL,
           op "char" NOT NULL,
           inserted boolean NOT NULL,
           id bigint,
           ${windowColumns}
         )`,
      )
      .execute(trx);
    // Pages are ranges of n (the row's place in key order), and this is the table's only index, so that
    // every plan with an index reads just the page's rows (windows.ts, windowPageSql).
    await sql
      .raw(`CREATE INDEX IF NOT EXISTS ${quoteIdent(`${CAPTURE_TABLES.windowRows}_n`)} ON ${windowRows} (window_id, n)`)
      .execute(trx);
    await dropWindowKeyIndex(trx, windowRows);
    await sql
      .raw(
        `INSERT INTO ${state} (relid, horizon)
         VALUES (${quoteLiteral(synced)}::regclass, pg_snapshot_xmin(pg_current_snapshot()))
         ON CONFLICT (relid) DO NOTHING`,
      )
      .execute(trx);
    await sql.raw(triggerFunction(fn, log, target.notifyChannel)).execute(trx);
    await installPrunedRecord(trx, target.gatewaySchema, log, state);

    const triggers = [
      [names.inserts, 'AFTER INSERT', 'REFERENCING NEW TABLE AS new_rows'],
      [names.updates, 'AFTER UPDATE', 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'],
      [names.deletes, 'AFTER DELETE', 'REFERENCING OLD TABLE AS old_rows'],
      // BEFORE: the rows are still there to be recorded as deleted.
      [names.truncates, 'BEFORE TRUNCATE', ''],
    ] as const;
    // Only when missing: recreating a trigger changes its identity, which expires every cursor.
    if ((await captureEpoch(trx, target)) === null) {
      for (const [name, timing, referencing] of triggers) {
        await sql
          .raw(
            `CREATE OR REPLACE TRIGGER ${quoteIdent(name)} ${timing} ON ${synced} ${referencing}
               FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
          )
          .execute(trx);
      }
    }
    // Writers running with session_replication_role = replica (bulk loaders) fire only
    // ALWAYS triggers. That needs ownership of the table, which TRIGGER privilege alone
    // does not give: try it, and keep the default (fires for ordinary writers) otherwise.
    // In this transaction (a savepoint for the refusal), with its lock timeout: outside, it could wait behind a
    // long writer (and hold every writer queued behind it), and a cursor taken between it and the UPDATE below
    // saw the new identity without the recapture, and was refused for nothing.
    const { rows: modes } = await sql<{ name: string; enabled: string }>`
      SELECT tgname AS name, tgenabled AS enabled FROM pg_trigger
       WHERE tgrelid = to_regclass(${synced}) AND tgname = ANY(${Object.values(names)})`.execute(trx);
    for (const { name, enabled } of modes) {
      if (enabled === 'A') continue;
      await sql.raw('SAVEPOINT enable_always').execute(trx);
      try {
        await sql.raw(`ALTER TABLE ${synced} ENABLE ALWAYS TRIGGER ${quoteIdent(name)}`).execute(trx);
        await sql.raw('RELEASE SAVEPOINT enable_always').execute(trx);
      } catch (error) {
        // Only the refusal for want of ownership keeps the default mode. Anything else (the lock timeout behind
        // a long writer) fails the install, which is retried: recorded as installed, a trigger left short of
        // ALWAYS missed bulk loaders' rows silently, and the next start's switch expired every stream.
        if (sqlState(error) !== INSUFFICIENT_PRIVILEGE) throw error;
        await sql.raw('ROLLBACK TO SAVEPOINT enable_always').execute(trx);
        break;
      }
    }
    // A capture whose triggers changed (recreated, disabled and enabled again, a new table)
    // may have missed writes: positions from before cannot be trusted. The horizon moves up (cursors below it
    // expire), and this transaction is recorded (positions that do not see it expire, whatever their xmin).
    await sql
      .raw(
        `UPDATE ${state}
            SET horizon = CASE WHEN epoch IS DISTINCT FROM e.now
                               THEN greatest(horizon, pg_snapshot_xmin(pg_current_snapshot())) ELSE horizon END,
                recaptured_xid = CASE WHEN epoch IS DISTINCT FROM e.now
                                      THEN pg_current_xact_id() ELSE recaptured_xid END,
                epoch = e.now
           FROM (SELECT ${epochSql(target)} AS now) e
          WHERE relid = ${quoteLiteral(synced)}::regclass`,
      )
      .execute(trx);
  });
}

/**
 * Window rows had a primary key on (window_id, key) before 2026-12-03, for a lookup pages no longer make
 * (windows.ts, windowPageSql). Kept, it would only slow the opening of every window (40% of its buffers) and
 * offer the planner a second index for a page's window_id. Checked first: ALTER TABLE would take an
 * exclusive lock on every start.
 */
async function dropWindowKeyIndex(db: Db, windowRows: string): Promise<void> {
  const { rows } = await sql<{ name: string }>`
    SELECT conname AS name FROM pg_constraint
     WHERE conrelid = to_regclass(${windowRows}) AND contype = 'p'`.execute(db);
  for (const { name } of rows) {
    await sql.raw(`ALTER TABLE ${windowRows} DROP CONSTRAINT ${quoteIdent(name)}`).execute(db);
  }
}

/**
 * A change record's largest key (lets a reader skip records it has paged past
 * without reading their arrays). Records written before this column existed
 * have sorted ids and no max_id; a reader takes their last id instead.
 * Checked first: ALTER TABLE would take an exclusive lock on every start.
 */
async function addMaxId(db: Db, log: string): Promise<void> {
  await addColumn(db, log, 'max_id', 'bigint');
}

/** Adds a column a table made by an earlier version lacks; checked first, as ALTER TABLE locks the table. */
async function addColumn(db: Db, table: string, column: string, definition: string): Promise<void> {
  const { rows } = await sql<{ present: boolean }>`
    SELECT EXISTS (SELECT 1 FROM pg_attribute a
                    WHERE a.attrelid = to_regclass(${table}) AND a.attname = ${column} AND NOT a.attisdropped) AS present`.execute(
    db,
  );
  if (rows[0]?.present) return;
  await sql.raw(`ALTER TABLE ${table} ADD COLUMN ${quoteIdent(column)} ${definition}`).execute(db);
}

/**
 * The change log's arrays (one per writing statement: 300,000 ids for a bulk
 * COPY) are stored out of line but not compressed. With the default storage,
 * compressing them took a quarter of a COPY's time (bench/capture-writes.ts:
 * 25% slower with the capture on, 3% with compression off); the log is
 * pruned by retention, so the extra bytes do not accumulate.
 */
async function storeArraysUncompressed(db: Db, log: string): Promise<void> {
  const { rows } = await sql<{ name: string }>`
    SELECT a.attname AS name FROM pg_attribute a
     WHERE a.attrelid = to_regclass(${log}) AND a.attnum > 0 AND NOT a.attisdropped
       AND a.attndims > 0 AND a.attstorage <> 'e'`.execute(db);
  if (rows.length === 0) return;
  const columns = rows.map((row) => `ALTER COLUMN ${quoteIdent(row.name)} SET STORAGE EXTERNAL`).join(', ');
  await sql.raw(`ALTER TABLE ${log} ${columns}`).execute(db);
}

/**
 * The identity of the capture as it stands: the triggers' oids and the xmins
 * of their catalog rows (which change whenever one is recreated, disabled or
 * enabled again), and the table's oid. NULL unless all four are in place and
 * enabled. Stored in the state row; a reader that finds another value knows
 * writes may have gone uncaptured (see ChangeFeed).
 */
export function epochSql(target: Pick<CaptureTarget, 'schema' | 'table' | 'gatewaySchema'>): string {
  const names = Object.values(captureTriggerNames(target.gatewaySchema));
  const synced = quoteLiteral(qualified(target.schema, target.table));
  return `(SELECT to_regclass(${synced})::oid::text || ':' || string_agg(t.oid::text || '.' || t.xmin::text, ',' ORDER BY t.tgname)
             FROM pg_trigger t
            WHERE t.tgrelid = to_regclass(${synced}) AND t.tgenabled <> 'D'
              AND t.tgname IN (${names.map(quoteLiteral).join(', ')})
           HAVING count(*) = ${names.length})`;
}

async function captureEpoch(db: Db, target: CaptureTarget): Promise<string | null> {
  const { rows } = await sql.raw<{ epoch: string | null }>(`SELECT ${epochSql(target)} AS epoch`).execute(db);
  return rows[0]?.epoch ?? null;
}

/** The synced table's column types, so before images are stored exactly as the table holds them. */
async function columnTypes(db: Db, target: CaptureTarget): Promise<Record<string, string>> {
  const { rows } = await sql<{ name: string; type: string }>`
    SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type
      FROM pg_attribute a
     WHERE a.attrelid = to_regclass(${qualified(target.schema, target.table)}) AND a.attnum > 0 AND NOT a.attisdropped`.execute(
    db,
  );
  if (rows.length === 0) {
    throw new CaptureUnavailable(`the synced table ${target.schema}.${target.table} does not exist yet`, '42P01');
  }
  const types = Object.fromEntries(rows.map((row) => [row.name, row.type]));
  for (const column of TRIP_DATA_COLUMNS) {
    if (!types[column]) throw new CaptureUnavailable(`the synced table has no column ${column}`, '42703');
  }
  return types;
}

function triggerFunction(fn: string, log: string, notifyChannel: string | null): string {
  const cols = TRIP_DATA_COLUMNS.map((column) => quoteIdent(column));
  const oldCols = TRIP_DATA_COLUMNS.map((column) => quoteIdent(`old_${column}`)).join(', ');
  const aggregated = (alias: string) => cols.map((column) => `array_agg(${alias}.${column} ORDER BY ${alias}.id)`);
  const images = (alias: string) => `${aggregated(alias).join(', ')}`;
  const tuple = (alias: string) => `(${cols.map((column) => `${alias}.${column}`).join(', ')})`;
  const notify =
    notifyChannel === null
      ? ''
      : `PERFORM pg_notify(${quoteLiteral(notifyChannel)},
           json_build_object('event', 'change', 'schema', TG_TABLE_SCHEMA, 'table', TG_TABLE_NAME)::text);`;
  return `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
  DECLARE
    written bigint := 0;
    written_seq bigint;
    old_ids bigint[];
    new_ids bigint[];
  BEGIN
    IF TG_OP = 'INSERT' THEN
      INSERT INTO ${log} (relid, op, ids, max_id)
      SELECT TG_RELID, 'I', array_agg(n.id ORDER BY n.id), max(n.id) FROM new_rows n HAVING count(*) > 0;
      GET DIAGNOSTICS written = ROW_COUNT;
    ELSIF TG_OP = 'UPDATE' THEN
      -- The common case, a sync's INSERT ... ON CONFLICT DO UPDATE or an UPDATE that keeps every
      -- key: the old and new transition tables hold the same keys in the same order (the executor
      -- appends both sides of each row together), so one record of the keys and their before images,
      -- read from the old side alone, is exact. Joining the two sides to skip rows rewritten unchanged
      -- cost more than recording them: the join and its sorts were a third to two fifths of the
      -- trigger's cost per 1,000-row upsert (docs/performance.md, "Live change capture"), and a reader
      -- drops a row whose before image equals the table anyway. The ids are not sorted; max_id stands
      -- in for the last one (see queries.ts).
      SELECT array_agg(n.id) INTO new_ids FROM new_rows n;
      INSERT INTO ${log} (relid, op, ids, ${oldCols}, max_id)
      SELECT TG_RELID, 'U', array_agg(o.id), ${cols.map((column) => `array_agg(o.${column})`).join(', ')}, max(o.id)
        FROM old_rows o HAVING count(*) > 0
      RETURNING seq, ids INTO written_seq, old_ids;
      GET DIAGNOSTICS written = ROW_COUNT;
      IF written > 0 AND old_ids IS DISTINCT FROM new_ids THEN
        -- A key changed (or the sides came in another order): take that record back and pair the rows
        -- by key. Rows present on both sides are updates, recorded only when something really changed;
        -- a changed key is a delete of the old key and an insert of the new one. The keys of each op
        -- are disjoint, so the order of the (at most three) records does not matter to a reader.
        DELETE FROM ${log} WHERE seq = written_seq;
        INSERT INTO ${log} (relid, op, ids, ${oldCols}, max_id)
        SELECT TG_RELID, c.op, array_agg(c.id ORDER BY c.id),
               ${cols.map((column) => `CASE WHEN c.op = 'I' THEN NULL ELSE array_agg(c.${column} ORDER BY c.id) END`).join(', ')},
               max(c.id)
          FROM (SELECT CASE WHEN n.id IS NULL THEN 'D' WHEN o.id IS NULL THEN 'I' ELSE 'U' END::"char" AS op,
                       coalesce(o.id, n.id) AS id, ${cols.map((column) => `o.${column}`).join(', ')}
                  FROM old_rows o FULL JOIN new_rows n ON n.id = o.id
                 WHERE o.id IS NULL OR n.id IS NULL OR ${tuple('o')} IS DISTINCT FROM ${tuple('n')}) c
         GROUP BY c.op;
        GET DIAGNOSTICS written = ROW_COUNT;
      END IF;
    ELSIF TG_OP = 'DELETE' THEN
      INSERT INTO ${log} (relid, op, ids, ${oldCols}, max_id)
      SELECT TG_RELID, 'D', array_agg(o.id ORDER BY o.id), ${images('o')}, max(o.id) FROM old_rows o HAVING count(*) > 0;
      GET DIAGNOSTICS written = ROW_COUNT;
    ELSIF TG_OP = 'TRUNCATE' THEN
      EXECUTE format(
        'INSERT INTO ${log.replace(/%/g, '%%')} (relid, op, ids, ${oldCols}, max_id)
         SELECT $1, ''D'', array_agg(o.id ORDER BY o.id), ${images('o').replace(/'/g, "''")}, max(o.id)
           FROM %s o HAVING count(*) > 0', TG_RELID::regclass) USING TG_RELID;
      GET DIAGNOSTICS written = ROW_COUNT;
    END IF;
    IF written > 0 THEN
      ${notify}
    END IF;
    RETURN NULL;
  END $fn$`;
}

/**
 * Whoever deletes changes from the record raises `pruned_seq` (the largest sequence number deleted), in the same
 * statement: a reader below the horizon whose stamp saw less then knows it lost changes it had not read
 * (change-feed.ts). Retention here records it itself, but a gateway of an older version sharing the schema
 * during a rolling deploy prunes without it, and a gateway of this version that had fallen behind carried on
 * past the deleted changes without a word (300 of 301 rows lost in an audit). The capture function taking back
 * a record it wrote in the same statement (a changed key) is no pruning: it runs inside a trigger.
 */
async function installPrunedRecord(trx: Db, gatewaySchema: string, log: string, state: string): Promise<void> {
  const fn = qualified(gatewaySchema, PRUNED_FUNCTION_NAME);
  await sql
    .raw(
      `CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger
         LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $pruned$
       BEGIN
         IF pg_trigger_depth() > 1 THEN
           RETURN NULL;
         END IF;
         UPDATE ${state} s SET pruned_seq = greatest(s.pruned_seq, g.seq)
           FROM (SELECT relid, max(seq) AS seq FROM pruned GROUP BY relid) g
          WHERE s.relid = g.relid AND g.seq > s.pruned_seq;
         RETURN NULL;
       END
       $pruned$`,
    )
    .execute(trx);
  // Only when missing: creating a trigger locks the change record against the writers' captures until the install
  // commits, which every start would otherwise do (the function above is replaced without a lock).
  const { rows } = await sql<{ present: boolean }>`
    SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = ${log}::regclass AND tgname = ${PRUNED_TRIGGER_NAME})
      AS present`.execute(trx);
  if (rows[0]?.present) return;
  await sql
    .raw(
      `CREATE TRIGGER ${quoteIdent(PRUNED_TRIGGER_NAME)} AFTER DELETE ON ${log}
         REFERENCING OLD TABLE AS pruned FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`,
    )
    .execute(trx);
}
