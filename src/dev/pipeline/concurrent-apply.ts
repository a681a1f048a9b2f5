/**
 * An incremental batch applied over several connections, as a real pipeline's
 * writers do: the batch's ids are split into contiguous ranges, one per
 * writer, each written in its own REPEATABLE READ transaction, all open at
 * once. The writers commit in the reverse order of their ids (the highest
 * range first), so a reader of the synced table sees commits out of key order
 * on every such batch: the case a key high-water mark loses (issue 12).
 *
 * Exactly once across crashes, as the one-transaction apply (apply.ts): the
 * plan (the version range and each writer's id range) commits first, in
 * apply_plan; each writer marks its row applied in its own transaction; the
 * version is recorded last, with the plan removed. A batch interrupted
 * half-way is finished by the next pass from the same plan: writers already
 * committed are skipped, the others apply their ranges.
 */
import {
  applyIncrementalBatch,
  applyNetChanges,
  completion,
  pendingVersions,
  transactionClock,
  type ApplyContext,
  type IncrementalOptions,
  type IncrementalResult,
} from './apply.js';
import { relations, type PipelineNames } from './names.js';
import { lockSyncedTableState, recordSyncApplied } from './state.js';
import { inRepeatableRead } from './transaction.js';

/**
 * How long a writer waits for the others at the commit barrier. Writers touch
 * disjoint ids, so they never wait on each other's row locks; a trigger of
 * someone else's on the synced table could still make one writer wait on
 * another, which the database cannot see as a deadlock. Past this, a writer
 * commits anyway (out of order is then merely likely, not certain).
 */
const BARRIER_MS = 5_000;

interface PlanPart {
  part: number;
  lo: string;
  hi: string;
  applied: boolean;
}

interface Plan {
  from: number;
  to: number;
  syncStart: string;
  parts: PlanPart[];
}

export async function applyIncrementalBatchConcurrently(
  ctx: ApplyContext,
  options: IncrementalOptions,
  writers: number,
): Promise<IncrementalResult> {
  // One writer: the one-transaction apply, unless a batch split earlier (more writers then) is unfinished.
  if (writers < 2 && !(await hasPlan(ctx))) return applyIncrementalBatch(ctx, options);
  const plan = await planBatch(ctx, options, writers);
  // Nothing to split (up to date, a snapshot needed, or one id): the one-transaction apply says which.
  if (plan === null) return applyIncrementalBatch(ctx, options);

  const pending = plan.parts.filter((part) => !part.applied);
  const written = new Map(pending.map((part) => [part.part, deferred()]));
  const committed = new Map(pending.map((part) => [part.part, deferred()]));
  const results = await Promise.allSettled(
    pending.map((part) =>
      inRepeatableRead(ctx.pool, async (client) => {
        const { rows } = await client.query<{ applied: boolean }>(
          `SELECT applied FROM ${relations(ctx.names).applyPlan}
            WHERE synced_schema = $1 AND synced_table = $2 AND part = $3 FOR UPDATE`,
          [ctx.names.syncedSchema, ctx.names.syncedTable, part.part],
        );
        if (rows[0] === undefined || rows[0].applied) return;
        const changed = await applyNetChanges(client, ctx.names, plan.from, plan.to, part);
        await client.query(
          `UPDATE ${relations(ctx.names).applyPlan} SET applied = true, rows_changed = $4
            WHERE synced_schema = $1 AND synced_table = $2 AND part = $3`,
          [ctx.names.syncedSchema, ctx.names.syncedTable, part.part, changed],
        );
        written.get(part.part)!.resolve();
        // Every writer's transaction is open with its rows written; the highest ids commit first.
        await withinBarrier([...written.values()].map((w) => w.promise));
        await withinBarrier([...committed].filter(([other]) => other > part.part).map(([, c]) => c.promise));
      }).finally(() => {
        written.get(part.part)!.resolve();
        committed.get(part.part)!.resolve();
      }),
    ),
  );
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;

  return inRepeatableRead(ctx.pool, async (client): Promise<IncrementalResult> => {
    const state = await lockSyncedTableState(client, ctx.names);
    if (state.lastProcessedVersion !== plan.from) {
      throw new Error(
        `the synced table moved to version ${state.lastProcessedVersion} while versions ${plan.from + 1}..${plan.to} were applied`,
      );
    }
    const { rows } = await client.query<{ changed: string | null; done: boolean }>(
      `DELETE FROM ${relations(ctx.names).applyPlan} WHERE synced_schema = $1 AND synced_table = $2
       RETURNING rows_changed AS changed, applied AS done`,
      [ctx.names.syncedSchema, ctx.names.syncedTable],
    );
    if (rows.some((row) => !row.done)) throw new Error('a writer of the batch did not commit its rows');
    const rowsChanged = rows.reduce((sum, row) => sum + Number(row.changed ?? 0), 0);
    await ctx.onProgress?.({ version: plan.to, synced: rowsChanged, total: rowsChanged });
    await recordSyncApplied(client, ctx.names, {
      version: plan.to,
      fromVersion: plan.from,
      snapshot: false,
      rowsChanged,
      syncStart: plan.syncStart,
      ...completion(ctx, options.stateAfter(plan.to)),
    });
    return { kind: 'applied', fromVersion: plan.from, toVersion: plan.to, rowsChanged };
  });
}

/**
 * The batch's plan, committed before any writer starts: an unfinished one from
 * the table's current version (a pass that failed half-way), else a new one.
 * Null when there is nothing a split would help with.
 */
async function planBatch(ctx: ApplyContext, options: IncrementalOptions, writers: number): Promise<Plan | null> {
  const names: PipelineNames = ctx.names;
  const r = relations(names);
  return inRepeatableRead(ctx.pool, async (client): Promise<Plan | null> => {
    const state = await lockSyncedTableState(client, names);
    const from = state.lastProcessedVersion;
    if (from === null) return null;
    const { rows: existing } = await client.query<{
      part: number;
      from_version: string;
      to_version: string;
      lo_id: string;
      hi_id: string;
      applied: boolean;
      sync_start: string;
    }>(
      `SELECT part, from_version, to_version, lo_id, hi_id, applied, sync_start::text AS sync_start
         FROM ${r.applyPlan} WHERE synced_schema = $1 AND synced_table = $2 ORDER BY part`,
      [names.syncedSchema, names.syncedTable],
    );
    if (existing.length > 0 && Number(existing[0]!.from_version) === from) {
      return {
        from,
        to: Number(existing[0]!.to_version),
        syncStart: existing[0]!.sync_start,
        parts: existing.map((row) => ({ part: row.part, lo: row.lo_id, hi: row.hi_id, applied: row.applied })),
      };
    }
    if (writers < 2) return null;
    // A plan from another version was overtaken (a snapshot rewrote the table since): drop it.
    await client.query(`DELETE FROM ${r.applyPlan} WHERE synced_schema = $1 AND synced_table = $2`, [
      names.syncedSchema,
      names.syncedTable,
    ]);
    const { toVersion, captured } = await pendingVersions(client, names, from, options);
    if (toVersion === null || captured === false) return null;
    const to = Number(toVersion);
    const syncStart = await transactionClock(client);
    // Contiguous id ranges of about equal size, lowest ids in part 0.
    const { rows: parts } = await client.query<{ part: number; lo: string; hi: string }>(
      `INSERT INTO ${r.applyPlan} (synced_schema, synced_table, part, from_version, to_version, lo_id, hi_id, sync_start)
       SELECT $1, $2, part, $3, $4, min(id), max(id), $6::timestamptz
         FROM (SELECT id, (ntile($5::int) OVER (ORDER BY id))::int - 1 AS part
                 FROM (SELECT DISTINCT ch.id FROM ${r.changes} ch JOIN ${r.commits} c ON c.txid = ch.txid
                        WHERE c.version > $3 AND c.version <= $4) ids) split
        GROUP BY part
       RETURNING part, lo_id::text AS lo, hi_id::text AS hi`,
      [names.syncedSchema, names.syncedTable, from, to, writers, syncStart],
    );
    if (parts.length < 2) {
      await client.query(`DELETE FROM ${r.applyPlan} WHERE synced_schema = $1 AND synced_table = $2`, [
        names.syncedSchema,
        names.syncedTable,
      ]);
      return null;
    }
    return { from, to, syncStart, parts: parts.map((part) => ({ ...part, applied: false })) };
  });
}

async function hasPlan(ctx: ApplyContext): Promise<boolean> {
  const { rows } = await ctx.pool.query<{ found: boolean }>(
    `SELECT EXISTS (SELECT FROM ${relations(ctx.names).applyPlan} WHERE synced_schema = $1 AND synced_table = $2) AS found`,
    [ctx.names.syncedSchema, ctx.names.syncedTable],
  );
  return rows[0]?.found === true;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

async function withinBarrier(waits: Promise<void>[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(waits),
    new Promise((resolve) => {
      timer = setTimeout(resolve, BARRIER_MS);
    }),
  ]);
  clearTimeout(timer);
}
