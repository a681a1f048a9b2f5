import {
  getOperationAST,
  getVariableValues,
  GraphQLError,
  GraphQLScalarType,
  GraphQLSchema,
  Kind,
  visit,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type OperationDefinitionNode,
} from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { Plugin } from 'graphql-yoga';
import { errorMessage } from '../../errors.js';

/**
 * Runs queries as JavaScript compiled per operation (graphql-jit) instead of
 * graphql-js walking the result field by field: a page of 100 trips is ~1,000
 * resolver steps, and in the trips benchmark this cuts the gateway's CPU time
 * per request by about a third.
 *
 * Compiled code is cached per parsed document; yoga's parse cache hands out
 * the same DocumentNode for the same query text, so the cache hits for every
 * repeated query and its entries go when the parse cache drops the document.
 *
 * Variables are coerced by graphql-js, not by graphql-jit: graphql-jit
 * generates coercion code inline, type by type, and on a recursive input type
 * (`$filter: TripFilter` nests and/or/not) it recurses for seconds until the
 * stack overflows. So the operation is compiled with every variable retyped as
 * a pass-through scalar, and receives the values graphql-js coerced against
 * the real types, with graphql-js' own error messages. Whatever graphql-jit
 * still cannot compile runs on graphql-js as before; so do mutations and
 * subscriptions.
 */
export type CompileOutcome = { compiled: true } | { compiled: false; reason: string };

export interface CompiledExecutionOptions {
  /** Called once per query (document and operation) compiled or left on graphql-js. */
  onCompile?: (operationName: string | undefined, outcome: CompileOutcome) => void;
}

interface CompiledOperation {
  operation: OperationDefinitionNode;
  query: CompiledQuery['query'];
}

/** Only ever given values graphql-js has already coerced; never visible in the public schema. */
const PRECOERCED = new GraphQLScalarType({
  name: 'PrecoercedVariable__',
  serialize: (value) => value,
  parseValue: (value) => value,
});

const MIN_EXECUTIONS_TO_COMPILE = 2;
const MAX_COMPILED_SOURCE_CHARS = 16 * 1024;

export function useCompiledExecution({ onCompile }: CompiledExecutionOptions = {}): Plugin {
  const cache = new WeakMap<DocumentNode, Map<string, CompiledOperation | null>>();
  const compileSchemas = new WeakMap<GraphQLSchema, GraphQLSchema>();

  /** The schema plus the pass-through scalar, sharing every type (and resolver) with the original. */
  function compileSchemaFor(schema: GraphQLSchema): GraphQLSchema {
    let extended = compileSchemas.get(schema);
    if (!extended) {
      const config = schema.toConfig();
      extended = new GraphQLSchema({ ...config, types: [...config.types, PRECOERCED] });
      compileSchemas.set(schema, extended);
    }
    return extended;
  }

  /**
   * Compiling costs memory that is not all given back (~100 KB for a 50 KB document: 900 distinct documents
   * grew the heap by 90 MB after GC, with the parse cache off, while graphql-js alone grew it by nothing), and
   * CPU. So only documents that repeat are compiled (the parse cache hands out the same DocumentNode for the
   * same text: the second execution finds it), and only small ones: a stream of distinct or huge documents,
   * which is what an attacker sends, runs on graphql-js and leaves nothing behind.
   */
  const executions = new WeakMap<DocumentNode, number>();
  function worthCompiling(document: DocumentNode): boolean {
    if ((document.loc?.end ?? 0) > MAX_COMPILED_SOURCE_CHARS) return false;
    const seen = (executions.get(document) ?? 0) + 1;
    if (seen < MIN_EXECUTIONS_TO_COMPILE) executions.set(document, seen);
    return seen >= MIN_EXECUTIONS_TO_COMPILE;
  }

  function compiledFor(args: ExecutionArgs): CompiledOperation | null {
    const operationName = args.operationName ?? '';
    if (!worthCompiling(args.document)) return null;
    let byOperation = cache.get(args.document);
    if (!byOperation) {
      byOperation = new Map();
      cache.set(args.document, byOperation);
    }
    let compiled = byOperation.get(operationName);
    if (compiled === undefined) {
      compiled = null;
      const operation = getOperationAST(args.document, args.operationName);
      // Queries only: mutations are rare and not worth a second executor's semantics; subscriptions stream.
      if (operation?.operation === 'query') {
        const outcome = compile(compileSchemaFor(args.schema), args.document, args.operationName ?? undefined);
        if (typeof outcome === 'string') {
          onCompile?.(operation.name?.value, { compiled: false, reason: outcome });
        } else {
          onCompile?.(operation.name?.value, { compiled: true });
          compiled = { operation, query: outcome };
        }
      }
      byOperation.set(operationName, compiled);
    }
    return compiled;
  }

  return {
    onExecute({ args, setExecuteFn }) {
      const compiled = compiledFor(args);
      if (!compiled) return;
      setExecuteFn(async (execution) => {
        const variables = getVariableValues(
          execution.schema,
          compiled.operation.variableDefinitions ?? [],
          execution.variableValues ?? {},
          { maxErrors: 50 },
        );
        // As yoga's executor answers bad variables: errors only, no data, and HTTP 400 (a request error; GraphQL
        // over HTTP requires a 4xx for a response without data under application/graphql-response+json).
        if (variables.errors) return { errors: variables.errors.map(asRequestError) };
        const result = await compiled.query(execution.rootValue, execution.contextValue, variables.coerced);
        return withDocumentErrors(result, execution.document);
      });
    },
  };
}

/**
 * Marks an error that stops a request before execution as @graphql-tools/executor (yoga's executor) marks its
 * own: `extensions.http.status` 400, defined as a non-enumerable property so that the error's JSON is unchanged.
 * Without it the first request of a document (graphql-js) was answered 400 and every later one (compiled) 200.
 */
function asRequestError(error: GraphQLError): GraphQLError {
  Object.defineProperty(error, 'extensions', {
    value: { ...error.extensions, http: { ...(error.extensions['http'] as object | undefined), status: 400 } },
  });
  return error;
}

/** The compiled query, or why there is none. */
function compile(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | undefined,
): CompiledQuery['query'] | string {
  const retyped = visit(document, {
    VariableDefinition: (definition) => ({
      ...definition,
      type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: PRECOERCED.name } },
    }),
  });
  try {
    const compiled = compileQuery(schema, retyped, operationName);
    if (isCompiledQuery(compiled)) return compiled.query;
    return compiled.errors?.map((error) => error.message).join('; ') ?? 'graphql-jit returned no compiled query';
  } catch (error) {
    return errorMessage(error);
  }
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
