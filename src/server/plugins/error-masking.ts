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
export function useErrorMasking(): Plugin<GatewayContext> {
  const mask = (context: GatewayContext, error: GraphQLError): GraphQLError => {
    const original = error.originalError;
    if (!original || original instanceof GraphQLError) return withVariableCode(error);
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
