/**
 * The emulated pipeline's own state, kept in Postgres so that every process
 * (gateway, CLI, worker) sees one truth and a restarted worker resumes exactly
 * where the last committed sync left it.
 *
 * - synced_tables: one row per synced table, in the shape of the Databricks
 *   synced-table status. last_processed_commit_version is written in the same
 *   transaction as the rows it describes, so a version is never applied twice.
 * - updates: the pipeline update queue (startUpdate). An update is marked
 *   COMPLETED by the transaction that applies its last rows, so "completed"
 *   and "rows visible" are one event.
 * - update_progress: progress of running updates, written from another
 *   connection while the apply transaction is open, so others can watch it.
 *   A table of its own: the apply transaction (REPEATABLE READ) writes the
 *   updates row and would fail on rows changed under it.
 * - sync_history: one row per applied batch, for inspection.
 * - apply_plan: a batch applied over several connections (concurrent-apply.ts):
 *   one row per writer, with its id range and whether its transaction has
 *   committed, so a batch interrupted half-way is finished without applying
 *   any writer's rows twice.
 */
import type pg from 'pg';
import { quoteIdent } from '../../db/sql-identifiers.js';
import { installOnce } from './install-once.js';
import { literal, relations, type PipelineNames } from './names.js';

/** Creates the pipeline's tables, or leaves them when this version of them is in place (install-once.ts). */
export async function ensurePipelineSchema(db: pg.ClientBase | pg.Pool, names: PipelineNames): Promise<void> {
  const r = relations(names);
  const schema = quoteIdent(names.pipelineSchema);
  const objects = [
    r.syncedTables,
    r.updates,
    r.updateProgress,
    r.history,
    r.applyPlan,
    `${schema}.updates_active`,
    `${schema}.sync_history_table`,
  ];
  await installOnce(db, pipelineSchemaDdl(names), {
    markedObject: `SCHEMA ${schema}`,
    readMark: {
      text: `SELECT CASE WHEN (SELECT bool_and(to_regclass(o) IS NOT NULL) FROM unnest($2::text[]) AS o)
                 THEN obj_description(to_regnamespace($1), 'pg_namespace') END AS mark`,
      values: [schema, objects],
    },
  });
}

function pipelineSchemaDdl(names: PipelineNames): string {
  const r = relations(names);
  return `
    SELECT pg_advisory_xact_lock(hashtext('lakebase_dev_ddl'), hashtext(${literal(names.pipelineSchema)}));
    CREATE SCHEMA IF NOT EXISTS ${quoteIdent(names.pipelineSchema)};

    CREATE TABLE IF NOT EXISTS ${r.syncedTables} (
      synced_schema text NOT NULL,
      synced_table text NOT NULL,
      name text NOT NULL,
      source_schema text NOT NULL,
      source_table text NOT NULL,
      source_table_full_name text NOT NULL,
      scheduling_policy text NOT NULL CHECK (scheduling_policy IN ('SNAPSHOT', 'TRIGGERED', 'CONTINUOUS')),
      pipeline_id uuid NOT NULL,
      detailed_state text NOT NULL,
      message text,
      last_processed_commit_version bigint,
      last_commit_timestamp timestamptz,
      last_sync_start timestamptz,
      last_sync_end timestamptz,
      failed_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      PRIMARY KEY (synced_schema, synced_table)
    );

    CREATE TABLE IF NOT EXISTS ${r.updates} (
      update_id uuid PRIMARY KEY,
      synced_schema text NOT NULL,
      synced_table text NOT NULL,
      full_refresh boolean NOT NULL,
      cause text NOT NULL,
      state text NOT NULL DEFAULT 'QUEUED' CHECK (state IN ('QUEUED', 'RUNNING', 'COMPLETED', 'FAILED')),
      attempts integer NOT NULL DEFAULT 0,
      requested_at timestamptz NOT NULL DEFAULT clock_timestamp(),
      started_at timestamptz,
      ended_at timestamptz,
      message text
    );

    CREATE TABLE IF NOT EXISTS ${r.updateProgress} (
      update_id uuid PRIMARY KEY,
      latest_version_currently_processing bigint,
      synced_row_count bigint NOT NULL,
      total_row_count bigint NOT NULL
    );
    CREATE INDEX IF NOT EXISTS updates_active ON ${r.updates} (synced_schema, synced_table, requested_at)
      WHERE state IN ('QUEUED', 'RUNNING');

    CREATE TABLE IF NOT EXISTS ${r.history} (
      synced_schema text NOT NULL,
      synced_table text NOT NULL,
      from_version bigint,
      to_version bigint NOT NULL,
      snapshot boolean NOT NULL,
      rows_changed bigint NOT NULL,
      sync_start timestamptz NOT NULL,
      sync_end timestamptz NOT NULL
    );
    CREATE INDEX IF NOT EXISTS sync_history_table ON ${r.history} (synced_schema, synced_table, to_version);

    CREATE TABLE IF NOT EXISTS ${r.applyPlan} (
      synced_schema text NOT NULL,
      synced_table text NOT NULL,
      part integer NOT NULL,
      from_version bigint NOT NULL,
      to_version bigint NOT NULL,
      lo_id bigint NOT NULL,
      hi_id bigint NOT NULL,
      applied boolean NOT NULL DEFAULT false,
      rows_changed bigint NOT NULL DEFAULT 0,
      sync_start timestamptz NOT NULL,
      PRIMARY KEY (synced_schema, synced_table, part)
    );
  `;
}
