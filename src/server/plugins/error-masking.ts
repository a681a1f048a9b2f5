import { GraphQLError } from 'graphql';
import { handleStreamOrSingleExecutionResult, type Plugin } from 'graphql-yoga';
import type { GatewayContext } from '../../schema/context.js';
import { type ErrorCode } from '../../errors.js';
import { withVariableCode } from './validation-arguments.js';

/**
 * Errors the caller caused (GraphQLError: bad arguments, cursors, limits) pass
 * through (a variable graphql-js could not coerce gets its code: withVariableCode). Anything else is a bug or an outage: it is logged with the request
 * id and replaced by a generic error that carries the same id, so a user's bug
 * report can be matched to the log line without leaking internals (SQL, hosts).
 */
/** SQLSTATE numeric_value_out_of_range ("value out of range: overflow"). */
const NUMERIC_OUT_OF_RANGE = '22003';

/** pg-pool's error when no connection frees up within connectionTimeoutMillis (db/pool.ts). */
const POOL_TIMEOUT = 'timeout exceeded when trying to connect';

/** graphql-js' words when a leaf's value cannot be serialized (completeLeafValue). */
const NOT_REPRESENTABLE = /^(Int|Float|String|Boolean|ID) cannot represent /;

export function useErrorMasking(): Plugin<GatewayContext> {
  const mask = (context: GatewayContext, error: GraphQLError): GraphQLError => {
    const original = error.originalError;
    if (!original || original instanceof GraphQLError) return withVariableCode(error);
    // A value the type cannot carry (a double column's NaN or Infinity in a Float): the data's doing, not a bug.
    // graphql-js says so; yoga's executor rethrows it as a plain Error, which read as an internal error (and was
    // logged as one) on a document's first request, while the compiled path said what graphql-js says.
    if (NOT_REPRESENTABLE.test(original.message)) {
      return new GraphQLError(original.message, { nodes: error.nodes, path: error.path });
    }
    // The data's doing too: Postgres computes in double precision and refuses a sum past its range (two fares
    // of 1e308) rather than answer Infinity, which a Float could not carry either.
    if ((original as { code?: unknown }).code === NUMERIC_OUT_OF_RANGE) {
      return new GraphQLError(
        `the answer is beyond what a Float can carry: the database refused to compute it (${original.message})`,
        { nodes: error.nodes, path: error.path },
      );
    }
    // pg-pool's wait for a connection ran out: load, not a bug; a client may retry. Logged, as it means the pool
    // is too small for what is asked of it.
    if (original.message === POOL_TIMEOUT) {
      context.logger.warn('no free database connection in time (PG_POOL_MAX)', {
        requestId: context.requestId,
        path: error.path?.join('.'),
      });
      return new GraphQLError(
        'the database had no free connection in time: every one of PG_POOL_MAX stayed busy while this request waited; retry shortly',
        { nodes: error.nodes, path: error.path, extensions: { code: 'DATABASE_BUSY' satisfies ErrorCode } },
      );
    }
    context.logger.error('resolver failed', {
      requestId: context.requestId,
      path: error.path?.join('.'),
      error: original.message,
      stack: original.stack,
    });
    return new GraphQLError('Internal error; it was logged with this request id.', {
      path: error.path,
      nodes: error.nodes,
      extensions: { code: 'INTERNAL_SERVER_ERROR' satisfies ErrorCode, requestId: context.requestId },
    });
  };
  type DonePayload = Parameters<Parameters<typeof handleStreamOrSingleExecutionResult<GatewayContext>>[1]>[0];
  const onDone = ({ args, result, setResult }: DonePayload) => {
    if (result.errors?.length) {
      setResult({ ...result, errors: result.errors.map((error) => mask(args.contextValue, error)) });
    }
  };
  // The same hooks for every request: the context comes with each payload.
  const handleDone = (payload: Parameters<typeof handleStreamOrSingleExecutionResult<GatewayContext>>[0]) =>
    handleStreamOrSingleExecutionResult(payload, onDone);
  const executeHooks = { onExecuteDone: handleDone };
  const subscribeHooks = { onSubscribeResult: handleDone };
  return {
    onExecute: () => executeHooks,
    onSubscribe: () => subscribeHooks,
  };
}
