/**
 * The emulation's DDL, run by every process that starts it (each `npm run data` command, every gateway start)
 * while others write and sync. Run each time, it deadlocked with them: `CREATE INDEX IF NOT EXISTS` locks its
 * table before it finds the index already there, and `CREATE OR REPLACE TRIGGER` locks the source, so one
 * transaction of such statements took locks in its own order, against writers and the worker taking theirs.
 * So the DDL runs only when its own version is not in place: a mark (a digest of the DDL text) is kept as the
 * comment of one of its objects, and read back only when nothing it creates was dropped since.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { literal } from './names.js';

export interface InstallTarget {
  /** The object that carries the mark, as COMMENT ON names it, e.g. `SCHEMA "x"` or `FUNCTION "x".f(boolean)`. */
  markedObject: string;
  /**
   * A query of one row and one column `mark`: the marked object's comment, or NULL when any object the DDL
   * creates is missing (so that it runs again).
   */
  readMark: { text: string; values: unknown[] };
}

export async function installOnce(db: pg.ClientBase | pg.Pool, ddl: string, target: InstallTarget): Promise<void> {
  const mark = `lakebase-dev ${createHash('sha256').update(ddl).digest('hex').slice(0, 16)}`;
  const { rows } = await db.query<{ mark: string | null }>(target.readMark.text, target.readMark.values);
  if (rows[0]?.mark === mark) return;
  await db.query(`${ddl}\n    COMMENT ON ${target.markedObject} IS ${literal(mark)};`);
}
