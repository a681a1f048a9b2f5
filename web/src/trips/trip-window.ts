/**
 * The rows the grid shows: the pages loaded so far (in the table's order, as
 * trips(orderBy:) returns them) plus live changes that fall inside that
 * window. A live row that sorts after the last loaded row is left
 * to the page that will bring it when the user scrolls there, so a row is
 * never shown twice, and scrolling never skips one.
 *
 * A page is read when it is asked for, and the stream may deliver changes made
 * after that read before the page arrives. So the changes delivered while a
 * page is on its way are applied again on top of it: each carries the row's
 * whole state after it (or its deletion), so applying one the page already
 * reflects changes nothing, and one it does not reflect is not lost.
 */
import type { TripFieldsFragment } from '../gql/graphql.js';
import type { TripChange } from '../live/trip-change.js';
import type { ShownTrip } from '../unsent-values.js';
import { compareTripsBy, DEFAULT_ORDER, type SortKey } from './ordering.js';

export type TripRow = ShownTrip & { fresh?: number };

export class TripWindow {
  private readonly rows = new Map<string, TripRow>();
  private boundary: TripFieldsFragment | null = null;
  private sorted: TripRow[] | null = [];
  private readonly compare: (a: TripFieldsFragment, b: TripFieldsFragment) => number;
  /** The latest change of each trip delivered since the page on its way was asked for (null: none asked). */
  private sinceAsked: Map<string, TripChange> | null = null;
  hasNextPage = true;
  endCursor: string | null = null;
  /** totalCount of the first page, moved by live inserts and deletes. */
  totalCount: number | null = null;
  /** Rows the pages brought (the reader asked for them by scrolling). */
  private pageRows = 0;

  /** `order`: the one the pages are loaded in (the gateway's order for it: see ordering.ts). */
  constructor(order: readonly SortKey[] = DEFAULT_ORDER) {
    this.compare = compareTripsBy(order);
  }

  get size(): number {
    return this.rows.size;
  }

  /**
   * How many rows the window holds beyond what its pages brought: the live inserts it kept. A tab left open
   * kept every one (2,221 rows and 6 MB more after ten minutes of a busy pipeline, without end); useTrips reads
   * the first page again past a bound.
   */
  get liveSurplus(): number {
    return this.rows.size - this.pageRows;
  }

  /** Rows the pages brought: more than one page means the reader scrolled. */
  get pagedRows(): number {
    return this.pageRows;
  }

  list(): TripRow[] {
    this.sorted ??= [...this.rows.values()].sort(this.compare);
    return this.sorted;
  }

  /** Called as a page is asked for: the changes delivered from now on may be newer than what it brings. */
  pageAsked(): void {
    this.sinceAsked = new Map();
  }

  addPage(
    nodes: readonly ShownTrip[],
    pageInfo: { hasNextPage: boolean; endCursor?: string | null },
    totalCount?: number,
  ): void {
    for (const node of nodes) this.rows.set(node.tripId, { ...node });
    this.pageRows += nodes.length;
    if (nodes.length > 0) this.boundary = nodes[nodes.length - 1]!;
    this.hasNextPage = pageInfo.hasNextPage;
    this.endCursor = pageInfo.endCursor ?? this.endCursor;
    if (totalCount !== undefined && this.totalCount === null) this.totalCount = totalCount;
    if (this.sinceAsked) for (const change of this.sinceAsked.values()) this.place(change);
    this.sinceAsked = null;
    this.sorted = null;
  }

  /** Applies live changes; returns the ids that were added or changed in view (to highlight). */
  apply(changes: readonly TripChange[], now = Date.now()): string[] {
    const touched: string[] = [];
    for (const change of changes) {
      // The stream starts at the first page's position, so each insert or delete it brings is one the first
      // page's totalCount did not see, whether or not a later page has loaded the row meanwhile.
      if (this.totalCount !== null) {
        if (change.kind === 'INSERT') this.totalCount += 1;
        else if (change.kind === 'DELETE') this.totalCount -= 1;
      }
      this.sinceAsked?.set(change.tripId, change);
      if (this.place(change, now)) touched.push(change.tripId);
    }
    this.sorted = null;
    return touched;
  }

  /** Puts a trip's state after `change` in the window, or leaves it to a later page; true when in view. */
  private place(change: TripChange, fresh?: number): boolean {
    if (change.kind === 'DELETE' || change.trip === null) {
      this.rows.delete(change.tripId);
      return false;
    }
    if (this.inWindow(change.trip)) {
      const shown = this.rows.get(change.tripId);
      this.rows.set(change.tripId, { ...change.trip, fresh: fresh ?? shown?.fresh });
      return true;
    }
    // Changed so that it now sorts past the loaded pages: the page that covers it will show it.
    this.rows.delete(change.tripId);
    return false;
  }

  private inWindow(trip: TripFieldsFragment): boolean {
    if (!this.hasNextPage || this.boundary === null) return true;
    return this.compare(trip, this.boundary) <= 0;
  }
}
