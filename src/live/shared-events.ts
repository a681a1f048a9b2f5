/**
 * Subscription events that every subscriber of the same operation may share
 * one execution result for (see server/plugins/shared-subscription-results.ts). The
 * live feed marks the TripBatch objects it hands, identical, to every
 * subscriber with the same filter.
 */
const shareable = new WeakSet<object>();

export function markShareable<T extends object>(event: T): T {
  shareable.add(event);
  return event;
}

export function isShareable(event: unknown): event is object {
  return typeof event === 'object' && event !== null && shareable.has(event);
}

/**
 * Takes a shareable event straight to its client, around the async-iterator
 * chain (graphql-js, envelop, yoga, the SSE stream), when its bytes are ready
 * and the client's socket has room. Returns false to let the event take the
 * chain instead. See server/sse/direct-events.ts.
 */
export type DirectDelivery = (event: object) => boolean;

/** A subscription source whose shareable events may skip the iterator chain. */
export interface DirectlyDeliverable {
  deliverDirectly(delivery: DirectDelivery | undefined): void;
}

export function isDirectlyDeliverable(source: unknown): source is DirectlyDeliverable {
  return (
    typeof source === 'object' &&
    source !== null &&
    typeof (source as Partial<DirectlyDeliverable>).deliverDirectly === 'function'
  );
}
