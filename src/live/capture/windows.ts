import { CompiledQuery } from 'kysely';
import type { Db } from '../../db/database.js';
import { qualified, quoteIdent } from '../../db/sql-identifiers.js';
import { TRIP_DATA_COLUMNS } from '../../db/tables.js';
import type { ChangePosition } from './position.js';
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
 * sort) into a table keyed by (window, key), and the pages after that are
 * keyset reads on it: `key > last ORDER BY key LIMIT n`.
 *
 * Positions are unchanged: a page cut at key u of a window from position
 * (low, high, split) to snapshot S is (low, S, u), exactly what an ordinary
 * read would return, so cursors from window pages resume anywhere (another
 * gateway, no window). The first page holds every key up to the start's
 * split (those move from high to S) and `limit` keys past it.
 */
export interface CatchUpWindow {
  id: string;
  /** The position the window starts at. */
  start: ChangePosition;
  /** The snapshot the window's changes lead to. */
  snapshot: string;
  /** Rows with keys at or below the start's split: all of them come in the first page. */
  settled: number;
  rows: number;
}

export interface WindowPage {
  changes: NetChange[];
  /** Where the reader is after this page. */
  position: ChangePosition;
  /** Whether the window has rows past this page. */
  more: boolean;
}

const MAX_LIMIT = 2_147_483_647;
/** The lowest bigint: every key of a window sorts at or above it. */
const MIN_KEY = `'-9223372036854775808'::int8`;

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
      INSERT INTO ${windows} (relid, snapshot) SELECT $5::regclass, (SELECT snap::text FROM cur)
      RETURNING window_id, snapshot
    ),
    ins AS (
      INSERT INTO ${rows} (window_id, n, key, op, inserted, id, ${old.join(', ')}, ${data.join(', ')})
      SELECT (SELECT window_id FROM w), row_number() OVER (ORDER BY n.key), n.key, n.op, n.inserted, n.id,
             ${list('n', old)}, ${list('n', data)}
        FROM net n
      RETURNING key
    )
    SELECT (SELECT window_id::text FROM w) AS id, (SELECT snapshot FROM w) AS snapshot,
           (SELECT count(*)::int FROM ins) AS rows,
           (SELECT count(*)::int FROM ins WHERE ins.key <= ($3::int8[])[1]) AS settled`;
}

/** One statement: the net change from `start` to the current snapshot, for every key, stored as a new window. */
export async function openWindow(db: Db, relations: CaptureRelations, start: ChangePosition): Promise<CatchUpWindow> {
  const text = openWindowSql(relations);
  const { rows: result } = await db.executeQuery<{ id: string; snapshot: string; rows: number; settled: number }>(
    CompiledQuery.raw(text, [
      [start.low],
      [start.high],
      [start.split === null ? null : start.split.toString()],
      [MAX_LIMIT],
      relations.synced,
    ]),
  );
  const head = result[0]!;
  return { id: head.id, start, snapshot: head.snapshot, rows: head.rows, settled: head.settled };
}

/**
 * The next page of a window for a reader at `position` (the window's start, or
 * a position an earlier page of it returned). Null when the window is gone
 * (swept, or a crash emptied it): the position is still good for ordinary reads.
 */
export async function readWindowPage(
  db: Db,
  relations: CaptureRelations,
  window: CatchUpWindow,
  position: ChangePosition,
  limit: number,
): Promise<WindowPage | null> {
  const windows = qualified(relations.gatewaySchema, CAPTURE_TABLES.windows);
  const rows = qualified(relations.gatewaySchema, CAPTURE_TABLES.windowRows);
  const first = position.high !== window.snapshot;
  const after = first ? null : position.split;
  const take = (first ? window.settled : 0) + limit;
  // The page is the rows numbered after the last key read: its n, found through the primary key (or, for
  // a key not in the window, the count of keys up to it).
  //
  // Each condition is a row comparison on exactly one index's columns, so only that index can serve it.
  // Written as `window_id = $1 AND n > …`, either index matched the window_id part, and the planner chose
  // between them on its row estimate: after an ANALYZE that saw the table holding only a closed window's
  // dead rows (autovacuum does that), it estimated one row for any new window, took the primary key for
  // the range of n and scanned the whole window for every page (test/live-catch-up-cost.test.ts analyzes
  // first: 4× the backlog then touched 11.6× the buffers, against 3.6× with these conditions).
  const text = `
    WITH start AS (
      SELECT coalesce(
               (SELECT x.n FROM ${rows} x
                 WHERE (x.window_id, x.key) >= ($1::int8, $2::int8) AND (x.window_id, x.key) <= ($1::int8, $2::int8)),
               (SELECT count(*)::int FROM ${rows} x
                 WHERE (x.window_id, x.key) >= ($1::int8, ${MIN_KEY}) AND (x.window_id, x.key) <= ($1::int8, $2::int8))
             ) AS n
    )
    SELECT w.window_id, r.n, ${netChangeColumns('r')}
      FROM ${windows} w
      LEFT JOIN LATERAL (
        SELECT * FROM ${rows} x
         WHERE (x.window_id, x.n) > ($1::int8, (SELECT n FROM start))
           AND (x.window_id, x.n) <= ($1::int8, (SELECT n FROM start) + $3::int)
      ) r ON true
     WHERE w.window_id = $1::int8
     ORDER BY r.n`;
  const { rows: result } = await db.executeQuery<QueryRow & { n: number | null }>(
    CompiledQuery.raw(text, [window.id, after === null ? null : after.toString(), take]),
  );
  if (result.length === 0) return null;
  const page = result.filter((row) => row.key !== null);
  const changes = page.map(toNetChange);
  const lastRow = page.at(-1);
  const more = lastRow !== undefined && Number(lastRow.n) < window.rows;
  const last = lastRow?.key;
  return {
    changes,
    more,
    position:
      more && last !== undefined && last !== null
        ? { low: window.start.low, high: window.snapshot, split: BigInt(last) }
        : { low: window.snapshot, high: window.snapshot, split: null },
  };
}

export async function closeWindow(db: Db, relations: CaptureRelations, window: CatchUpWindow): Promise<void> {
  const windows = qualified(relations.gatewaySchema, CAPTURE_TABLES.windows);
  const rows = qualified(relations.gatewaySchema, CAPTURE_TABLES.windowRows);
  await db.executeQuery(
    CompiledQuery.raw(
      `WITH gone AS (DELETE FROM ${windows} WHERE window_id = $1::int8)
       DELETE FROM ${rows} WHERE window_id = $1::int8`,
      [window.id],
    ),
  );
}
