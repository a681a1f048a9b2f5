import { CompiledQuery, type Compilable, type DialectAdapter } from 'kysely';
import { LRUCache } from 'lru-cache';
import { cancellableBy } from './cancellable-driver.js';
import type { Db } from './database.js';

/**
 * SQL text compiled once per statement shape, for the statements every page
 * of trips runs. Building a Kysely query and compiling it walks a tree of a
 * hundred nodes on each request (tens of µs a page); the text depends only on
 * the statement's shape (sort keys, filter structure, which cursor values are
 * NULL), so it is compiled for the first request of a shape and reused with
 * each request's parameters.
 *
 * The caller names the shape and lists the parameters in the order the text
 * has them (trips/filter.ts, trips/keyset.ts). Exactness is checked, not
 * assumed: a text is kept only when the parameters the caller listed equal
 * those Kysely compiled for that request, and a key is only a shape, so a
 * wrong key would show up as a mismatch in test/trip-statements.test.ts.
 *
 * Texts are kept per dialect adapter (one per createDb: its table mapping, and
 * shared by its transactions), and not at all for a Db with plugins: a plugin
 * may rewrite the query, and would not see a cached one (the benchmarks'
 * statement recorder is one).
 */
/** Per adapter, in characters of shape and text: shapes come from clients' filters, so they are bounded by size. */
const MAX_CHARS = 2_000_000;

const caches = new WeakMap<DialectAdapter, LRUCache<string, string>>();

/**
 * `db`'s entry in a per-adapter store, created on first use; undefined for a
 * Db with plugins (see above). Shared with the aggregate statement memo.
 */
export function perAdapter<T>(store: WeakMap<DialectAdapter, T>, db: Db, create: () => T): T | undefined {
  const executor = db.getExecutor();
  if (executor.plugins.length > 0) return undefined;
  let entry = store.get(executor.adapter);
  if (entry === undefined) {
    entry = create();
    store.set(executor.adapter, entry);
  }
  return entry;
}

const cacheOf = (db: Db) =>
  perAdapter(
    caches,
    db,
    () =>
      new LRUCache<string, string>({
        maxSize: MAX_CHARS,
        sizeCalculation: (text, shape) => text.length + shape.length,
      }),
  );

export interface StatementPlan {
  /** Determines the statement's text, given the Db. */
  readonly shape: string;
  /** In the order the text has them. */
  readonly parameters: readonly unknown[];
}

/**
 * The rows of `build()`'s statement, from text cached for `plan.shape` when there is one; cancelled when
 * `signal` (the request's) aborts.
 */
export async function cachedRows<Row>(
  db: Db,
  plan: StatementPlan,
  build: () => Compilable<Row>,
  signal?: AbortSignal,
): Promise<Row[]> {
  const cache = cacheOf(db);
  const text = cache?.get(plan.shape);
  if (text !== undefined) {
    return (await db.executeQuery(cancellableBy(CompiledQuery.raw(text, [...plan.parameters]), signal))).rows as Row[];
  }
  const compiled = build().compile();
  if (cache && sameParameters(compiled.parameters, plan.parameters)) cache.set(plan.shape, compiled.sql);
  return (await db.executeQuery(cancellableBy(compiled, signal))).rows;
}

/** As the driver sees them: strings, numbers, null, and arrays of those. */
export function sameParameters(a: readonly unknown[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((value, index) => sameValue(value, b[index]));
}

function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a)) return Array.isArray(b) && sameParameters(a, b);
  return Object.is(a, b);
}
