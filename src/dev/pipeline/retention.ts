/**
 * Change data retention, as Delta expires its change data feed (with the
 * files it keeps for `delta.deletedFileRetentionDuration`, 7 days by default).
 * Without it the emulated feed would grow for as long as a developer streams
 * trips into the source.
 *
 * An expired version keeps its commit row, so the version history stays
 * linear, but loses its row changes and is flagged change_data_captured =
 * false. A synced table still behind it then gets the snapshot that any
 * version without change data gets (Lakebase would fail the update and ask for
 * a full refresh; see docs/local-pipeline.md). Tables already past it never
 * read it again. A sync running meanwhile reads in REPEATABLE READ, so it sees
 * a version either whole or expired, never half.
 */
import type pg from 'pg';
import { relations, type PipelineNames } from './names.js';

export const DEFAULT_CHANGE_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

export interface ExpiredChangeData {
  /** Versions whose change data was dropped. */
  versions: number;
  /** Row changes dropped with them. */
  rows: number;
}

/** Drops the change data of versions committed more than `retentionMs` ago. */
export async function expireChangeData(
  db: pg.Pool | pg.ClientBase,
  names: PipelineNames,
  retentionMs: number,
): Promise<ExpiredChangeData> {
  if (!Number.isFinite(retentionMs) || retentionMs < 0) {
    throw new Error(`change data retention must be a duration of 0 ms or more, got ${retentionMs}`);
  }
  const r = relations(names);
  const { rows } = await db.query<{ versions: string; rows: string }>(
    `WITH expired AS (
       UPDATE ${r.commits} SET change_data_captured = false
        WHERE change_data_captured AND version > 0
          AND committed_at < clock_timestamp() - make_interval(secs => $1::float8 / 1000)
       RETURNING txid
     ), dropped AS (
       DELETE FROM ${r.changes} ch USING expired e WHERE ch.txid = e.txid RETURNING 1
     )
     SELECT (SELECT count(*) FROM expired) AS versions, (SELECT count(*) FROM dropped) AS rows`,
    [retentionMs],
  );
  return { versions: Number(rows[0]?.versions ?? 0), rows: Number(rows[0]?.rows ?? 0) };
}
