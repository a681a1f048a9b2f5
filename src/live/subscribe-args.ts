import type { TripFilter } from '../trips/filter.js';

/** The input a resume cursor came from: the `after` argument, or a reconnecting EventSource's `Last-Event-ID`. */
export type AfterSource = 'after' | 'Last-Event-ID';

/**
 * The way out for a client whose `Last-Event-ID` is refused: its EventSource would send the same id again on
 * every reconnect, and a page cannot leave the header out.
 */
export const LAST_EVENT_ID_ADVICE =
  'an EventSource sends back the id of the last event it received: close it, and open a new one with ' +
  'after: <a cursor> to resume, or without after to start now';

/** What a tripsAdded or tripChanges subscription asks for, as its resolver hands it to either feed. */
export interface SubscribeArgs {
  filter?: TripFilter | null;
  after?: string | null;
  /** Where `after` came from, named in the errors about it (default: the argument). */
  afterFrom?: AfterSource;
}
