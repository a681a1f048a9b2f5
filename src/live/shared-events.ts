/**
 * Subscription events that every subscriber of the same operation may share
 * one execution result for (see server/shared-subscription-results.ts). The
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
