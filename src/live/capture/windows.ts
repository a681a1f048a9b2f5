import { CompiledQuery } from 'kysely';
import type { Db } from '../../db/database.js';
import { qualified, quoteIdent } from '../../db/sql-identifiers.js';
import { TRIP_DATA_COLUMNS } from '../../db/tables.js';
import { positionKey, type ChangePosition } from './position.js';
import {
  netChangeColumns,
  netChangesCtes,
  toNetChange,
  type CaptureRelations,
  type NetChange,
  type QueryRow,
} from './queries.js';
import { CAPTURE_TABLES } from './tables.js';

/**
 * Catch-up windows: why long catch-ups are linear.
 *
 * A read (queries.ts) pages by key: each page scans every recorded change its
 * position does not cover, to find the page's keys. That is cheap while the
 * gap is a few ticks, but a reader far behind (a cursor from an hour ago, the
 * feed after one sync of a million rows) would scan its whole gap again for
 * every page: the cost grows with the square of the gap. A window computes
 * the net change from such a position to one snapshot once (one scan, one
 * sort) into a table of rows numbered n in key order, and the pages after
 * that are ranges of n read through the one index on (window_id, n).
 *
 * Positions are unchanged: a page cut at key u of a window from position
 * (low, high, split) to snapshot S is (low, S, u), exactly what an ordinary
 * read would return, so cursors from window pages resume anywhere (another
 * gateway, no window). The first page holds every key up to the start's
 * split (those move from high to S) and `limit` keys past it.
 */
export interface CatchUpWindow {
  id: string;
  /**
   * When it was opened, as the database wrote it: with the id, what names this window. The windows table and
   * its id sequence are UNLOGGED, so a crash empties the table and starts the ids again at 1, and a reader
   * still holding a window from before the crash read (and closed) whichever reader's window got its id.
   */
  created: string;
  /** The position the window starts at. */
  start: ChangePosition;
  /** The snapshot the window's changes lead to. */
  snapshot: string;
  /** Rows with keys at or below the start's split: all of them come in the first page. */
  settled: number;
  rows: number;
  /**
   * The n read up to at each position a page can start from (positionKey): 0 at the window's start, then the
   * last n of every page read. Pages find where they start here rather than by looking the key up: see
   * windowPageSql for why the table has no index on key. One entry per page read (a 10-million-row window in
   * catch-up pages of 5,000: 2,000), gone with the window.
   */
  readonly readTo: Map<string, number>;
}

export interface WindowPage {
  changes: NetChange[];
  /** Where the reader is after this page. */
  position: ChangePosition;
  /** Whether the window has rows past this page. */
  more: boolean;
}

const MAX_LIMIT = 2_147_483_647;

function columns() {
  const old = TRIP_DATA_COLUMNS.map((column) => quoteIdent(`old_${column}`));
  const data = TRIP_DATA_COLUMNS.map((column) => quoteIdent(column));
  const list = (alias: string, names: readonly string[]) => names.map((c) => `${alias}.${c}`).join(', ');
  return { old, data, list };
}

/** The text openWindow runs (parameters as readNetChanges', for one position), for EXPLAIN in tests. */
export function openWindowSql(relations: CaptureRelations): string {
  const windows = qualified(relations.gatewaySchema, CAPTURE_TABLES.windows);
  const rows = qualified(relations.gatewaySchema, CAPTURE_TABLES.windowRows);
  const { old, data, list } = columns();
  return `${netChangesCtes(relations)},
    w AS (
      INSERT INTO ${windows} (relid, snapshot) SELECT $5::regclass, (SELECT stamp FROM cur)
      RETURNING window_id, snapshot, created_at
    ),
    ins AS (
      INSERT INTO ${rows} (window_id, n, key, op, inserted, id, ${old.join(', ')}, ${data.join(', ')})
      SELECT (SELECT window_id FROM w), row_number() OVER (ORDER BY n.key), n.key, n.op, n.inserted, n.id,
             ${list('n', old)}, ${list('n', data)}
        FROM net n
      RETURNING key
    )
    SELECT (SELECT window_id::text FROM w) AS id, (SELECT snapshot FROM w) AS snapshot,
           (SELECT created_at::text FROM w) AS created,
           (SELECT count(*)::int FROM ins) AS rows,
           (SELECT count(*)::int FROM ins WHERE ins.key <= ($3::int8[])[1]) AS settled`;
}

/** One statement: the net change from `start` to the current snapshot, for every key, stored as a new window. */
export async function openWindow(db: Db, relations: CaptureRelations, start: ChangePosition): Promise<CatchUpWindow> {
  const text = openWindowSql(relations);
  const { rows: result } = await db.executeQuery<{
    id: string;
    snapshot: string;
    created: string;
    rows: number;
    settled: number;
  }>(
    CompiledQuery.raw(text, [
      [start.low],
      [start.high],
      [start.split === null ? null : start.split.toString()],
      [MAX_LIMIT],
      relations.synced,
    ]),
  );
  const head = result[0]!;
  return {
    id: head.id,
    created: head.created,
    start,
    snapshot: head.snapshot,
    rows: head.rows,
    settled: head.settled,
    readTo: new Map([[positionKey(start), 0]]),
  };
}

/**
 * The text readWindowPage runs ($1 the window, $2 the n read up to, $3 the rows to take, $4 when the window was
 * opened), for EXPLAIN in tests.
 *
 * A page is a range of n bounded on both sides, and the table's only index is (window_id, n): every plan with
 * an index reads just the page's rows, whatever the planner's statistics say. The n a page starts from comes
 * from memory (CatchUpWindow.readTo), not from a lookup of the last key read. Two earlier forms scanned the
 * whole window for every page under statistics that occur in practice (test/live-catch-up-cost.test.ts EXPLAINs
 * pages under each):
 * - the last key's n found by row comparisons, `(window_id, key) >= ($1, k) AND (window_id, key) <= ($1, k)`:
 *   a row comparison is estimated from its first column only, so after autovacuum's ANALYZE saw the open
 *   window (every row with this window_id) one key's lookup was estimated as the whole table and run as a
 *   sequential scan, for every page (CI: 4× the backlog touched 8.7× the buffers);
 * - a page as `n > start ORDER BY n LIMIT take`, without an upper bound: on a table never analyzed the
 *   planner estimated a few rows, took a bitmap scan of everything past the start and sorted it.
 * The primary key on (window_id, key) went with the lookup: no read used it any more, and without it opening a
 * window touches 40% fewer buffers (2,000 and 8,000 rows: 5,769 and 24,320 against 9,448 and 40,318).
 */
export function windowPageSql(relations: CaptureRelations): string {
  const windows = qualified(relations.gatewaySchema, CAPTURE_TABLES.windows);
  const rows = qualified(relations.gatewaySchema, CAPTURE_TABLES.windowRows);
  return `
    SELECT w.window_id, r.n, ${netChangeColumns('r')}
      FROM ${windows} w
      LEFT JOIN LATERAL (
        SELECT * FROM ${rows} x
         WHERE x.window_id = $1::int8 AND x.n > $2::int AND x.n <= $2::int + $3::int
      ) r ON true
     WHERE w.window_id = $1::int8 AND w.created_at = $4::timestamptz
     ORDER BY r.n`;
}

/**
 * The next page of a window for a reader at `position` (the window's start, or
 * a position an earlier page of it returned). Null when the window is gone
 * (swept, or a crash emptied it), or cannot tell where such a position is in it:
 * the position is still good for ordinary reads, and for a new window.
 */
export async function readWindowPage(
  db: Db,
  relations: CaptureRelations,
  window: CatchUpWindow,
  position: ChangePosition,
  limit: number,
): Promise<WindowPage | null> {
  const readTo = window.readTo.get(positionKey(position));
  if (readTo === undefined) return null;
  // The first page is known by its position, the window's start, not by its snapshot differing from the
  // window's: when nothing committed between the reader's last read and the window, they are the same
  // snapshot, and the first page then went looking for a place it had not read yet and opened another window.
  const take = (readTo === 0 ? window.settled : 0) + limit;
  const { rows: result } = await db.executeQuery<QueryRow & { n: number | null }>(
    CompiledQuery.raw(windowPageSql(relations), [window.id, readTo, take, window.created]),
  );
  if (result.length === 0) return null;
  const page = result.filter((row) => row.key !== null);
  const changes = page.map(toNetChange);
  const lastRow = page.at(-1);
  const more = lastRow !== undefined && Number(lastRow.n) < window.rows;
  const last = lastRow?.key;
  if (!more || last === undefined || last === null) {
    return { changes, more: false, position: { low: window.snapshot, high: window.snapshot, split: null } };
  }
  const next = { low: window.start.low, high: window.snapshot, split: BigInt(last) };
  window.readTo.set(positionKey(next), Number(lastRow!.n));
  return { changes, more, position: next };
}

export async function closeWindow(db: Db, relations: CaptureRelations, window: CatchUpWindow): Promise<void> {
  const windows = qualified(relations.gatewaySchema, CAPTURE_TABLES.windows);
  const rows = qualified(relations.gatewaySchema, CAPTURE_TABLES.windowRows);
  await db.executeQuery(
    CompiledQuery.raw(
      `WITH gone AS (DELETE FROM ${windows} WHERE window_id = $1::int8 AND created_at = $2::timestamptz
                     RETURNING window_id)
       DELETE FROM ${rows} WHERE window_id = (SELECT window_id FROM gone)`,
      [window.id, window.created],
    ),
  );
}
