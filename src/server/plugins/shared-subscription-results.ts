import {
  createSourceEventStream,
  execute,
  GraphQLError,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
} from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { isDirectlyDeliverable, isShareable } from '../../live/shared-events.js';
import type { GatewayContext } from '../../schema/context.js';
import { offerDirectEvents } from '../sse/direct-events.js';
import { recordEventId } from '../sse/event-ids.js';
import { type ErrorCode } from '../../errors.js';

/**
 * Executes (and serializes) a shareable subscription event once per distinct
 * (document, operation name, variables) instead of once per subscriber. The
 * live feed hands one TripBatch object to all subscribers with the same
 * filter; with ten thousand of them that is one execution per sync instead of
 * ten thousand (and one zone lookup instead of one per subscriber).
 *
 * Only for data that does not depend on who asks: nothing under
 * Subscription.tripsAdded reads the caller's identity. A shared result with
 * errors is still masked per subscriber (server/plugins/error-masking.ts runs on each
 * subscriber's results), so every client sees its own request id.
 *
 * A shared result that executed synchronously is ready at once: an SSE
 * response may then send it during the fan-out itself (../sse/direct-events.ts).
 */
class SharedResult {
  readonly promise: Promise<ExecutionResult>;
  /** Set once executed, if without errors. */
  ready: ExecutionResult | undefined;

  constructor(execution: () => ExecutionResult | Promise<ExecutionResult>) {
    let outcome: ExecutionResult | Promise<ExecutionResult>;
    try {
      outcome = execution();
    } catch (error) {
      outcome = Promise.reject(error instanceof Error ? error : new Error(String(error), { cause: error }));
    }
    this.promise =
      outcome instanceof Promise
        ? outcome.then((result) => this.settle(result))
        : Promise.resolve(this.settle(outcome));
    // Whoever reads the event through the iterator chain awaits this; a
    // direct reader only looks at `ready`, and must not leave it unhandled.
    this.promise.catch(() => {});
  }

  private settle(result: ExecutionResult): ExecutionResult {
    if (result.errors?.length) return result;
    this.ready = withMemoizedStringify(result);
    return this.ready;
  }
}

type Results = WeakMap<DocumentNode, Map<string, SharedResult>>;
const resultsByEvent = new WeakMap<object, Results>();

export function useSharedSubscriptionResults(): Plugin<GatewayContext> {
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args: ExecutionArgs) => {
        const events = await createSourceEventStream(args);
        if (!isAsyncIterable(events)) return { ...events, errors: events.errors?.map(asRequestError) };
        const key = `${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
        const source = events[Symbol.asyncIterator]();
        const request = (args.contextValue as Partial<GatewayContext> | undefined)?.request;
        if (request && isDirectlyDeliverable(source)) {
          offerDirectEvents(request, { source, readyResult: (event) => sharedResult(args, key, event).ready });
        }
        return mapEvents(source, (event) => executeEvent(args, key, event));
      });
    },
  };
}

function executeEvent(args: ExecutionArgs, key: string, event: unknown): Promise<ExecutionResult> {
  if (!isShareable(event)) return (async () => recordEventId(await execute({ ...args, rootValue: event }), event))();
  return sharedResult(args, key, event).promise;
}

function sharedResult(args: ExecutionArgs, key: string, event: object): SharedResult {
  let byDocument = resultsByEvent.get(event);
  if (!byDocument) {
    byDocument = new WeakMap();
    resultsByEvent.set(event, byDocument);
  }
  let byOperation = byDocument.get(args.document);
  if (!byOperation) {
    byOperation = new Map();
    byDocument.set(args.document, byOperation);
  }
  const cached = byOperation.get(key);
  if (cached) return cached;
  const shared = new SharedResult(() => {
    const result = execute({ ...args, rootValue: event });
    return result instanceof Promise ? result.then((done) => recordEventId(done, event)) : recordEventId(result, event);
  });
  byOperation.set(key, shared);
  return shared;
}

/**
 * Errors raised before any resolver ran (variables that do not coerce, no such
 * operation) are the caller's: BAD_USER_INPUT, as yoga's own executor marks them.
 */
function asRequestError(error: GraphQLError): GraphQLError {
  if (error.path || error.extensions.code) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    originalError: error.originalError,
    extensions: { ...error.extensions, code: 'BAD_USER_INPUT' satisfies ErrorCode },
  });
}

/** yoga serializes a result with its `stringify` when present: once for all who share it. */
function withMemoizedStringify(result: ExecutionResult): ExecutionResult {
  let text: string | undefined;
  Object.defineProperty(result, 'stringify', {
    enumerable: false,
    value: (value: ExecutionResult) => (value === result ? (text ??= JSON.stringify(result)) : JSON.stringify(value)),
  });
  return result;
}

/**
 * Like graphql-js' mapAsyncIterator: return() reaches the source at once, even
 * while a next() is pending (the live subscriber settles it), so a client that
 * goes away releases its subscription.
 */
function mapEvents<T>(source: AsyncIterator<unknown>, map: (event: unknown) => Promise<T>): AsyncIterableIterator<T> {
  return {
    async next() {
      const result = await source.next();
      if (result.done) return { done: true, value: undefined };
      return { done: false, value: await map(result.value) };
    },
    async return() {
      await source.return?.();
      return { done: true, value: undefined };
    },
    async throw(error: unknown) {
      await source.return?.();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
