/**
 * The emulated Unity Catalog source: a plain table plus a change feed that
 * numbers every committed transaction as a version, like Delta's change data
 * feed (CDF). Triggers capture the changes, so any SQL against the source
 * table (psql, the CLI, the reference app's `INSERT ... VALUES (21933, ...)`)
 * becomes a version the sync worker can apply.
 *
 * Versions are assigned at COMMIT, not at the first write, and under a lock
 * held until the commit is visible. Numbering at the first write would let a
 * transaction that started earlier commit later with a smaller version, after
 * the worker has already moved past it, and its changes would never be synced.
 * Delta has the same property (one linear commit log). The price is that source
 * transactions serialise their commit step, which is negligible for dev data.
 */
import type pg from 'pg';
import { ensureSyncedTable } from '../synced-table.js';
import {
  columnList,
  literal,
  relations,
  SOURCE_COMMIT_CHANNEL,
  TRIP_DATA_COLUMNS,
  type PipelineNames,
} from './names.js';
import { quoteIdent } from '../../db/sql-identifiers.js';
import { installOnce } from './install-once.js';

/**
 * `SET LOCAL lakebase_dev.capture_changes = off` makes a transaction write the
 * source without recording row changes (bulk seeding). Its version is then
 * flagged change_data_captured = false and the worker falls back to a full
 * snapshot rather than silently missing those rows.
 */
export const CAPTURE_SETTING = 'lakebase_dev.capture_changes';

const CAPTURE_TRIGGERS = ['capture_insert', 'capture_update', 'capture_delete', 'capture_truncate'];

/**
 * Installs the change feed, or leaves it when this version of it is in place (install-once.ts: reinstalled by
 * every command, it made a delete beside a stream die of a deadlock).
 */
export async function ensureChangeFeed(db: pg.ClientBase | pg.Pool, names: PipelineNames): Promise<void> {
  await ensureSyncedTable(db, names.sourceSchema, names.sourceTable);
  const r = relations(names);
  const marked = `${quoteIdent(names.sourceSchema)}.note_pending_commit(boolean)`;
  await installOnce(db, changeFeedDdl(names), {
    markedObject: `FUNCTION ${marked}`,
    readMark: {
      text: `SELECT CASE WHEN to_regclass($2) IS NOT NULL AND to_regclass($3) IS NOT NULL AND to_regclass($4) IS NOT NULL
                      AND (SELECT bool_and(to_regclass(o) IS NOT NULL) FROM unnest($7::text[]) AS o)
                      AND (SELECT count(*) FROM pg_trigger
                            WHERE tgrelid = to_regclass($5) AND tgname = ANY($6) AND tgenabled <> 'D') = cardinality($6)
                      AND EXISTS (SELECT FROM pg_trigger
                                   WHERE tgrelid = to_regclass($3) AND tgname = 'assign_commit_version')
                 THEN obj_description(to_regprocedure($1), 'pg_proc') END AS mark`,
      // Every relation the DDL creates: the change_feed view (read in the docs) and the index retention uses too.
      values: [
        marked,
        r.commits,
        r.pendingCommits,
        r.changes,
        r.source,
        CAPTURE_TRIGGERS,
        [`${quoteIdent(names.sourceSchema)}.change_feed`, `${quoteIdent(names.sourceSchema)}.commits_change_data_age`],
      ],
    },
  });
}

function changeFeedDdl(names: PipelineNames): string {
  const r = relations(names);
  const schema = quoteIdent(names.sourceSchema);
  const fn = (name: string) => `${schema}.${quoteIdent(name)}`;
  const data = columnList(TRIP_DATA_COLUMNS);
  const dataOf = (alias: string) => columnList(TRIP_DATA_COLUMNS, `${alias}.`);
  const skipCapture = `coalesce(current_setting(${literal(CAPTURE_SETTING)}, true), '') = 'off'`;
  const payload = `json_build_object('schema', ${literal(names.sourceSchema)}, 'table', ${literal(names.sourceTable)}, 'version', v)::text`;

  // Each capture trigger: nothing to do for an empty statement; with the capture switched off for the
  // session (a bulk load) only the commit is noted, as one whose changes were not captured.
  const captureFunction = (name: string, rows: string, record: string) => `
    CREATE OR REPLACE FUNCTION ${fn(name)}() RETURNS trigger
    LANGUAGE plpgsql AS $lakebase_dev$
    BEGIN
      IF NOT EXISTS (SELECT FROM ${rows}) THEN RETURN NULL; END IF;
      IF ${skipCapture} THEN
        PERFORM ${fn('note_pending_commit')}(false);
        RETURN NULL;
      END IF;${record}
      PERFORM ${fn('note_pending_commit')}(true);
      RETURN NULL;
    END $lakebase_dev$;`;
  // Several processes (gateway bootstrap, CLI) may run this at once;
  // CREATE OR REPLACE FUNCTION is not safe against itself concurrently.
  return `
    SELECT pg_advisory_xact_lock(hashtext('lakebase_dev_ddl'), hashtext(${literal(names.sourceSchema)}));
    -- The source first, before any lock on the feed's tables: a writer of the source still running then
    -- finishes (its commit writes the commit log) before this takes anything it needs.
    LOCK TABLE ${r.source} IN SHARE ROW EXCLUSIVE MODE;

    CREATE TABLE IF NOT EXISTS ${r.commits} (
      version bigserial PRIMARY KEY,
      txid xid8 NOT NULL UNIQUE,
      committed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      operation text NOT NULL DEFAULT 'WRITE',
      change_data_captured boolean NOT NULL DEFAULT true
    );
    -- Version 0 is the table's creation, as in Delta.
    INSERT INTO ${r.commits} (version, txid, operation) VALUES (0, pg_current_xact_id(), 'CREATE TABLE')
      ON CONFLICT DO NOTHING;
    -- The versions whose change data is still held, by age: what retention expires (retention.ts).
    CREATE INDEX IF NOT EXISTS commits_change_data_age ON ${r.commits} (committed_at) WHERE change_data_captured;

    CREATE TABLE IF NOT EXISTS ${r.changes} (
      txid xid8 NOT NULL,
      seq bigint GENERATED ALWAYS AS IDENTITY,
      op text NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
      id bigint NOT NULL,
      tpep_pickup_datetime timestamptz,
      tpep_dropoff_datetime timestamptz,
      trip_distance double precision,
      fare_amount double precision,
      pickup_zip integer,
      dropoff_zip integer,
      PRIMARY KEY (txid, seq)
    );

    CREATE TABLE IF NOT EXISTS ${r.pendingCommits} (
      txid xid8 PRIMARY KEY,
      change_data_captured boolean NOT NULL
    );

    -- Readable change feed, in the spirit of Delta's table_changes().
    CREATE OR REPLACE VIEW ${fn('change_feed')} AS
      SELECT c.version AS _commit_version, c.committed_at AS _commit_timestamp, ch.op AS _change_type,
             ch.id, ${dataOf('ch')}
        FROM ${r.changes} ch JOIN ${r.commits} c ON c.txid = ch.txid;

    CREATE OR REPLACE FUNCTION ${fn('note_pending_commit')}(captured boolean) RETURNS void
    LANGUAGE sql AS $lakebase_dev$
      INSERT INTO ${r.pendingCommits} (txid, change_data_captured) VALUES (pg_current_xact_id(), captured)
      ON CONFLICT (txid) DO UPDATE SET change_data_captured = false WHERE NOT EXCLUDED.change_data_captured;
    $lakebase_dev$;

    ${captureFunction(
      'capture_insert',
      'new_rows',
      `
      INSERT INTO ${r.changes} (txid, op, id, ${data})
        SELECT pg_current_xact_id(), 'insert', n.id, ${dataOf('n')} FROM new_rows n;`,
    )}

    -- Transition tables carry no link between an old and a new row, so an
    -- UPDATE that changes ids is recorded by net effect per id: ids only in
    -- the old rows were deleted, ids only in the new rows were inserted.
    ${captureFunction(
      'capture_update',
      'new_rows',
      `
      INSERT INTO ${r.changes} (txid, op, id, ${data})
        SELECT pg_current_xact_id(), CASE WHEN o.id IS NULL THEN 'insert' ELSE 'update' END, n.id, ${dataOf('n')}
          FROM new_rows n LEFT JOIN old_rows o ON o.id = n.id
        UNION ALL
        SELECT pg_current_xact_id(), 'delete', o.id, ${dataOf('o')}
          FROM old_rows o WHERE NOT EXISTS (SELECT FROM new_rows n WHERE n.id = o.id);`,
    )}

    ${captureFunction(
      'capture_delete',
      'old_rows',
      `
      INSERT INTO ${r.changes} (txid, op, id, ${data})
        SELECT pg_current_xact_id(), 'delete', o.id, ${dataOf('o')} FROM old_rows o;`,
    )}

    -- TRUNCATE has no transition table; BEFORE TRUNCATE still sees the rows.
    ${captureFunction(
      'capture_truncate',
      r.source,
      `
      INSERT INTO ${r.changes} (txid, op, id, ${data})
        SELECT pg_current_xact_id(), 'delete', s.id, ${dataOf('s')} FROM ${r.source} s;`,
    )}

    -- Runs at COMMIT (deferred), once per transaction that wrote the source.
    CREATE OR REPLACE FUNCTION ${fn('assign_commit_version')}() RETURNS trigger
    LANGUAGE plpgsql AS $lakebase_dev$
    DECLARE
      v bigint;
      captured boolean;
    BEGIN
      -- Held until this transaction's commit is visible, so versions are
      -- handed out in commit order.
      PERFORM pg_advisory_xact_lock(hashtext('lakebase_dev_commit'), hashtext(${literal(names.sourceSchema)}));
      DELETE FROM ${r.pendingCommits} WHERE txid = NEW.txid RETURNING change_data_captured INTO captured;
      IF NOT FOUND THEN RETURN NULL; END IF;
      INSERT INTO ${r.commits} (txid, change_data_captured) VALUES (NEW.txid, captured)
        ON CONFLICT (txid) DO UPDATE
          SET change_data_captured = ${r.commits}.change_data_captured AND EXCLUDED.change_data_captured
        RETURNING version INTO v;
      PERFORM pg_notify(${literal(SOURCE_COMMIT_CHANNEL)}, ${payload});
      RETURN NULL;
    END $lakebase_dev$;

    CREATE OR REPLACE TRIGGER capture_insert AFTER INSERT ON ${r.source}
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn('capture_insert')}();
    CREATE OR REPLACE TRIGGER capture_update AFTER UPDATE ON ${r.source}
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn('capture_update')}();
    CREATE OR REPLACE TRIGGER capture_delete AFTER DELETE ON ${r.source}
      REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ${fn('capture_delete')}();
    CREATE OR REPLACE TRIGGER capture_truncate BEFORE TRUNCATE ON ${r.source}
      FOR EACH STATEMENT EXECUTE FUNCTION ${fn('capture_truncate')}();
    -- Constraint triggers cannot be replaced in place; create it once (its function is replaced above).
    DO $lakebase_dev$
    BEGIN
      IF NOT EXISTS (SELECT FROM pg_trigger
                      WHERE tgrelid = ${literal(r.pendingCommits)}::regclass AND tgname = 'assign_commit_version') THEN
        CREATE CONSTRAINT TRIGGER assign_commit_version AFTER INSERT ON ${r.pendingCommits}
          DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ${fn('assign_commit_version')}();
      END IF;
    END $lakebase_dev$;
  `;
}
