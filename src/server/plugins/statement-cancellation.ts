import type { Plugin } from 'graphql-yoga';
import type { GatewayContext } from '../../schema/context.js';

/**
 * A query's or mutation's statements stop when its client goes away
 * (db/cancellable-driver.ts): their signal is the request's. Only through
 * `onExecute`: a subscription's events are resolved once for all the
 * subscribers that share them, with the first one's context
 * (shared-subscription-results.ts), so one subscriber leaving must not stop
 * the others' statements; subscriptions get no signal.
 */
export function useStatementCancellation(): Plugin<GatewayContext> {
  return {
    onExecute({ args, extendContext }) {
      extendContext({ statementSignal: args.contextValue.request.signal });
    },
  };
}
