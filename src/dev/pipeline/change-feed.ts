/** Reads on the source's change feed. */
import { relations, type PipelineNames } from './names.js';
import type { Queryable } from './sql.js';

/** The latest committed source version (0 when only the table's creation is recorded). */
export async function headVersion(db: Queryable, names: PipelineNames): Promise<number> {
  const { rows } = await db.query<{ head: string | null }>(
    `SELECT max(version) AS head FROM ${relations(names).commits}`,
  );
  return Number(rows[0]?.head ?? 0);
}
