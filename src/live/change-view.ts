import type { TripRow } from '../db/tables.js';
import type { MatchableTripRow, TripMatcher } from '../trips/match-filter.js';
import type { NetChange } from './capture/queries.js';
import type { StreamKind, TripChangeEvent } from './change-subscriber.js';

/**
 * A read's net changes as one subscriber's view (docs/subscriptions.md,
 * "Filtered streams"): a row that enters the filter is an INSERT, one that
 * leaves it a DELETE, a change inside it an UPDATE. tripsAdded carries the
 * rows that appeared (inserted, or deleted and inserted again) inside it.
 */
export function viewOf(
  kind: StreamKind,
  matches: TripMatcher | null,
  changes: readonly NetChange[],
): { items: (TripRow | TripChangeEvent)[]; ids: bigint[] } {
  const test = (row: MatchableTripRow | null) => row !== null && (matches === null || matches(row));
  const items: (TripRow | TripChangeEvent)[] = [];
  const ids: bigint[] = [];
  for (const change of changes) {
    const after = test(change.after);
    if (kind === 'added') {
      if (after && (change.before === null || change.reinserted)) {
        items.push(change.after!);
        ids.push(BigInt(change.id));
      }
      continue;
    }
    const before = test(change.before);
    if (!before && !after) continue;
    const event: TripChangeEvent = !before
      ? { kind: 'INSERT', tripId: change.id, trip: change.after }
      : !after
        ? { kind: 'DELETE', tripId: change.id, trip: null }
        : { kind: 'UPDATE', tripId: change.id, trip: change.after };
    items.push(event);
    ids.push(BigInt(change.id));
  }
  return { items, ids };
}
