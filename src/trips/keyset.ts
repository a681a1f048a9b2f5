import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import type { CursorValues } from './cursor.js';
import type { SortKey } from './ordering.js';

/**
 * Keyset predicates: "rows strictly after this cursor in this ordering".
 *
 * NULL sorts as the largest value. Every predicate is returned as an ordered
 * list of segments: the rows after the cursor are the rows of segment 0 (in
 * order), then those of segment 1, and so on. Splitting on NULL keeps each
 * segment a single index range: `(k, id) > (v, id0)` cannot also say "or k is
 * NULL" without turning an index range scan into a filtered full scan, which
 * would make page 1,000 cost a thousand times page 1.
 */
export function segmentsAfter(keys: readonly SortKey[], values: CursorValues): Expression<SqlBool>[] {
  const [first, second] = keys;
  if (keys.length === 1 && first) {
    return [
      sql<SqlBool>`${sql.ref(first.column)} ${sql.raw(first.direction === 'asc' ? '>' : '<')} ${literal(first, values[0] ?? null)}`,
    ];
  }
  if (keys.length === 2 && first && second && first.direction === second.direction && values[1] != null) {
    const value = values[0] ?? null;
    const id = literal(second, values[1]);
    const k = sql.ref(first.column);
    const pk = sql.ref(second.column);
    if (first.direction === 'asc') {
      if (value === null) return [sql<SqlBool>`${k} IS NULL AND ${pk} > ${id}`];
      const range = sql<SqlBool>`(${k}, ${pk}) > (${literal(first, value)}, ${id})`;
      return first.nullable ? [range, sql<SqlBool>`${k} IS NULL`] : [range];
    }
    if (value === null) return [sql<SqlBool>`${k} IS NULL AND ${pk} < ${id}`, sql<SqlBool>`${k} IS NOT NULL`];
    return [sql<SqlBool>`(${k}, ${pk}) < (${literal(first, value)}, ${id})`];
  }
  return [strictlyAfter(keys, values)];
}

/** One predicate for any ordering (mixed directions, several nullable keys). Correct, not always index-friendly. */
export function strictlyAfter(keys: readonly SortKey[], values: CursorValues): Expression<SqlBool> {
  const disjuncts: RawBuilder<SqlBool>[] = [];
  keys.forEach((key, index) => {
    const beyond = beyondValue(key, values[index] ?? null);
    if (!beyond) return;
    const prefix = keys.slice(0, index).map((previous, j) => equalTo(previous, values[j] ?? null));
    disjuncts.push(prefix.length ? sql<SqlBool>`(${sql.join([...prefix, beyond], sql` AND `)})` : beyond);
  });
  return disjuncts.length ? sql<SqlBool>`(${sql.join(disjuncts, sql` OR `)})` : sql<SqlBool>`false`;
}

function beyondValue(key: SortKey, value: string | null): RawBuilder<SqlBool> | undefined {
  const k = sql.ref(key.column);
  if (key.direction === 'asc') {
    if (value === null) return undefined;
    return key.nullable
      ? sql<SqlBool>`(${k} > ${literal(key, value)} OR ${k} IS NULL)`
      : sql<SqlBool>`${k} > ${literal(key, value)}`;
  }
  return value === null ? sql<SqlBool>`${k} IS NOT NULL` : sql<SqlBool>`${k} < ${literal(key, value)}`;
}

function equalTo(key: SortKey, value: string | null): RawBuilder<SqlBool> {
  const k = sql.ref(key.column);
  return value === null ? sql<SqlBool>`${k} IS NULL` : sql<SqlBool>`${k} = ${literal(key, value)}`;
}

function literal(key: SortKey, value: string | null): RawBuilder<unknown> {
  return sql`${value}::${sql.raw(key.kind)}`;
}

/** ORDER BY terms with explicit NULL placement matching the predicates above. */
export function orderByTerms(keys: readonly SortKey[]): RawBuilder<unknown> {
  return sql.join(
    keys.map((key) =>
      key.direction === 'asc'
        ? sql`${sql.ref(key.column)} ASC NULLS LAST`
        : sql`${sql.ref(key.column)} DESC NULLS FIRST`,
    ),
  );
}

/** The instants the plain cursor form says exactly (cursor.ts reads it back): the years 0001–9999. */
const PLAIN_FROM = sql.raw(`'0001-01-01 00:00:00+00'`);
const PLAIN_UNTIL = sql.raw(`'10000-01-01 00:00:00+00'`);
const PLAIN_FORM = sql.raw(`'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'`);
const ERA_FORM = sql.raw(`'YYYY-MM-DD"T"HH24:MI:SS.US"Z" BC'`);
const utcText = (k: RawBuilder<unknown>, form: RawBuilder<unknown>) => sql`to_char(${k} AT TIME ZONE 'UTC', ${form})`;

/** Exact text of a sort key for the cursor; timestamps in UTC with microseconds (JS Dates would truncate them). */
export function cursorKeyExpression(key: SortKey): RawBuilder<string | null> {
  const k = sql.ref(key.column);
  switch (key.kind) {
    case 'timestamptz':
      // The plain form says neither the era nor a year past 9999 as Postgres reads it back, and to_char gives
      // NULL for 'infinity' and '-infinity' (read back as a NULL key: that row again, or rows skipped). Those
      // rare instants take the form with the era, and the infinite ones their own text.
      return sql<
        string | null
      >`CASE WHEN ${k} >= ${PLAIN_FROM} AND ${k} < ${PLAIN_UNTIL} THEN ${utcText(k, PLAIN_FORM)} ELSE coalesce(${utcText(k, ERA_FORM)}, ${k}::text) END`;
    case 'float8':
    case 'int8':
      return sql<string | null>`${k}::text`;
  }
}

/**
 * What a statement cache needs of the predicates above (db/statement-cache.ts):
 * a shape that determines their text (the keys, and which cursor values are
 * NULL: every branch above depends on nothing else), and their parameters in
 * the order the text has them. Mirrors segmentsAfter and strictlyAfter; the
 * statement cache checks the parameters against Kysely's before it keeps a
 * text, and test/trip-statements.test.ts compares both over random cursors.
 */
export function keysetShape(keys: readonly SortKey[], values: CursorValues): string {
  const parts = keys.map(
    (key, index) =>
      `${key.column} ${key.direction} ${key.kind} ${key.nullable ? 'nullable' : ''} ${(values[index] ?? null) === null ? 'null' : '?'}`,
  );
  return `${parts.join(',')}/${values.length}`;
}

/** The parameters of each of segmentsAfter's segments, in order. */
export function segmentParameters(keys: readonly SortKey[], values: CursorValues): (string | null)[][] {
  const [first, second] = keys;
  if (keys.length === 1 && first) return [[values[0] ?? null]];
  if (keys.length === 2 && first && second && first.direction === second.direction && values[1] != null) {
    const value = values[0] ?? null;
    const id = values[1];
    if (first.direction === 'asc') {
      if (value === null) return [[id]];
      return first.nullable ? [[value, id], []] : [[value, id]];
    }
    if (value === null) return [[id], []];
    return [[value, id]];
  }
  return [strictlyAfterParameters(keys, values)];
}

/** strictlyAfter's parameters, in order. */
export function strictlyAfterParameters(keys: readonly SortKey[], values: CursorValues): (string | null)[] {
  const parameters: (string | null)[] = [];
  keys.forEach((key, index) => {
    const value = values[index] ?? null;
    // beyondValue: ascending past NULL is nothing; descending past NULL is `IS NOT NULL`, without a parameter.
    if (key.direction === 'asc' && value === null) return;
    for (let j = 0; j < index; j += 1) {
      const previous = values[j] ?? null;
      if (previous !== null) parameters.push(previous);
    }
    if (value !== null) parameters.push(value);
  });
  return parameters;
}
