import {
  Kind,
  print,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { LimitsConfig } from '../../config/env.js';
import { gatewayError } from '../../errors.js';

/**
 * Estimated cost of an operation: one point per field per object it is
 * resolved on. A field with a page size (`first`/`last`, `ids`) multiplies the
 * cost of everything beneath it, so `trips(first: 1000) { … }` costs about a
 * thousand times `trips(first: 1) { … }`. Static cost rules cannot tell those
 * apart; this runs once variables are known, just before execution.
 */
export interface CostOptions {
  maxCost: number;
  /** Multiplier for list fields called without a size (their server-side default). */
  defaultListSize: (fieldName: string) => number | undefined;
  /**
   * Sizes are clamped to this: a larger first/last is rejected by the field
   * itself with an error naming the argument, which says more than a cost.
   */
  maxListSize: number;
}

/** How the gateway costs an operation under these limits (the plugin and the dashboard check, dashboard-limits.ts). */
export function costOptions(limits: LimitsConfig): CostOptions {
  return {
    maxCost: limits.maxCost,
    maxListSize: Math.max(limits.maxPageSize, limits.maxGroups),
    // Lists whose size is implicit: the default page sizes the resolvers apply.
    defaultListSize: (field) => (field === 'trips' ? limits.defaultPageSize : field === 'tripGroups' ? 100 : undefined),
  };
}

/** The operation `operationName` names in `document` (or its only one), and the document's fragments by name. */
function operationOf(
  document: DocumentNode,
  operationName: string | null | undefined,
): { operation: OperationDefinitionNode; fragments: Map<string, FragmentDefinitionNode> } | undefined {
  const operation = document.definitions.find(
    (definition): definition is OperationDefinitionNode =>
      definition.kind === Kind.OPERATION_DEFINITION &&
      (operationName == null || definition.name?.value === operationName),
  );
  if (!operation) return undefined;
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  return { operation, fragments };
}

/** The cost of one operation of `document` with these variables; undefined when it names no operation. */
export function operationCost(
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Readonly<Record<string, unknown>>,
  options: CostOptions,
): number | undefined {
  const found = operationOf(document, operationName);
  if (!found) return undefined;
  const { operation, fragments } = found;
  return selectionCost(operation.selectionSet, 1, {
    fragments,
    variables,
    options,
    visiting: new Set(),
    fragmentCosts: new Map(),
  });
}

/**
 * Fields that each run statements of their own, whatever they select: at the root, a page of trips (with its
 * count), totals, a grouping; anywhere, a zone's pickup or dropoff totals. The cost counts fields, so a grouping
 * of 100 small groups cost 500 points: one request of 240 aliased groupings (each a scan of the table) stayed far
 * under the limit and took the whole connection pool from everyone else. One request runs at most
 * MAX_STATEMENT_FIELDS of them. Zone.pickups and Zone.dropoffs are batched into one statement per distinct
 * (side, filter), so they count once per distinct argument text (an upper bound: two variables may hold one
 * filter): 200 aliased zones asking the same totals are one statement, while 240 aliased `zone { pickups(filter:)
 * }` with filters of their own ran 241 statements and starved the pool as the root fields had.
 */
const ROOT_STATEMENT_FIELDS = new Set(['trips', 'tripStats', 'tripGroups']);
const NESTED_STATEMENT_FIELDS = new Set(['pickups', 'dropoffs']);
const MAX_STATEMENT_FIELDS = 50;

/** How many statements the operation's statement fields run at most (through fragments, each spread counted). */
function statementFields(document: DocumentNode, operationName: string | null | undefined): number {
  const found = operationOf(document, operationName);
  if (!found) return 0;
  const { operation, fragments } = found;
  const nested = new Set<string>();
  // A fragment's root count depends on where it is spread: `trips` counts at the root only.
  const counted = new Map<string, number>();
  const count = (selectionSet: SelectionSetNode, root: boolean, visiting: Set<string>): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.name.value;
        if (root && ROOT_STATEMENT_FIELDS.has(name)) total += 1;
        else if (NESTED_STATEMENT_FIELDS.has(name)) {
          nested.add(`${name}(${(selection.arguments ?? []).map((argument) => print(argument)).join(',')})`);
        }
        if (selection.selectionSet) total += count(selection.selectionSet, false, visiting);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        total += count(selection.selectionSet, root, visiting);
      } else {
        const name = selection.name.value;
        const key = `${root ? 'root' : 'nested'}:${name}`;
        const known = counted.get(key);
        if (known !== undefined) {
          total += known;
          continue;
        }
        const fragment = fragments.get(name);
        // Cycles are a validation error already; the guard only keeps this walk finite.
        if (!fragment || visiting.has(name)) continue;
        visiting.add(name);
        const inFragment = count(fragment.selectionSet, root, visiting);
        visiting.delete(name);
        counted.set(key, inFragment);
        total += inFragment;
      }
    }
    return total;
  };
  return count(operation.selectionSet, true, new Set()) + nested.size;
}

/**
 * statementFields depends on the document alone, and the parse cache hands every request of one document the same
 * object: walked once per document (and operation), not on every request (it prints each zone field's arguments).
 */
const statementsByDocument = new WeakMap<DocumentNode, Map<string, number>>();

function statementFieldsOf(document: DocumentNode, operationName: string | null | undefined): number {
  let byOperation = statementsByDocument.get(document);
  if (!byOperation) statementsByDocument.set(document, (byOperation = new Map()));
  const key = operationName ?? '';
  let statements = byOperation.get(key);
  if (statements === undefined) byOperation.set(key, (statements = statementFields(document, operationName)));
  return statements;
}

export function useQueryCost(options: CostOptions): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const statements = statementFieldsOf(args.document, args.operationName);
      if (statements > MAX_STATEMENT_FIELDS) {
        setResultAndStopExecution({
          errors: [
            gatewayError(
              'QUERY_TOO_COMPLEX',
              `the query asks for ${statements} pages, totals and groupings (trips, tripStats, tripGroups, ` +
                `Zone.pickups and Zone.dropoffs, aliases included); at most ${MAX_STATEMENT_FIELDS} are allowed in one request, since each runs statements ` +
                'of its own: split it',
              { statements, maxStatements: MAX_STATEMENT_FIELDS },
            ),
          ],
        });
        return;
      }
      const variables = (args.variableValues ?? {}) as Record<string, unknown>;
      const cost = operationCost(args.document, args.operationName, variables, options);
      if (cost !== undefined && cost > options.maxCost) {
        setResultAndStopExecution({
          errors: [
            gatewayError(
              'QUERY_TOO_COMPLEX',
              `query cost ${Number.isFinite(cost) ? Math.ceil(cost) : 'beyond counting'} exceeds the limit of ${options.maxCost}: ` +
                'ask for smaller pages (first/last) or fewer nested fields',
              { cost: Number.isFinite(cost) ? Math.ceil(cost) : null, maxCost: options.maxCost },
            ),
          ],
        });
      }
    },
  };
}

interface CostState {
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Readonly<Record<string, unknown>>;
  options: CostOptions;
  visiting: Set<string>;
  /**
   * Each fragment's cost per object, worked out once. A cost is linear in its multiplier, so a spread costs its
   * multiplier times this. Walking a fragment again at every spread took exponential time: 700 spreads of a
   * fragment that spreads another 700 times blocked the event loop for 35 s.
   */
  fragmentCosts: Map<string, number>;
}

function selectionCost(selectionSet: SelectionSetNode, multiplier: number, state: CostState): number {
  let total = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      total += fieldCost(selection, multiplier, state);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      total += selectionCost(selection.selectionSet, multiplier, state);
    } else {
      total += multiplier * fragmentCost(selection.name.value, state);
    }
  }
  return total;
}

function fragmentCost(name: string, state: CostState): number {
  const known = state.fragmentCosts.get(name);
  if (known !== undefined) return known;
  const fragment = state.fragments.get(name);
  // Cycles are a validation error already; the guard only keeps this walk finite.
  if (!fragment || state.visiting.has(name)) return 0;
  state.visiting.add(name);
  const cost = selectionCost(fragment.selectionSet, 1, state);
  state.visiting.delete(name);
  state.fragmentCosts.set(name, cost);
  return cost;
}

/**
 * An introspection field (`__schema`, `__type`) walks the whole schema whatever it selects: each costs a tenth
 * of the limit, so one document holds at most ten (250 aliased introspections used to cost nothing and block
 * the event loop for seconds). `__typename` is free, like any scalar read from the object at hand.
 */
const INTROSPECTION_SHARE = 10;

function fieldCost(field: FieldNode, multiplier: number, state: CostState): number {
  const name = field.name.value;
  if (name === '__schema' || name === '__type') return (multiplier * state.options.maxCost) / INTROSPECTION_SHARE;
  if (name.startsWith('__')) return 0;
  if (!field.selectionSet) return multiplier;
  const size = listSize(field, state);
  return multiplier + selectionCost(field.selectionSet, multiplier * Math.max(size, 1), state);
}

function listSize(field: FieldNode, state: CostState): number {
  let size: number | undefined;
  for (const argument of field.arguments ?? []) {
    const name = argument.name.value;
    if (name === 'first' || name === 'last') {
      const value = evaluate(argument.value, state.variables);
      if (typeof value === 'number') size = Math.max(size ?? 0, value);
    } else if (name === 'ids') {
      const value = evaluate(argument.value, state.variables);
      if (Array.isArray(value)) size = value.length;
    }
  }
  return Math.min(size ?? state.options.defaultListSize(field.name.value) ?? 1, state.options.maxListSize);
}

function evaluate(value: ValueNode, variables: Readonly<Record<string, unknown>>): unknown {
  switch (value.kind) {
    case Kind.VARIABLE:
      return variables[value.name.value];
    case Kind.INT:
      return Number(value.value);
    case Kind.LIST:
      return value.values.map((item) => evaluate(item, variables));
    default:
      return undefined;
  }
}
