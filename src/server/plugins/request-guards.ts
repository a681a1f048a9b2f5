import type { ErrorCode } from '../../errors.js';
import { GraphQLError, Kind, type ASTNode, type ExecutionResult, type ValidationRule, type ValueNode } from 'graphql';
import { isAsyncIterable, type GraphQLParams, type Plugin } from 'graphql-yoga';
import { errorResponse, invalidJsonMessage } from '../http/error-response.js';
import { postBodyRefusal } from '../http/post-body.js';
import { withArgumentPaths } from './validation-arguments.js';

export interface RequestGuardOptions {
  /** Most items in any list argument or list variable. */
  maxListItems: number;
  /** Longest error message sent to a client. */
  maxErrorMessageChars: number;
}

/** Lists nested deeper than this are never a real argument of this schema (filters nest 8 levels at most). */
const MAX_VALUE_DEPTH = 32;

/**
 * Turns every request yoga would answer with a bare status, a 500 or an
 * unbounded echo into a 4xx with a JSON body that names the problem:
 * - POST bodies other than JSON or GraphQL text (form-encoded, multipart,
 *   text/plain) are refused with 415 before anything runs: those are the
 *   content types a cross-site HTML form can send without a CORS preflight,
 *   so refusing them is the CSRF protection for everything that is not a
 *   GET (and GET never runs a mutation);
 * - GET parameters that are not JSON (`variables=%7Bbad`) get 400 naming the parameter, and a GET's
 *   `documentId` reaches the persisted operations (yoga's GET parser drops it);
 * - methods other than GET and POST get 405 with `Allow`;
 * - an operation whose result no accepted media type can carry (a
 *   subscription asked with `Accept: application/json`) gets 406 with a body
 *   saying what to accept, and its subscription is ended at once instead of
 *   staying registered;
 * - list arguments are capped in length and nesting (list variables: useVariableGuards, and right after
 *   the body is parsed, before the response cache hashes them: checkParsedParams);
 * - an operationName that is not a string is refused with 400;
 * - error messages are cut to a bounded length (a syntax error quotes the
 *   offending token, which can be a 2 MB string);
 * - graphql-js' "Validation aborted." gets a message that says what to do;
 * - a validation error about an argument's value names the argument (validation-arguments.ts).
 */
export function useRequestGuards(options: RequestGuardOptions): Plugin {
  const operationNames = new WeakMap<Request, string>();
  /**
   * Checks of the parsed parameters, before any other plugin sees them:
   * - variables nested past MAX_VALUE_DEPTH are refused. JSON.parse reads 100,000 levels of `[` without
   *   trouble, but the response cache hashes the variables and graphql-js coerces them, both recursively: such
   *   a body overflowed the stack, which yoga answered with a 500, before the execute-time guard
   *   (useVariableGuards) ran. So are variables sent as an array; other shapes of `variables` are left to
   *   yoga's own check, which names them;
   * - an operationName that is not a string: yoga checks the type of `query`, `variables` and `extensions`
   *   but not this one, and passed `{}` on as a name that matches no operation.
   */
  const checkParsedParams = ({ requestParserResult }: { requestParserResult: GraphQLParams | GraphQLParams[] }) => {
    for (const params of Array.isArray(requestParserResult) ? requestParserResult : [requestParserResult]) {
      const problem = operationNameProblem(params.operationName);
      if (problem !== undefined) {
        throw new GraphQLError(problem, {
          extensions: { http: { status: 400 }, code: 'BAD_REQUEST' satisfies ErrorCode, argument: 'operationName' },
        });
      }
      const variables: unknown = params.variables;
      // An array may nest as deep as an object; yoga's own check of the shape comes after the response cache's key.
      if (Array.isArray(variables)) {
        throw new GraphQLError('variables: must be an object of variable values by name, but an array was given', {
          extensions: { http: { status: 400 }, code: 'BAD_REQUEST' satisfies ErrorCode, argument: 'variables' },
        });
      }
      if (variables === null || typeof variables !== 'object') continue;
      const error = checkVariables(variables as Record<string, unknown>, options.maxListItems);
      if (error) throw error;
    }
  };
  const parseDone = { onRequestParseDone: checkParsedParams };
  return {
    onParams({ params, request }) {
      if (typeof params.operationName === 'string') operationNames.set(request, params.operationName.slice(0, 100));
    },
    onRequestParse({ request, requestParser, setRequestParser, endResponse }) {
      if (request.method === 'POST') {
        const refusal = postBodyRefusal(request.headers);
        if (refusal) {
          endResponse(refusal);
          return;
        }
        if (requestParser) {
          const parse = requestParser;
          setRequestParser((req) => {
            const parsed = parse(req);
            return isPromiseLike(parsed) ? Promise.resolve(parsed).catch(rethrowBodyError) : parsed;
          });
        }
      }
      if (!requestParser) {
        // HEAD included: it would need its own refusal of mutations (yoga's is for GET), and revalidation is GET's.
        endResponse(
          errorResponse(
            405,
            `${request.method} requests to the GraphQL endpoint are not supported here; use GET with ?query= ` +
              '(it revalidates with If-None-Match) or POST with a JSON body',
            'METHOD_NOT_ALLOWED',
            { allow: 'GET, POST' },
          ),
        );
        return;
      }
      if (request.method === 'GET') {
        const parse = requestParser;
        setRequestParser((req) => {
          const url = new URL(req.url, 'http://localhost');
          for (const name of ['variables', 'extensions']) {
            const value = url.searchParams.get(name);
            if (value) {
              try {
                JSON.parse(value);
              } catch (error) {
                throw new GraphQLError(`${name}: is not valid JSON (${(error as Error).message.slice(0, 200)})`, {
                  extensions: { http: { status: 400 }, code: 'BAD_REQUEST' satisfies ErrorCode, argument: name },
                });
              }
            }
          }
          // yoga's GET parser keeps query, operationName, variables and extensions only; GraphQL over HTTP's
          // persisted documents send documentId, the short URL a CDN caches (persisted-operations.ts).
          const documentId = url.searchParams.get('documentId');
          if (documentId === null) return parse(req);
          const parsed = parse(req);
          return isPromiseLike(parsed)
            ? Promise.resolve(parsed).then((params) => ({ ...params, documentId }))
            : { ...parsed, documentId };
        });
      }
      return parseDone;
    },
    onValidate({ addValidationRule, params: { documentAST } }) {
      addValidationRule(literalListsRule(options.maxListItems));
      return ({ result, setResult }) => {
        if (result.length === 0) return;
        setResult(
          withArgumentPaths(documentAST, result).map((error) =>
            error.message === 'Validation aborted.'
              ? new GraphQLError(
                  'the document is too large to validate (too many fields or fragment spreads to compare); ' +
                    'split it into smaller operations',
                  { extensions: { code: 'GRAPHQL_VALIDATION_FAILED' satisfies ErrorCode } },
                )
              : error,
          ),
        );
      };
    },
    onResultProcess({ request, result, setResult, resultProcessor, setResultProcessor, acceptableMediaTypes }) {
      if (!resultProcessor) {
        // No media type the client accepts can carry this result: end a subscription that was started for it.
        if (isAsyncIterable(result)) void result[Symbol.asyncIterator]().return?.();
        const streaming = isAsyncIterable(result);
        setResultProcessor(
          () =>
            errorResponse(
              406,
              streaming
                ? 'this operation is a subscription: send Accept: text/event-stream (GraphQL over SSE)'
                : `none of the accepted media types can carry the result; accept one of ${[...new Set(acceptableMediaTypes)].join(', ')}`,
              'NOT_ACCEPTABLE',
            ),
          'application/json',
        );
        return;
      }
      if (Array.isArray(result) || isAsyncIterable(result)) return;
      const single = result as ExecutionResult;
      const unresolved = (error: GraphQLError) =>
        error.extensions?.code === ('OPERATION_RESOLUTION_FAILURE' satisfies ErrorCode);
      if (single.errors?.some((error) => error.message.length > options.maxErrorMessageChars || unresolved(error))) {
        const name = operationNames.get(request);
        setResult({
          ...single,
          errors: single.errors.map((error) =>
            bounded(unresolved(error) ? explainUnresolved(error, name) : error, options.maxErrorMessageChars),
          ),
        });
      }
    },
  };
}

/** yoga's "Could not determine what operation to execute." says what to do instead. */
function explainUnresolved(error: GraphQLError, operationName: string | undefined): GraphQLError {
  const message =
    operationName === undefined
      ? 'the document holds several operations (or none): pass operationName to choose one, or send one operation; ' +
        'an anonymous operation must be the only one in its document'
      : `operationName ${JSON.stringify(operationName)} names no operation in the document`;
  return new GraphQLError(message, { extensions: error.extensions });
}

function bounded(error: GraphQLError, max: number): GraphQLError {
  if (error.message.length <= max) return error;
  return new GraphQLError(`${error.message.slice(0, max)}… (${error.message.length - max} more characters cut)`, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: error.extensions,
  });
}

function listError(where: string, message: string, node?: ASTNode): GraphQLError {
  return new GraphQLError(`${where}: ${message}`, {
    nodes: node,
    extensions: { code: 'BAD_USER_INPUT' satisfies ErrorCode, argument: where, http: { status: 400 } },
  });
}

/**
 * List and object literals in arguments, checked while validating: the error
 * names the argument and the limit, and comes before graphql-js' type errors
 * for the same value (which print the whole value and not what was wrong).
 */
function literalListsRule(maxItems: number): ValidationRule {
  return (context) => ({
    Argument(node) {
      const problem = checkLiteral(node.value, maxItems, 0);
      if (problem) context.reportError(listError(node.name.value, problem, node));
      return false;
    },
  });
}

/**
 * List variables capped in length and nesting, as useRequestGuards caps list literals. A plugin of its own
 * because of where it must sit: before the response cache. A plugin that stops execution after the cache's
 * onExecute has run leaves the cache's wrapped execute uncalled, and @envelop/response-cache then prints a
 * console warning (outside the gateway's logger) for every such request.
 */
export function useVariableGuards(maxListItems: number): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const error = checkVariables(args.variableValues, maxListItems);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const error = checkVariables(args.variableValues, maxListItems);
      if (error) setResultAndStopExecution({ errors: [error] });
    },
  };
}

/** The first list variable that is too long or nested too deeply (literals are checked while validating). */
function checkVariables(
  variables: Readonly<Record<string, unknown>> | null | undefined,
  maxItems: number,
): GraphQLError | undefined {
  for (const [name, value] of Object.entries(variables ?? {})) {
    const problem = checkValue(value, maxItems, 0);
    if (problem) return listError(`$${name}`, problem);
  }
  return undefined;
}

function checkValue(value: unknown, maxItems: number, depth: number): string | undefined {
  if (depth > MAX_VALUE_DEPTH) return `nests deeper than ${MAX_VALUE_DEPTH} levels`;
  if (Array.isArray(value)) {
    if (value.length > maxItems) return `lists ${value.length} items; at most ${maxItems} are accepted`;
    for (const item of value) {
      const problem = checkValue(item, maxItems, depth + 1);
      if (problem) return problem;
    }
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) {
      const problem = checkValue(item, maxItems, depth + 1);
      if (problem) return problem;
    }
  }
  return undefined;
}

function checkLiteral(value: ValueNode, maxItems: number, depth: number): string | undefined {
  if (depth > MAX_VALUE_DEPTH) return `nests deeper than ${MAX_VALUE_DEPTH} levels`;
  if (value.kind === Kind.LIST) {
    if (value.values.length > maxItems) return `lists ${value.values.length} items; at most ${maxItems} are accepted`;
    for (const item of value.values) {
      const problem = checkLiteral(item, maxItems, depth + 1);
      if (problem) return problem;
    }
  } else if (value.kind === Kind.OBJECT) {
    for (const field of value.fields) {
      const problem = checkLiteral(field.value, maxItems, depth + 1);
      if (problem) return problem;
    }
  }
  return undefined;
}

function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/**
 * yoga's "POST body sent invalid JSON." put the parser's error in extensions.originalError, with its echo of
 * the body (binary, for a compressed one). The reason goes into the message instead, without the echo.
 */
function rethrowBodyError(error: unknown): never {
  if (error instanceof Error && error.message === 'POST body sent invalid JSON.') {
    const original = (error as GraphQLError).extensions?.['originalError'] as { message?: unknown } | undefined;
    const message = typeof original?.message === 'string' ? original.message : '';
    throw new GraphQLError(invalidJsonMessage('the POST body', message), {
      extensions: { http: { status: 400 }, code: 'BAD_REQUEST' satisfies ErrorCode },
    });
  }
  throw error;
}

/** Why `operationName` is not a name (the single-connection stream asks too: sse/transport.ts). */
export function operationNameProblem(operationName: unknown): string | undefined {
  if (operationName == null || typeof operationName === 'string') return undefined;
  const type = Array.isArray(operationName) ? 'array' : typeof operationName;
  return `operationName: must be a string or null, but ${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type} was given`;
}
