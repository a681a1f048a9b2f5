import { CompiledQuery, type DialectAdapter, type RawBuilder } from 'kysely';
import { LRUCache } from 'lru-cache';
import type { Db } from './database.js';
import { perAdapter } from './statement-cache.js';

/**
 * Whole compiled statements (text and parameters) kept per request
 * description, for the aggregate statements. BI tools and dashboards send
 * the same few aggregates again and again; building one with Kysely and
 * compiling it (a filter, a rollup grain, the freshness proof, a dozen
 * measures) took 38–49 µs to build, and part of the 31–48 µs until it was
 * sent, of an uncached aggregate request in the gateway (docs/performance.md,
 * "Aggregates: where the added time goes").
 *
 * Unlike the trips' statement cache (statement-cache.ts), which keeps text per
 * shape and binds each request's values, the key here describes the request
 * completely, values included, so a hit needs no parameter list of its own.
 * The caller owes a key that determines the statement: test/aggregate-statement-memo.test.ts
 * builds random requests and fails if two with one key compile differently.
 *
 * Kept per dialect adapter (one per createDb: its table mapping), and not at
 * all for a Db with plugins, which may rewrite a query and would not see a
 * kept one (the benchmarks' statement recorder is one).
 */
/** Per adapter, in characters of key, text and parameters: keys carry clients' filter values. */
const MAX_CHARS = 4_000_000;

const memos = new WeakMap<DialectAdapter, LRUCache<string, CompiledQuery>>();

const memoOf = (db: Db) =>
  perAdapter(
    memos,
    db,
    () =>
      new LRUCache<string, CompiledQuery>({
        maxSize: MAX_CHARS,
        sizeCalculation: (compiled, key) => key.length + compiled.sql.length + parameterChars(compiled.parameters),
      }),
  );

/** About the characters the parameters hold (whatever their types: a BigInt would make JSON.stringify throw). */
function parameterChars(parameters: readonly unknown[]): number {
  let chars = 0;
  for (const value of parameters) chars += Array.isArray(value) ? parameterChars(value) : String(value).length + 1;
  return chars;
}

/** `build()` compiled, or the statement compiled for an earlier request with the same `key`. */
export function memoizedStatement<Row>(db: Db, key: string, build: () => RawBuilder<Row>): CompiledQuery<Row> {
  const memo = memoOf(db);
  const kept = memo?.get(key);
  if (kept) return kept as CompiledQuery<Row>;
  const compiled = build().compile(db);
  // Text and parameters only: the operation tree is what a plugin would need, and there are none.
  memo?.set(key, CompiledQuery.raw(compiled.sql, [...compiled.parameters]));
  return compiled;
}
