import { CompiledQuery, sql } from 'kysely';
import type { Db } from '../../db/database.js';
import { isDataException } from '../../db/sql-state.js';
import { qualified, quoteIdent } from '../../db/sql-identifiers.js';
import { TRIP_DATA_COLUMNS } from '../../db/tables.js';
import type { MatchableTripRow } from '../../trips/match-filter.js';
import { epochSql } from './install.js';
import { atSnapshot, splitStamp, type ChangePosition } from './position.js';
import { CAPTURE_TABLES } from './tables.js';

/**
 * The net change of one row between the position a reader was at and the
 * reader's snapshot: its state before (null: absent) and after (null: absent).
 * Never both null, and never equal (a row deleted and re-inserted unchanged,
 * as a snapshot refresh rewrites every row, is no change).
 */
export interface NetChange {
  id: string;
  before: MatchableTripRow | null;
  after: MatchableTripRow | null;
  /** Deleted and inserted again in between (it "appeared" again, with different values). */
  reinserted: boolean;
}

export interface ChangeRead {
  /** Where the read's positions moved to, one per requested position, in order. */
  positions: ChangePosition[];
  /** Net changes per requested position, in id order. */
  changes: NetChange[][];
  /** Whether the page for each position was cut at its limit (read again for the rest). */
  more: boolean[];
  /** Changes of transactions below this were dropped by retention. */
  horizon: bigint | null;
  /** The reader's snapshot. */
  snapshot: string;
  /**
   * Whether the capture stood unchanged (same table, same triggers, all enabled) as recorded
   * at install: otherwise writes may have gone uncaptured and no position can be trusted.
   */
  intact: boolean;
  /**
   * The transaction that last put the capture back (install.ts), null before the first. Another gateway may
   * have done it between two reads of this one (`intact` is then true again): a position whose snapshot
   * does not see it may miss writes made while the capture was away.
   */
  recapturedXid: bigint | null;
  /**
   * The capture's identity as recorded at its last install: it changes when a gateway put the capture back
   * (gateways of a version before recaptured_xid change only this).
   */
  epoch: string | null;
  /** The largest sequence number retention has deleted (0: none yet). */
  prunedSeq: bigint;
}

export interface CaptureRelations {
  /** The synced table, schema-qualified and quoted. */
  synced: string;
  schema: string;
  table: string;
  gatewaySchema: string;
}

export interface PositionRequest {
  position: ChangePosition;
  /** Most unsettled ids (those past the position's split) in this page. */
  limit: number;
}

export const micros = (alias: string, column: string) =>
  `(extract(epoch from ${alias}.${quoteIdent(column)}) * 1000000)::float8`;

/**
 * One statement, one snapshot, for every requested position at once (the
 * live feed's own and those of resuming subscribers): so the statements per
 * tick do not grow with the subscribers, and every answer is consistent with
 * the others and with the snapshot it reports.
 *
 * Per position and id: the first recorded change the position does not cover
 * (by sequence, which for one row follows the order of commits: a second
 * writer of the same row waits for the first to commit) gives the state
 * before; the table itself, read in the same snapshot, gives the state after.
 */
export async function readNetChanges(
  db: Db,
  relations: CaptureRelations,
  requests: readonly PositionRequest[],
): Promise<ChangeRead> {
  const { rows } = await db.executeQuery(
    CompiledQuery.raw(netChangesSql(relations), [
      requests.map((r) => r.position.low),
      requests.map((r) => r.position.high),
      requests.map((r) => (r.position.split === null ? null : r.position.split.toString())),
      requests.map((r) => r.limit),
      relations.synced,
    ]),
  );
  return parseRead(requests, rows as QueryRow[]);
}

const sqlCache = new Map<string, string>();

/** The text readNetChanges runs (parameters: lows, highs, splits, limits, the synced table), for EXPLAIN in tests. */
export function netChangesSql(relations: CaptureRelations): string {
  const key = `${relations.synced}\u0000${relations.gatewaySchema}`;
  let text = sqlCache.get(key);
  if (text === undefined) {
    text = buildNetChangesSql(relations);
    sqlCache.set(key, text);
  }
  return text;
}

/** A net change row's columns as toNetChange reads them (key, op, the images before and after), from `alias`. */
export function netChangeColumns(alias: string): string {
  const list = (prefix: string) =>
    TRIP_DATA_COLUMNS.map((column) => `${alias}.${quoteIdent(`${prefix}${column}`)}`).join(', ');
  return `${alias}.key::text AS key, ${alias}.op, ${alias}.inserted,
           ${list('old_')},
           ${micros(alias, 'old_tpep_pickup_datetime')} AS "old_pickupMicros",
           ${micros(alias, 'old_tpep_dropoff_datetime')} AS "old_dropoffMicros",
           ${alias}.id::text AS id, ${list('')},
           ${micros(alias, 'tpep_pickup_datetime')} AS "pickupMicros",
           ${micros(alias, 'tpep_dropoff_datetime')} AS "dropoffMicros"`;
}

/** The statement's CTEs, `cur` to `net` (the net change per position and key), for any final SELECT. */
export function netChangesCtes(relations: CaptureRelations): string {
  const log = qualified(relations.gatewaySchema, CAPTURE_TABLES.log);
  const old = TRIP_DATA_COLUMNS.map((column) => quoteIdent(`old_${column}`));
  const data = TRIP_DATA_COLUMNS.map((column) => quoteIdent(column));
  const list = (alias: string, columns: readonly string[]) => columns.map((c) => `${alias}.${c}`).join(', ');
  return `
    WITH cur AS MATERIALIZED (SELECT ${stampSql(log, '$5')} AS stamp),
    froms AS (
      SELECT f.ord::int AS ord, split_part(f.low, '@', 1)::pg_snapshot AS low,
             split_part(f.high, '@', 1)::pg_snapshot AS high,
             nullif(split_part(f.low, '@', 2), '')::int8 AS low_seq,
             nullif(split_part(f.high, '@', 2), '')::int8 AS high_seq, f.split, f.lim
        FROM unnest($1::text[], $2::text[], $3::int8[], $4::int[]) WITH ORDINALITY AS f(low, high, split, lim, ord)
    ),
    raw AS MATERIALIZED (
      -- Recorded changes each position does not cover: ids up to its split from its high
      -- snapshot, the others from its low one. A change is covered when its transaction is visible in the
      -- snapshot and its sequence number is not past the stamp's: an id a crash handed out again is below
      -- an older snapshot's xmax, but its change's number is past every one that snapshot saw.
      SELECT f.ord, coalesce(u.key <= f.split, false) AS settled, l.seq, l.xid, u.n, l.op, u.key, ${list('u', old)}
        FROM froms f
        JOIN ${log} l
          ON l.relid = $5::regclass
         AND (l.xid >= least(pg_snapshot_xmin(f.low), pg_snapshot_xmin(f.high))
              OR l.seq > least(f.low_seq, f.high_seq))
         -- A record wholly at or below the split matters only if it is newer than the high snapshot
         -- (a catch-up in id order skips what it has paged past). Records older than max_id have
         -- their ids sorted, the largest last.
         AND (f.split IS NULL OR coalesce(l.max_id, l.ids[array_upper(l.ids, 1)]) > f.split
              OR NOT (pg_visible_in_snapshot(l.xid, f.high) AND l.seq <= coalesce(f.high_seq, l.seq)))
       CROSS JOIN LATERAL unnest(l.ids, ${list('l', old)}) WITH ORDINALITY AS u(key, ${old.join(', ')}, n)
       WHERE NOT CASE WHEN u.key <= f.split
                      THEN pg_visible_in_snapshot(l.xid, f.high) AND l.seq <= coalesce(f.high_seq, l.seq)
                      ELSE pg_visible_in_snapshot(l.xid, f.low) AND l.seq <= coalesce(f.low_seq, l.seq) END
    ),
    pages AS MATERIALIZED (
      -- A page: every settled id, and the unsettled ones up to the lim-th smallest (a top-N sort,
      -- so a long catch-up does not sort its whole window for every page). MATERIALIZED: inlined,
      -- the planner may run this per row of raw (a nested loop on its tiny estimate), which makes
      -- every read quadratic in its gap (6,000 changes: 11 s instead of milliseconds).
      SELECT f.ord, p.upto,
             EXISTS (SELECT 1 FROM raw r WHERE r.ord = f.ord AND NOT r.settled AND r.key > p.upto) AS more
        FROM froms f
       CROSS JOIN LATERAL (
         SELECT max(t.key) AS upto
           FROM (SELECT r.key FROM raw r WHERE r.ord = f.ord AND NOT r.settled ORDER BY r.key LIMIT f.lim) t
       ) p
    ),
    scoped AS (
      SELECT r.*, bool_or(r.op = 'D') OVER (PARTITION BY r.ord, r.key, r.xid) AS txn_deleted
        FROM raw r JOIN pages p ON p.ord = r.ord
       WHERE r.settled OR r.key <= p.upto
    ),
    flagged AS (
      -- Re-inserted: inserted by a transaction that did not delete it itself (a refresh
      -- rewrites rows by deleting and inserting them in one transaction: no re-insert).
      SELECT s.*, bool_or(s.op = 'I' AND NOT s.txn_deleted) OVER (PARTITION BY s.ord, s.key) AS inserted
        FROM scoped s
    ),
    firsts AS (
      SELECT DISTINCT ON (ord, key) * FROM flagged ORDER BY ord, key, seq, n
    ),
    net AS (
      SELECT f.ord, f.key, f.op, f.inserted, ${list('f', old)},
             t.id, ${list('t', data)}
        FROM firsts f LEFT JOIN ${relations.synced} t ON t.id = f.key
       WHERE (f.op <> 'I' OR t.id IS NOT NULL)
         AND NOT (f.op <> 'I' AND t.id IS NOT NULL AND (${list('f', old)}) IS NOT DISTINCT FROM (${list('t', data)}))
    )`;
}

function buildNetChangesSql(relations: CaptureRelations): string {
  const state = qualified(relations.gatewaySchema, CAPTURE_TABLES.state);
  return `${netChangesCtes(relations)}
    SELECT (SELECT stamp FROM cur) AS snapshot,
           -- The capture state's one row, in one probe (null before the capture is installed).
           (SELECT json_build_object('horizon', s.horizon::text, 'intact', s.epoch = ${epochSql(relations)},
                                     'recapturedXid', s.recaptured_xid::text, 'epoch', s.epoch,
                                     'prunedSeq', s.pruned_seq::text)
              FROM ${state} s WHERE s.relid = $5::regclass) AS state,
           (SELECT json_agg(json_build_object('ord', p.ord, 'more', p.more, 'upto', p.upto::text)) FROM pages p) AS pages,
           r.ord, ${netChangeColumns('r')}
      FROM (SELECT 1) one
      LEFT JOIN LATERAL (SELECT * FROM net) r ON true
     ORDER BY r.ord, r.key`;
}

/** A row of the net change with its before (old_*) and after columns, as the statements return it. */
export interface QueryRow {
  snapshot: string;
  state: {
    horizon: string;
    intact: boolean | null;
    recapturedXid: string | null;
    epoch: string | null;
    prunedSeq: string;
  } | null;
  pages: { ord: number; more: boolean; upto: string | null }[] | null;
  ord: number | null;
  key: string | null;
  op: 'I' | 'U' | 'D' | null;
  inserted: boolean | null;
  id: string | null;
  pickupMicros: number | null;
  dropoffMicros: number | null;
  old_pickupMicros: number | null;
  old_dropoffMicros: number | null;
  [column: string]: unknown;
}

function afterRow(row: QueryRow): MatchableTripRow | null {
  if (row.id === null) return null;
  const trip: Record<string, unknown> = { id: row.id };
  for (const column of TRIP_DATA_COLUMNS) trip[column] = row[column];
  trip.pickupMicros = row.pickupMicros;
  trip.dropoffMicros = row.dropoffMicros;
  return trip as unknown as MatchableTripRow;
}

function beforeRow(row: QueryRow): MatchableTripRow | null {
  if (row.op === 'I') return null;
  const trip: Record<string, unknown> = { id: row.key };
  for (const column of TRIP_DATA_COLUMNS) trip[column] = row[`old_${column}`];
  trip.pickupMicros = row.old_pickupMicros;
  trip.dropoffMicros = row.old_dropoffMicros;
  return trip as unknown as MatchableTripRow;
}

/** A statement's row as a NetChange (key, op and inserted must be there). */
export function toNetChange(row: QueryRow): NetChange {
  return {
    id: row.key!,
    before: beforeRow(row),
    after: afterRow(row),
    reinserted: row.op !== 'I' && row.inserted === true,
  };
}

function parseRead(requests: readonly PositionRequest[], rows: readonly QueryRow[]): ChangeRead {
  const head = rows[0];
  if (head === undefined) throw new Error('readNetChanges: the statement returned no row');
  const snapshot = head.snapshot;
  const state = head.state;
  const changes: NetChange[][] = requests.map(() => []);
  for (const row of rows) {
    if (row.ord === null || row.key === null) continue;
    changes[row.ord - 1]!.push(toNetChange(row));
  }
  const pages = new Map((head.pages ?? []).map((page) => [page.ord, page]));
  const more = requests.map((_, index) => pages.get(index + 1)?.more === true);
  const positions = requests.map((request, index): ChangePosition => {
    const upto = pages.get(index + 1)?.upto;
    if (!more[index] || upto === null || upto === undefined) return atSnapshot(snapshot);
    // Ids up to the page's last one are now at this snapshot; the rest still at the old low.
    return { low: request.position.low, high: snapshot, split: BigInt(upto) };
  });
  return {
    positions,
    changes,
    more,
    horizon: state === null ? null : BigInt(state.horizon),
    snapshot,
    intact: state?.intact === true,
    recapturedXid: state?.recapturedXid == null ? null : BigInt(state.recapturedXid),
    epoch: state?.epoch ?? null,
    prunedSeq: BigInt(state?.prunedSeq ?? 0),
  };
}

/**
 * The stamp (position.ts) of `db`'s snapshot: in a REPEATABLE READ transaction, the one its other reads see
 * (TripConnection.streamCursor reads its page in the same one).
 */
export async function readStamp(db: Db, relations: CaptureRelations): Promise<string> {
  const log = qualified(relations.gatewaySchema, CAPTURE_TABLES.log);
  const { rows } = await db.executeQuery<{ stamp: string }>(
    CompiledQuery.raw(`SELECT ${stampSql(log, '$1')} AS stamp`, [relations.synced]),
  );
  return rows[0]!.stamp;
}

/**
 * The stamp (position.ts) of the statement's snapshot: the snapshot and the newest change of `log` it sees
 * (`relid` names the parameter holding the synced table). One backward probe of the log's primary key.
 */
function stampSql(log: string, relid: string): string {
  return `pg_current_snapshot()::text || '@' ||
          coalesce((SELECT max(l.seq) FROM ${log} l WHERE l.relid = ${relid}::regclass), 0)`;
}

/**
 * Whether the database reads a position (its snapshots and split key) at all. Asked only after a shared
 * statement failed on a data exception, to find the subscriber whose cursor caused it (change-feed.ts).
 */
export async function positionAccepted(db: Db, position: ChangePosition): Promise<boolean> {
  try {
    const snapshot = (stamp: string) => splitStamp(stamp).snapshot;
    await sql`SELECT ${snapshot(position.low)}::pg_snapshot, ${snapshot(position.high)}::pg_snapshot, ${position.split?.toString() ?? null}::int8`.execute(
      db,
    );
    return true;
  } catch (error) {
    if (isDataException(error)) return false;
    throw error;
  }
}
