import type { GraphQLError } from 'graphql';
import { isShareable, type DirectDelivery, type DirectlyDeliverable } from './shared-events.js';

/**
 * The last event of a stream the server ends (too slow, shutting down). The
 * field resolver throws its error, so the client receives an error event and
 * then `complete`, never a silently closed or hung stream.
 */
export class TripStreamTermination {
  constructor(readonly error: GraphQLError) {}
}

/**
 * The reading side of a subscription, shared by both kinds of subscriber
 * (subscriber.ts for the fallback feed, change-subscriber.ts for the exact
 * one): a queue the feed pushes into synchronously, so a slow client never
 * slows the feed or anyone else, read by graphql-js / yoga through the
 * async-iterator protocol. A plain iterator rather than an async generator:
 * a generator's return() waits for a pending next(), which never settles on
 * an idle stream, and the subscription would outlive its client.
 *
 * Subclasses hold the queue itself: takeQueued() gives its next event (or
 * the stream's first, empty one), clearQueued() drops it.
 */
export abstract class StreamQueue<E extends object>
  implements AsyncIterableIterator<E | TripStreamTermination>, DirectlyDeliverable
{
  abstract state: string;
  private termination: TripStreamTermination | undefined;
  private finished = false;
  private waiter: ((result: IteratorResult<E | TripStreamTermination>) => void) | undefined;
  private direct: DirectDelivery | undefined;

  /** The next event to send, if any. */
  protected abstract takeQueued(): E | undefined;
  protected abstract clearQueued(): void;
  /** Called once, when the subscriber stops needing the feed (client gone, cut off, shut down). */
  protected abstract released(): void;
  /** An event went to the client around the iterator chain (deliverDirectly). */
  protected abstract deliveredDirectly(): void;

  /** Ends the stream from the server side with a terminal error event. */
  terminate(error: GraphQLError): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.clearQueued();
    this.termination = new TripStreamTermination(error);
    this.released();
    this.notify();
  }

  // ---- read by graphql-js ----

  next(): Promise<IteratorResult<E | TripStreamTermination>> {
    if (this.finished) return Promise.resolve({ done: true, value: undefined });
    const event = this.take();
    if (event) return Promise.resolve({ done: false, value: event });
    return new Promise((resolve) => (this.waiter = resolve));
  }

  return(): Promise<IteratorResult<E | TripStreamTermination>> {
    this.finish();
    return Promise.resolve({ done: true, value: undefined });
  }

  throw(): Promise<IteratorResult<E | TripStreamTermination>> {
    return this.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /**
   * While the reader waits (next() pending, so everything before has been
   * read), a shared batch is offered to `delivery` first; what it takes never
   * goes through the iterator. Order holds: only an event at the head of an
   * empty queue can go this way, and only while no read is in flight.
   */
  deliverDirectly(delivery: DirectDelivery | undefined): void {
    this.direct = delivery;
  }

  /** Hands queued events to a waiting reader (call after queueing). */
  protected notify(): void {
    while (this.waiter) {
      const event = this.take();
      if (!event) return;
      if (this.direct && isShareable(event) && this.direct(event)) {
        this.deliveredDirectly();
        continue;
      }
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter({ done: false, value: event });
    }
  }

  private finish(): void {
    this.direct = undefined;
    const wasEnded = this.state === 'ended';
    this.state = 'ended';
    this.finished = true;
    this.termination = undefined;
    this.clearQueued();
    if (!wasEnded) this.released();
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.({ done: true, value: undefined });
  }

  private take(): E | TripStreamTermination | undefined {
    if (this.termination) {
      const termination = this.termination;
      this.termination = undefined;
      this.finished = true;
      return termination;
    }
    return this.takeQueued();
  }
}
