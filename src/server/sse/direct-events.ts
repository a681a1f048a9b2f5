import type { ExecutionResult } from 'graphql';
import type { DirectlyDeliverable } from '../../live/shared-events.js';

/**
 * What an SSE response needs to send a subscription's shared events itself:
 * the source (to be handed events directly) and the result of an event for
 * this subscription's operation, when it is already executed, without errors,
 * and therefore the same bytes for every subscriber who shares it.
 *
 * Why around the chain at all: with ten thousand subscribers, each shared
 * event used to pass through four async-iterator layers per subscriber
 * (mapEvents, envelop's result hooks, yoga's, the response stream) before one
 * socket write; that bookkeeping, its promises and their garbage cost more
 * CPU than the write, and the fan-out is CPU-bound. The hooks it skips act on
 * results with errors only (error masking), which never go this way.
 */
export interface DirectEvents {
  source: DirectlyDeliverable;
  readyResult(event: object): ExecutionResult | undefined;
}

/** Registered by the subscribe step, claimed by the response built for the same request. */
const byRequest = new WeakMap<Request, DirectEvents>();

export function offerDirectEvents(request: Request, events: DirectEvents): void {
  byRequest.set(request, events);
}

export function claimDirectEvents(request: Request): DirectEvents | undefined {
  const events = byRequest.get(request);
  byRequest.delete(request);
  return events;
}
