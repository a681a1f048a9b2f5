import type { LimitsConfig } from '../config/env.js';
import type { Db } from '../db/database.js';
import { UserInputError } from '../errors.js';
import { cursorEncoder, decodeCursor } from './cursor.js';
import type { TripFilter } from './filter.js';
import { parseTripFilter } from './parse-filter.js';
import { resolveOrdering, reverse, type TripOrderBy } from './ordering.js';
import {
  countTrips,
  cursorValuesOf,
  existsAtOrBefore,
  findTripPage,
  type StreamRead,
  type TripPageRow,
} from './queries.js';
import type { Trip } from './trip.js';

export interface TripConnectionArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
  filter?: TripFilter | null;
  orderBy?: readonly TripOrderBy[] | null;
}

/**
 * The pieces of a Relay connection. Anything that costs a statement of its own
 * (totalCount, the page flag opposite to the direction of travel) is a thunk,
 * so it runs only when the query selects it.
 */
export interface TripConnection {
  edges: { cursor: string; node: Trip }[];
  pageInfo: {
    hasNextPage: () => Promise<boolean>;
    hasPreviousPage: () => Promise<boolean>;
    startCursor: string | null;
    endCursor: string | null;
  };
  totalCount: () => Promise<string>;
  /** The read's position, when asked for (streamCursor); null otherwise. */
  streamRead: StreamRead | null;
}

/**
 * An edge makes its cursor only when read: most clients select just
 * pageInfo.endCursor, and encoding a cursor for each of 100 rows was a
 * noticeable part of a page's CPU time.
 */
class TripEdge {
  constructor(
    readonly node: TripPageRow,
    private readonly cursorOf: (row: TripPageRow) => string,
  ) {}

  get cursor(): string {
    return this.cursorOf(this.node);
  }
}

export const DEFAULT_ORDER_BY: readonly TripOrderBy[] = ['PICKUP_AT_DESC'];

export async function loadTripConnection(
  db: Db,
  args: TripConnectionArgs,
  limits: LimitsConfig,
  /** Read the page in a snapshot that is also reported (TripConnection.streamCursor). */
  options: {
    /**
     * Reads the stream position in the page's own REPEATABLE READ transaction (TripConnection.streamCursor),
     * as the live mechanism in use defines it (live-trips.ts).
     */
    streamRead?: ((trx: Db) => Promise<StreamRead>) | undefined;
    /** Cancels the statements when it aborts (the request's: db/cancellable-driver.ts). */
    signal?: AbortSignal | undefined;
  } = {},
): Promise<TripConnection> {
  const { limit, direction } = pageSize(args, limits);
  const keys = resolveOrdering(args.orderBy ?? DEFAULT_ORDER_BY);
  const after = args.after != null ? decodeCursor('after', args.after, keys) : undefined;
  const before = args.before != null ? decodeCursor('before', args.before, keys) : undefined;
  // Parsed once: the page, totalCount and the opposite page flag share it (and its compiled SQL).
  const filter = parseTripFilter(args.filter);
  const request = { filter, keys, after, before, limit, direction };
  let streamRead: TripConnection['streamRead'] = null;
  let page;
  if (options.streamRead) {
    // One REPEATABLE READ snapshot for the position and the page: a stream resumed from that
    // position then brings exactly the changes the page does not show.
    ({ page, streamRead } = await db
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        const read = await options.streamRead!(trx);
        return { page: await findTripPage(trx, request, options.signal), streamRead: read };
      }));
  } else {
    page = await findTripPage(db, request, options.signal);
  }
  const encode = cursorEncoder(keys);
  const cursorOf = (row: TripPageRow) => encode(cursorValuesOf(row, keys.length));
  const edges = page.rows.map((row) => new TripEdge(row, cursorOf));

  // Per the Relay spec, the flag against the direction of travel is true only
  // when rows really lie beyond the opposite cursor; we check instead of guessing.
  const hasMore = async () => page.hasMore;
  const beyond = (cursor: typeof after, forward: boolean) => async () =>
    cursor ? existsAtOrBefore(db, filter, forward ? keys : reverse(keys), cursor, options.signal) : false;
  let total: Promise<string> | undefined;
  return {
    edges,
    pageInfo: {
      hasNextPage: direction === 'forward' ? hasMore : beyond(before, false),
      hasPreviousPage: direction === 'backward' ? hasMore : beyond(after, true),
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: () => (total ??= countTrips(db, filter, options.signal)),
    streamRead,
  };
}

function pageSize(
  args: TripConnectionArgs,
  limits: LimitsConfig,
): { limit: number; direction: 'forward' | 'backward' } {
  const { first, last } = args;
  if (first != null && last != null) {
    throw new UserInputError(
      'first',
      'cannot be combined with last; page forward with first/after or backward with last/before',
    );
  }
  for (const [name, value] of [
    ['first', first],
    ['last', last],
  ] as const) {
    if (value == null) continue;
    if (value < 0) throw new UserInputError(name, `must not be negative, got ${value}`);
    if (value > limits.maxPageSize) {
      throw new UserInputError(
        name,
        `${value} exceeds the maximum page size of ${limits.maxPageSize}; page through the results with the cursors instead`,
      );
    }
  }
  if (last != null) return { limit: last, direction: 'backward' };
  if (first != null) return { limit: first, direction: 'forward' };
  // Only `before` given: the page ending at that cursor is what the caller means.
  return {
    limit: limits.defaultPageSize,
    direction: args.before != null && args.after == null ? 'backward' : 'forward',
  };
}
