import type { TripFilter } from '../trips/filter.js';

/** The input a resume cursor came from: the `after` argument, or a reconnecting EventSource's `Last-Event-ID`. */
export type AfterSource = 'after' | 'Last-Event-ID';

/** What a tripsAdded or tripChanges subscription asks for, as its resolver hands it to either feed. */
export interface SubscribeArgs {
  filter?: TripFilter | null;
  after?: string | null;
  /** Where `after` came from, named in the errors about it (default: the argument). */
  afterFrom?: AfterSource;
}
