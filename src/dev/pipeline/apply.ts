/**
 * The two ways the emulated pipeline writes the synced table. Each runs in one
 * REPEATABLE READ transaction that first locks the synced table's status row,
 * reads the last processed version from it, and writes the new version back
 * before committing: the rows and the position commit together or not at all,
 * so a crash at any point can neither lose nor repeat a version.
 */
import type pg from 'pg';
import { columnList, relations, TRIP_COLUMNS, TRIP_DATA_COLUMNS, type PipelineNames } from './names.js';
import { lockSyncedTableState, recordSyncApplied } from './state.js';
import { inRepeatableRead } from './transaction.js';
import { quoteIdent } from '../../db/sql-identifiers.js';

export interface Progress {
  version: number | null;
  synced: number;
  total: number;
}

export interface ApplyContext {
  pool: pg.Pool;
  names: PipelineNames;
  /** Updates this sync serves; the batch that finishes them marks them COMPLETED in its own transaction. */
  updateIds: readonly string[];
  /** Publishes progress while the transaction is still open; must use another connection. */
  onProgress?: (progress: Progress) => Promise<void>;
}

/**
 * The status written together with the rows, chosen by the caller from where
 * the batch ended; `final` when it completes the updates being served.
 */
export type StateAfter = (toVersion: number) => { detailedState: string; message: string; final: boolean };

export type IncrementalResult =
  | { kind: 'applied'; fromVersion: number; toVersion: number; rowsChanged: number }
  | { kind: 'up-to-date'; version: number }
  /** Never synced, or a version in range was written without change capture: only a snapshot is correct. */
  | { kind: 'needs-snapshot'; reason: string };

export interface IncrementalOptions {
  /** Highest version this batch may reach (the version an update was asked to catch up to). */
  upTo?: number;
  maxVersions: number;
  stateAfter: StateAfter;
  /** Record a sync (timestamps, notification) even when there is nothing new: an explicit update still completes. */
  recordWhenUpToDate?: boolean;
}

const sets = TRIP_DATA_COLUMNS.map((column) => `${quoteIdent(column)} = EXCLUDED.${quoteIdent(column)}`).join(', ');

export async function applyIncrementalBatch(
  ctx: ApplyContext,
  options: IncrementalOptions,
): Promise<IncrementalResult> {
  const r = relations(ctx.names);
  return inRepeatableRead(ctx.pool, async (client) => {
    const syncStart = await transactionClock(client);
    const state = await lockSyncedTableState(client, ctx.names);
    const from = state.lastProcessedVersion;
    if (from === null) return { kind: 'needs-snapshot', reason: 'initial snapshot' };

    const range = await pendingVersions(client, ctx.names, from, options);
    const toVersionRaw = range.toVersion;
    if (toVersionRaw === null) {
      if (options.recordWhenUpToDate) {
        await recordSyncApplied(client, ctx.names, {
          version: from,
          fromVersion: from,
          snapshot: false,
          rowsChanged: 0,
          syncStart,
          ...completion(ctx, options.stateAfter(from)),
        });
      }
      return { kind: 'up-to-date', version: from };
    }
    if (range.captured === false) {
      return { kind: 'needs-snapshot', reason: `versions after ${from} were written without change data capture` };
    }
    const toVersion = Number(toVersionRaw);

    const { rows: counted } = await client.query<{ total: string }>(
      `SELECT count(*) AS total FROM ${r.changes} ch JOIN ${r.commits} c ON c.txid = ch.txid
        WHERE c.version > $1 AND c.version <= $2`,
      [from, toVersion],
    );
    const total = Number(counted[0]?.total ?? 0);
    await ctx.onProgress?.({ version: toVersion, synced: 0, total });

    const rowsChanged = await applyNetChanges(client, ctx.names, from, toVersion);
    await ctx.onProgress?.({ version: toVersion, synced: total, total });
    await recordSyncApplied(client, ctx.names, {
      version: toVersion,
      fromVersion: from,
      snapshot: false,
      rowsChanged,
      syncStart,
      ...completion(ctx, options.stateAfter(toVersion)),
    });
    return { kind: 'applied', fromVersion: from, toVersion, rowsChanged };
  });
}

/**
 * Writes the net effect per id of versions (from, to] into the synced table:
 * each id's last change wins (by version, then by order within the
 * transaction). Deletes and upserts touch disjoint ids, so one statement does
 * both. With `ids`, only ids in that closed range (one writer's share, see
 * concurrent-apply.ts). Returns the rows written.
 */
export async function applyNetChanges(
  client: pg.ClientBase,
  names: PipelineNames,
  from: number,
  to: number,
  ids?: { lo: string; hi: string },
): Promise<number> {
  const r = relations(names);
  const { rows: applied } = await client.query<{ changed: string }>(
    `WITH latest AS (
       SELECT DISTINCT ON (ch.id) ch.op, ${columnList(TRIP_COLUMNS, 'ch.')}
         FROM ${r.changes} ch JOIN ${r.commits} c ON c.txid = ch.txid
        WHERE c.version > $1 AND c.version <= $2
          AND ($3::bigint IS NULL OR ch.id BETWEEN $3 AND $4)
        ORDER BY ch.id, c.version DESC, ch.seq DESC
     ), removed AS (
       DELETE FROM ${r.synced} t USING latest l WHERE l.op = 'delete' AND t.id = l.id RETURNING t.id
     ), upserted AS (
       INSERT INTO ${r.synced} (${columnList(TRIP_COLUMNS)})
       SELECT ${columnList(TRIP_COLUMNS)} FROM latest WHERE op <> 'delete'
       ON CONFLICT (id) DO UPDATE SET ${sets}
       RETURNING id
     )
     SELECT (SELECT count(*) FROM removed) + (SELECT count(*) FROM upserted) AS changed`,
    [from, to, ids?.lo ?? null, ids?.hi ?? null],
  );
  return Number(applied[0]?.changed ?? 0);
}

export interface SnapshotOptions {
  /** Rows per INSERT; progress is published between chunks. */
  chunkRows: number;
  stateAfter: StateAfter;
}

export interface SnapshotResult {
  fromVersion: number | null;
  toVersion: number;
  rowsCopied: number;
}

/**
 * Full copy. DELETE and re-INSERT every row in one transaction: MVCC shows
 * concurrent readers the old table until the commit and the new one after,
 * never a mix, without blocking them. Rejected alternatives: TRUNCATE is not
 * MVCC-safe (older snapshots see an empty table) and takes an ACCESS EXCLUSIVE
 * lock that stalls every reader for the whole copy; building a new table and
 * renaming it drops the indexes, grants and views the gateway puts on the
 * synced table. Ids are copied, never regenerated, so a reader streaming new
 * rows by `id > last seen` neither replays nor skips anything across a snapshot.
 */
export async function applySnapshot(ctx: ApplyContext, options: SnapshotOptions): Promise<SnapshotResult> {
  const r = relations(ctx.names);
  return inRepeatableRead(ctx.pool, async (client) => {
    const syncStart = await transactionClock(client);
    const state = await lockSyncedTableState(client, ctx.names);
    // Same snapshot as the rows copied below, so the version matches them exactly.
    const { rows: head } = await client.query<{ version: string; total: string }>(
      `SELECT (SELECT max(version) FROM ${r.commits}) AS version, (SELECT count(*) FROM ${r.source}) AS total`,
    );
    const toVersion = Number(head[0]?.version ?? 0);
    const total = Number(head[0]?.total ?? 0);
    await ctx.onProgress?.({ version: toVersion, synced: 0, total });

    await client.query(`DELETE FROM ${r.synced}`);
    let copied = 0;
    let lastId: string | null = null;
    for (;;) {
      const { rows }: pg.QueryResult<{ copied: string; last_id: string | null }> = await client.query(
        `WITH copied AS (
           INSERT INTO ${r.synced} (${columnList(TRIP_COLUMNS)})
           SELECT ${columnList(TRIP_COLUMNS)} FROM ${r.source}
            WHERE $1::bigint IS NULL OR id > $1 ORDER BY id LIMIT $2
           RETURNING id)
         SELECT count(*) AS copied, max(id) AS last_id FROM copied`,
        [lastId, options.chunkRows],
      );
      const chunk = Number(rows[0]?.copied ?? 0);
      if (chunk === 0) break;
      copied += chunk;
      lastId = rows[0]?.last_id ?? null;
      await ctx.onProgress?.({ version: toVersion, synced: copied, total: Math.max(total, copied) });
      if (chunk < options.chunkRows) break;
    }
    await recordSyncApplied(client, ctx.names, {
      version: toVersion,
      fromVersion: state.lastProcessedVersion,
      snapshot: true,
      rowsChanged: copied,
      syncStart,
      ...completion(ctx, options.stateAfter(toVersion)),
    });
    return { fromVersion: state.lastProcessedVersion, toVersion, rowsCopied: copied };
  });
}

export function completion(ctx: ApplyContext, after: ReturnType<StateAfter>) {
  return {
    detailedState: after.detailedState,
    message: after.message,
    completeUpdateIds: after.final ? ctx.updateIds : [],
  };
}

/** The source versions one batch after `from` covers (at most maxVersions, up to upTo), and whether each carries a change feed. */
export async function pendingVersions(
  client: pg.ClientBase,
  names: PipelineNames,
  from: number,
  options: Pick<IncrementalOptions, 'upTo' | 'maxVersions'>,
): Promise<{ toVersion: string | null; captured: boolean | null }> {
  const { rows } = await client.query<{ to_version: string | null; captured: boolean | null }>(
    `SELECT max(version) AS to_version, bool_and(change_data_captured) AS captured
       FROM (SELECT version, change_data_captured FROM ${relations(names).commits}
              WHERE version > $1 AND ($2::bigint IS NULL OR version <= $2)
              ORDER BY version LIMIT $3) pending`,
    [from, options.upTo ?? null, options.maxVersions],
  );
  return { toVersion: rows[0]?.to_version ?? null, captured: rows[0]?.captured ?? null };
}

/** The database's clock (not this process's), so start and end timestamps come from one clock. */
export async function transactionClock(client: pg.ClientBase): Promise<string> {
  const { rows } = await client.query<{ now: string }>('SELECT clock_timestamp()::text AS now');
  return rows[0]?.now ?? new Date().toISOString();
}
