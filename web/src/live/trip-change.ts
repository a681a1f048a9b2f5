/**
 * One change the live stream delivers, as the page holds it. Its own file, free of the stream's client, so the
 * table's window (and the gateway's tests of it) can use it without loading graphql-sse or the page's config.
 */
// The extension lets the gateway's tests (Node resolution) import this file; a type import, so Vite never sees it.
import type { ShownTrip } from '../unsent-values.js';

export type TripChangeKind = 'INSERT' | 'UPDATE' | 'DELETE';

export interface TripChange {
  kind: TripChangeKind;
  tripId: string;
  /** The row after the change; null for DELETE. */
  trip: ShownTrip | null;
}
