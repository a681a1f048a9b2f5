import {
  getNamedType,
  getOperationAST,
  GraphQLError,
  isInputObjectType,
  typeFromAST,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLInputObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';

type Compiled = CompiledQuery['query'];

/**
 * Runs queries as JavaScript compiled per operation (graphql-jit) instead of
 * graphql-js walking the result field by field: a page of 100 trips is ~1,000
 * resolver steps, and in the trips benchmark this halves the gateway's CPU
 * time per request.
 *
 * Compiled code is cached per parsed document; yoga's parse cache hands out
 * the same DocumentNode for the same query text, so the cache hits for every
 * repeated query and its entries go when the parse cache drops the document.
 *
 * Whatever graphql-jit cannot compile runs on graphql-js as before.
 * Operations with a variable of a recursive input type (`$filter: TripFilter`,
 * which nests and/or/not) are not even tried: graphql-jit generates variable
 * coercion inline, type by type, and recurses until the stack overflows,
 * which takes seconds of CPU per new document. Subscriptions keep graphql-js too.
 */
export type CompileOutcome = { compiled: true } | { compiled: false; reason: string };

export interface CompiledExecutionOptions {
  /** Called once per (document, operation) compiled or left on graphql-js; subscriptions are not reported. */
  onCompile?: (operationName: string | undefined, outcome: CompileOutcome) => void;
}

export function useCompiledExecution({ onCompile }: CompiledExecutionOptions = {}): Plugin {
  const cache = new WeakMap<DocumentNode, Map<string, Compiled | null>>();

  function compiledFor(args: ExecutionArgs): Compiled | null {
    const operationName = args.operationName ?? '';
    let byOperation = cache.get(args.document);
    if (!byOperation) {
      byOperation = new Map();
      cache.set(args.document, byOperation);
    }
    let compiled = byOperation.get(operationName);
    if (compiled === undefined) {
      const operation = getOperationAST(args.document, args.operationName);
      const outcome = operation ? compile(args, operation) : undefined;
      compiled = typeof outcome === 'function' ? outcome : null;
      if (outcome !== undefined) {
        onCompile?.(
          operation?.name?.value,
          typeof outcome === 'string' ? { compiled: false, reason: outcome } : { compiled: true },
        );
      }
      byOperation.set(operationName, compiled);
    }
    return compiled;
  }

  return {
    onExecute({ args, setExecuteFn }) {
      const compiled = compiledFor(args);
      if (compiled) {
        setExecuteFn(async (execution) =>
          withDocumentErrors(
            await compiled(execution.rootValue, execution.contextValue, execution.variableValues),
            execution.document,
          ),
        );
      }
    },
  };
}

/** The compiled query, or why there is none (undefined for subscriptions, which are not attempted). */
function compile(args: ExecutionArgs, operation: OperationDefinitionNode): Compiled | string | undefined {
  if (operation.operation === 'subscription') return undefined;
  const recursive = recursiveInputVariable(args.schema, operation);
  if (recursive) return `variable $${recursive} has a recursive input type`;
  try {
    const compiled = compileQuery(args.schema, args.document, args.operationName ?? undefined);
    if (isCompiledQuery(compiled)) return compiled.query;
    return compiled.errors?.map((error) => error.message).join('; ') ?? 'graphql-jit returned no compiled query';
  } catch (error) {
    return (error as Error).message;
  }
}

function recursiveInputVariable(schema: GraphQLSchema, operation: OperationDefinitionNode): string | undefined {
  for (const definition of operation.variableDefinitions ?? []) {
    const type = getNamedType(typeFromAST(schema, definition.type));
    if (isInputObjectType(type) && reachesCycle(type, new Set())) return definition.variable.name.value;
  }
  return undefined;
}

/** Whether any input type reachable from `type` (itself included) refers back to one on the path to it. */
function reachesCycle(type: GraphQLInputObjectType, path: Set<GraphQLInputObjectType>): boolean {
  if (path.has(type)) return true;
  path.add(type);
  for (const field of Object.values(type.getFields())) {
    const fieldType = getNamedType(field.type);
    if (isInputObjectType(fieldType) && reachesCycle(fieldType, path)) return true;
  }
  path.delete(type);
  return false;
}

/**
 * graphql-jit reports errors with `locations` only, while yoga rebuilds every
 * error from graphql-js' `source` and `positions` before sending it, which
 * would drop the locations. Re-created as graphql-js errors pointing into the
 * document, they reach the client exactly as graphql-js would report them.
 */
function withDocumentErrors(result: ExecutionResult, document: DocumentNode): ExecutionResult {
  const source = document.loc?.source;
  if (!result.errors?.length || !source) return result;
  const lineStarts = [0];
  for (const match of source.body.matchAll(/\r\n|[\n\r]/g)) lineStarts.push(match.index + match[0].length);
  const errors = result.errors.map((error) => {
    const positions = (error.locations ?? []).map(({ line, column }) => (lineStarts[line - 1] ?? 0) + column - 1);
    return new GraphQLError(error.message, {
      source,
      positions: positions.length ? positions : undefined,
      path: error.path,
      originalError: error.originalError ?? undefined,
      extensions: error.extensions,
    });
  });
  return { ...result, errors };
}
