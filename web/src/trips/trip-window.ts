/**
 * The rows the grid shows: the pages loaded so far (in the table's order, as
 * trips(orderBy:) returns them) plus live changes that fall inside that
 * window. A live row that sorts after the last loaded row is left
 * to the page that will bring it when the user scrolls there, so a row is
 * never shown twice, and scrolling never skips one.
 */
import type { TripFieldsFragment } from '../gql/graphql.js';
import type { TripChange } from '../live/trip-change.js';
import { compareTripsBy, DEFAULT_ORDER, type SortKey } from './ordering.js';

export type TripRow = TripFieldsFragment & { fresh?: number };

export class TripWindow {
  private readonly rows = new Map<string, TripRow>();
  private boundary: TripFieldsFragment | null = null;
  private sorted: TripRow[] | null = [];
  private readonly compare: (a: TripFieldsFragment, b: TripFieldsFragment) => number;
  hasNextPage = true;
  endCursor: string | null = null;
  /** totalCount of the first page, moved by live inserts and deletes. */
  totalCount: number | null = null;

  /** `order`: the one the pages are loaded in (the gateway's order for it: see ordering.ts). */
  constructor(order: readonly SortKey[] = DEFAULT_ORDER) {
    this.compare = compareTripsBy(order);
  }

  get size(): number {
    return this.rows.size;
  }

  list(): TripRow[] {
    this.sorted ??= [...this.rows.values()].sort(this.compare);
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
    return this.compare(trip, this.boundary) <= 0;
  }
}
