/**
 * The rows the grid shows: the pages loaded so far (newest pickup first, as
 * trips(orderBy: [PICKUP_AT_DESC]) returns them) plus live changes that fall
 * inside that window. A live row that sorts after the last loaded row is left
 * to the page that will bring it when the user scrolls there, so a row is
 * never shown twice, and scrolling never skips one.
 */
import type { TripFieldsFragment } from '../gql/graphql';
import type { TripChange } from '../live/trip-changes';

export type TripRow = TripFieldsFragment & { fresh?: number };

/** PICKUP_AT_DESC with the primary key breaking ties (descending too), NULL pickup first: the gateway's order. */
export function compareTrips(a: TripFieldsFragment, b: TripFieldsFragment): number {
  if (a.pickupAt !== b.pickupAt) {
    if (a.pickupAt === null || a.pickupAt === undefined) return -1;
    if (b.pickupAt === null || b.pickupAt === undefined) return 1;
    const diff = Date.parse(b.pickupAt) - Date.parse(a.pickupAt);
    if (diff !== 0) return diff;
  }
  const ida = BigInt(a.tripId);
  const idb = BigInt(b.tripId);
  return ida === idb ? 0 : ida > idb ? -1 : 1;
}

export class TripWindow {
  private readonly rows = new Map<string, TripRow>();
  private boundary: TripFieldsFragment | null = null;
  private sorted: TripRow[] | null = [];
  hasNextPage = true;
  endCursor: string | null = null;
  /** totalCount of the first page, moved by live inserts and deletes. */
  totalCount: number | null = null;

  get size(): number {
    return this.rows.size;
  }

  list(): TripRow[] {
    this.sorted ??= [...this.rows.values()].sort(compareTrips);
    return this.sorted;
  }

  addPage(
    nodes: readonly TripFieldsFragment[],
    pageInfo: { hasNextPage: boolean; endCursor?: string | null },
    totalCount?: number,
  ): void {
    for (const node of nodes) this.rows.set(node.tripId, { ...node });
    if (nodes.length > 0) this.boundary = nodes[nodes.length - 1]!;
    this.hasNextPage = pageInfo.hasNextPage;
    this.endCursor = pageInfo.endCursor ?? this.endCursor;
    if (totalCount !== undefined && this.totalCount === null) this.totalCount = totalCount;
    this.sorted = null;
  }

  /** Applies live changes; returns the ids that were added or changed in view (to highlight). */
  apply(changes: readonly TripChange[], now = Date.now()): string[] {
    const touched: string[] = [];
    for (const change of changes) {
      const known = this.rows.has(change.tripId);
      if (change.kind === 'DELETE' || change.trip === null) {
        if (this.totalCount !== null) this.totalCount -= 1;
        if (known) this.rows.delete(change.tripId);
        continue;
      }
      if (change.kind === 'INSERT' && !known && this.totalCount !== null) this.totalCount += 1;
      if (this.inWindow(change.trip)) {
        this.rows.set(change.tripId, { ...change.trip, fresh: now });
        touched.push(change.tripId);
      } else if (known) {
        // Changed so that it now sorts past the loaded pages: the page that covers it will show it.
        this.rows.delete(change.tripId);
      }
    }
    this.sorted = null;
    return touched;
  }

  private inWindow(trip: TripFieldsFragment): boolean {
    if (!this.hasNextPage || this.boundary === null) return true;
    return compareTrips(trip, this.boundary) <= 0;
  }
}
