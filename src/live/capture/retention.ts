import { sql } from 'kysely';
import type { Db } from '../../db/database.js';
import { qualified } from '../../db/sql-identifiers.js';
import type { CaptureRelations } from './queries.js';
import { CAPTURE_TABLES } from './tables.js';

export interface PruneResult {
  /** Log rows (statements) dropped. */
  dropped: number;
  horizon: string | null;
}

/**
 * Retention of the change record. Each run samples (now, snapshot xmin) into
 * the marks table, then drops the changes of transactions below the xmin of
 * the newest mark older than the retention: those finished before that mark,
 * so longer ago than the retention. The horizon moves up to that xmin; a
 * cursor below it may need dropped changes and gets CURSOR_EXPIRED. Any
 * number of gateways may run this at once: every step is monotonic.
 */
export async function pruneChangeRecord(
  db: Db,
  relations: CaptureRelations,
  retentionSeconds: number,
): Promise<PruneResult> {
  const log = sql.raw(qualified(relations.gatewaySchema, CAPTURE_TABLES.log));
  const state = sql.raw(qualified(relations.gatewaySchema, CAPTURE_TABLES.state));
  const marks = sql.raw(qualified(relations.gatewaySchema, CAPTURE_TABLES.marks));
  const relid = sql`${relations.synced}::regclass`;
  return db.transaction().execute(async (trx) => {
    await sql`INSERT INTO ${marks} (horizon) VALUES (pg_snapshot_xmin(pg_current_snapshot()))`.execute(trx);
    // Catch-up windows a reader left behind (a gateway that stopped mid-catch-up); a reader still on one
    // finds it gone and computes a new one from its position.
    const windows = sql.raw(qualified(relations.gatewaySchema, CAPTURE_TABLES.windows));
    const windowRows = sql.raw(qualified(relations.gatewaySchema, CAPTURE_TABLES.windowRows));
    await sql`WITH gone AS (DELETE FROM ${windows} WHERE relid = ${relid} AND created_at < now() - interval '1 day'
                             RETURNING window_id)
              DELETE FROM ${windowRows} r USING gone WHERE r.window_id = gone.window_id`.execute(trx);
    const { rows } = await sql<{ horizon: string | null }>`
      SELECT max(horizon)::text AS horizon FROM ${marks}
       WHERE at <= now() - make_interval(secs => ${retentionSeconds})`.execute(trx);
    const horizon = rows[0]?.horizon ?? null;
    if (horizon === null) return { dropped: 0, horizon: null };
    const deleted = await sql<{ dropped: string; seq: string | null }>`
      WITH gone AS (DELETE FROM ${log} WHERE relid = ${relid} AND xid < ${horizon}::xid8 RETURNING seq)
      SELECT count(*)::text AS dropped, max(seq)::text AS seq FROM gone`.execute(trx);
    const gone = deleted.rows[0];
    await sql`UPDATE ${state} SET horizon = greatest(horizon, ${horizon}::xid8),
                                  pruned_seq = greatest(pruned_seq, coalesce(${gone?.seq ?? null}::int8, 0))
               WHERE relid = ${relid}`.execute(trx);
    // Marks older than the one in use are no longer needed.
    await sql`DELETE FROM ${marks} WHERE horizon < ${horizon}::xid8`.execute(trx);
    return { dropped: Number(gone?.dropped ?? 0), horizon };
  });
}
