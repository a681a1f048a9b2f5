import { expressionBuilder, sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import type { Database } from '../db/tables.js';
import type { BoroughFilter } from './filter-input.js';
import {
  mapConditions,
  parseTripFilter,
  TRIP_FILTER_FIELDS,
  type FieldTable,
  type FilterNode,
  type ParsedTripFilter,
} from './parse-filter.js';

export type {
  BigIntFilter,
  BoroughFilter,
  DateTimeFilter,
  FloatFilter,
  IntFilter,
  TripFilter,
} from './filter-input.js';
export { FILTER_LIMITS } from './parse-filter.js';

/**
 * A parsed TripFilter (parse-filter.ts) compiled into one parameterized SQL
 * predicate, once per filter and source shape: the expression is immutable,
 * so a request's page, count and previous-page statements share it.
 *
 * Semantics worth knowing:
 * - An operator given as null is ignored, as if absent.
 * - ne / notIn follow SQL: they never match NULL; add `isNull: true` under `or` to include NULLs.
 * - `not` is the exact complement of what its filter matches, NULLs included
 *   (compiled as `(…) IS NOT TRUE`), so `not` never loses rows to three-valued logic.
 * - A borough is that of the trip's ZIP in the ZIP reference table; it is NULL
 *   when the ZIP is NULL or not in the list (as `Zone.borough`).
 */

type TripColumn = keyof Database['trips'];
export type BoroughColumn = 'pickup_borough' | 'dropoff_borough';

type Scalar = number | string | Date;

export interface CompileOptions {
  /** Borough columns the source has (a rollup's borough grain); elsewhere boroughs are looked up by ZIP. */
  boroughColumns?: ReadonlySet<BoroughColumn>;
}

const eb = expressionBuilder<Database, 'trips'>();
const compiled = new WeakMap<ParsedTripFilter, Map<string, Expression<SqlBool> | undefined>>();

/** Returns undefined when the filter constrains nothing. */
export function compileTripFilter(
  filter: ParsedTripFilter,
  options: CompileOptions = {},
): Expression<SqlBool> | undefined {
  const boroughColumns = options.boroughColumns ?? new Set<BoroughColumn>();
  const shape = [...boroughColumns].sort().join(',');
  let byShape = compiled.get(filter);
  if (!byShape) {
    byShape = new Map();
    compiled.set(filter, byShape);
  }
  if (!byShape.has(shape)) byShape.set(shape, filter.root && compileNode(filter.root, fieldSql(boroughColumns)));
  return byShape.get(shape);
}

/** Validates a filter without running it (e.g. for subscriptions, which match rows in memory). */
export function validateTripFilter(filter: Parameters<typeof parseTripFilter>[0], path = 'filter'): void {
  parseTripFilter(filter, path);
}

function compileNode(node: FilterNode, fields: FieldTable<Expression<SqlBool>[]>): Expression<SqlBool> | undefined {
  const parts = mapConditions(node, fields).flat();
  for (const combinator of ['and', 'or'] as const) {
    const list = node[combinator];
    if (list === undefined) continue;
    const items = list.map((item) => compileNode(item, fields) ?? sql<SqlBool>`true`);
    parts.push(combinator === 'and' ? eb.and(items) : eb.or(items));
  }
  if (node.not !== undefined) {
    const inner = compileNode(node.not, fields) ?? sql<SqlBool>`true`;
    parts.push(sql<SqlBool>`(${inner}) IS NOT TRUE`);
  }
  if (parts.length === 0) return undefined;
  return parts.length === 1 ? parts[0] : eb.and(parts);
}

/** Every field's SQL: a column comparison, or a borough test. */
function fieldSql(boroughColumns: ReadonlySet<BoroughColumn>): FieldTable<Expression<SqlBool>[]> {
  return {
    tripId: (conditions) => compileColumn('id', 'int8', conditions),
    pickupAt: (conditions) => compileColumn('tpep_pickup_datetime', 'timestamptz', conditions),
    dropoffAt: (conditions) => compileColumn('tpep_dropoff_datetime', 'timestamptz', conditions),
    pickupZip: (conditions) => compileColumn('pickup_zip', 'int4', conditions),
    dropoffZip: (conditions) => compileColumn('dropoff_zip', 'int4', conditions),
    fareAmount: (conditions) => compileColumn('fare_amount', 'float8', conditions),
    tripDistance: (conditions) => compileColumn('trip_distance', 'float8', conditions),
    pickupBorough: (conditions) => compileBorough('pickup_zip', 'pickup_borough', conditions, boroughColumns),
    dropoffBorough: (conditions) => compileBorough('dropoff_zip', 'dropoff_borough', conditions, boroughColumns),
  };
}

const COMPARISONS = { eq: '=', ne: '<>', gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

function compileColumn(column: TripColumn, cast: string, conditions: object): Expression<SqlBool>[] {
  const parts: Expression<SqlBool>[] = [];
  const ref = sql.ref(column);
  const value = (v: Scalar) => sql`${v instanceof Date ? v.toISOString() : v}::${sql.raw(cast)}`;
  for (const [operator, raw] of Object.entries(conditions) as [string, Scalar | boolean | readonly Scalar[]][]) {
    if (operator in COMPARISONS) {
      const op = COMPARISONS[operator as keyof typeof COMPARISONS];
      parts.push(sql<SqlBool>`${ref} ${sql.raw(op)} ${value(raw as Scalar)}`);
    } else if (operator === 'in' || operator === 'notIn') {
      const list = raw as readonly Scalar[];
      // One array parameter instead of N placeholders: the statement text stays
      // the same whatever the list length, which keeps prepared plans and
      // pg_stat_statements entries stable.
      const array = sql`${list.map((v) => (v instanceof Date ? v.toISOString() : String(v)))}::${sql.raw(cast)}[]`;
      parts.push(operator === 'in' ? sql<SqlBool>`${ref} = ANY(${array})` : sql<SqlBool>`NOT (${ref} = ANY(${array}))`);
    } else if (operator === 'isNull') {
      parts.push(raw ? sql<SqlBool>`${ref} IS NULL` : sql<SqlBool>`${ref} IS NOT NULL`);
    }
  }
  return parts;
}

/**
 * Borough conditions. On a source with the borough column (a rollup's
 * borough grain) they compare it; elsewhere they become ZIP lists read from
 * the reference table once per statement (`= ANY(ARRAY(SELECT …))` is an
 * init plan, so the ZIP index still serves the list). A NULL borough (NULL or
 * unlisted ZIP) matches only isNull: true, as a NULL column would.
 */
function compileBorough(
  zip: TripColumn,
  column: BoroughColumn,
  conditions: Readonly<Partial<Record<keyof BoroughFilter, unknown>>>,
  boroughColumns: ReadonlySet<BoroughColumn>,
): Expression<SqlBool>[] {
  const parts: Expression<SqlBool>[] = [];
  const byColumn = boroughColumns.has(column);
  const ref = sql.ref(byColumn ? column : zip);
  const zipsWhere = (condition: RawBuilder<SqlBool>) =>
    sql<SqlBool>`${ref} = ANY(ARRAY(SELECT zip FROM ${sql.table('zip_zones')} WHERE ${condition}))`;
  const test = (condition: (borough: RawBuilder<unknown>) => RawBuilder<SqlBool>) =>
    byColumn ? condition(sql`${ref}`) : zipsWhere(condition(sql.ref('borough')));
  for (const [operator, raw] of Object.entries(conditions) as [keyof BoroughFilter, unknown][]) {
    switch (operator) {
      case 'eq':
      case 'ne': {
        const name = raw as string;
        parts.push(test((b) => (operator === 'eq' ? sql<SqlBool>`${b} = ${name}` : sql<SqlBool>`${b} <> ${name}`)));
        break;
      }
      case 'in':
      case 'notIn': {
        const array = sql`${[...(raw as readonly string[])]}::text[]`;
        parts.push(
          test((b) =>
            operator === 'in' ? sql<SqlBool>`${b} = ANY(${array})` : sql<SqlBool>`NOT (${b} = ANY(${array}))`,
          ),
        );
        break;
      }
      case 'isNull': {
        if (byColumn) parts.push(raw ? sql<SqlBool>`${ref} IS NULL` : sql<SqlBool>`${ref} IS NOT NULL`);
        else {
          const listed = zipsWhere(sql<SqlBool>`true`);
          parts.push(raw ? sql<SqlBool>`(${ref} IS NULL OR NOT ${listed})` : listed);
        }
        break;
      }
      default: {
        const unknown: never = operator;
        throw new Error(`unknown borough operator ${String(unknown)} (parseTripFilter refuses it)`);
      }
    }
  }
  return parts;
}

/**
 * A filter's statement shape and parameters, without building its SQL: what
 * a statement cache needs to reuse SQL text compiled for an earlier filter of
 * the same shape (db/statement-cache.ts). `shape` determines the text
 * compileTripFilter makes (without borough columns): fields and operators in
 * the order they are compiled, isNull's value, the and/or/not structure.
 * `parameters` are the values compileTripFilter passes, in the order they
 * appear in its text. Kept next to compileColumn and compileBorough, which it
 * mirrors; the statement cache checks the parameters against Kysely's own
 * before it keeps a text, and test/trip-statements.test.ts compares both over
 * random filters.
 */
export interface FilterStatementShape {
  readonly shape: string;
  readonly parameters: readonly unknown[];
}

const shapes = new WeakMap<ParsedTripFilter, FilterStatementShape>();

export function filterStatementShape(filter: ParsedTripFilter): FilterStatementShape {
  let known = shapes.get(filter);
  if (!known) {
    const parameters: unknown[] = [];
    known = { shape: filter.root ? nodeShape(filter.root, parameters) : '-', parameters };
    shapes.set(filter, known);
  }
  return known;
}

const SHAPE_FIELDS: FieldTable<(parameters: unknown[]) => string> = {
  tripId: (conditions) => (parameters) => columnShape(conditions, parameters),
  pickupAt: (conditions) => (parameters) => columnShape(conditions, parameters),
  dropoffAt: (conditions) => (parameters) => columnShape(conditions, parameters),
  pickupZip: (conditions) => (parameters) => columnShape(conditions, parameters),
  dropoffZip: (conditions) => (parameters) => columnShape(conditions, parameters),
  fareAmount: (conditions) => (parameters) => columnShape(conditions, parameters),
  tripDistance: (conditions) => (parameters) => columnShape(conditions, parameters),
  pickupBorough: (conditions) => (parameters) => boroughShape(conditions, parameters),
  dropoffBorough: (conditions) => (parameters) => boroughShape(conditions, parameters),
};

function nodeShape(node: FilterNode, parameters: unknown[]): string {
  // Field names are in the shape through their order: mapConditions visits them in one fixed order.
  let shape = '{';
  for (const field of TRIP_FILTER_FIELDS) {
    if (node.conditions[field] !== undefined) shape += `${field}:`;
  }
  for (const fieldShape of mapConditions(node, SHAPE_FIELDS)) shape += fieldShape(parameters);
  for (const combinator of ['and', 'or'] as const) {
    const list = node[combinator];
    if (list !== undefined) shape += `${combinator}[${list.map((item) => nodeShape(item, parameters)).join(',')}]`;
  }
  if (node.not !== undefined) shape += `not(${nodeShape(node.not, parameters)})`;
  return `${shape}}`;
}

function columnShape(conditions: object, parameters: unknown[]): string {
  let shape = '(';
  for (const [operator, raw] of Object.entries(conditions) as [string, Scalar | boolean | readonly Scalar[]][]) {
    if (operator in COMPARISONS) {
      const value = raw as Scalar;
      parameters.push(value instanceof Date ? value.toISOString() : value);
      shape += `${operator} `;
    } else if (operator === 'in' || operator === 'notIn') {
      parameters.push((raw as readonly Scalar[]).map((v) => (v instanceof Date ? v.toISOString() : String(v))));
      shape += `${operator} `;
    } else if (operator === 'isNull') {
      shape += raw ? 'isNull ' : 'isNotNull ';
    }
  }
  return `${shape})`;
}

function boroughShape(
  conditions: Readonly<Partial<Record<keyof BoroughFilter, unknown>>>,
  parameters: unknown[],
): string {
  let shape = '(';
  for (const [operator, raw] of Object.entries(conditions) as [keyof BoroughFilter, unknown][]) {
    if (operator === 'eq' || operator === 'ne') parameters.push(raw);
    else if (operator === 'in' || operator === 'notIn') parameters.push([...(raw as readonly string[])]);
    shape += operator === 'isNull' ? (raw ? 'isNull ' : 'isNotNull ') : `${operator} `;
  }
  return `${shape})`;
}
