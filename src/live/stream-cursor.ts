import { createHash } from 'node:crypto';
import { UserInputError, type ErrorCode } from '../errors.js';
import { openCursor, sealCursor } from './cursor-envelope.js';
import { decodeCursor } from '../trips/cursor.js';
import { resolveOrdering } from '../trips/ordering.js';
import type { FeedPosition } from './position.js';
import { LAST_EVENT_ID_ADVICE } from './subscribe-args.js';

/**
 * tripsAdded cursors: the stream position (every row with a greater id comes
 * after it) plus the identity of the stream, opaque to clients (base64url of a
 * small JSON array, like the trips connection's cursors).
 *
 * When is a cursor "too old to resume"? Ids are the keyset, and a snapshot
 * refresh keeps them, so neither time nor deletes nor a refresh invalidate a
 * position: a cursor from an hour or a month ago resumes exactly (the catch-up
 * is paged and paced by the client, so a long gap costs no more than paging).
 * A cursor this gateway can no longer honour is one written in a retired format
 * version, or one issued for another stream (a different synced table). Both
 * get CURSOR_EXPIRED. A cursor ahead of this process's feed is accepted: another
 * replica may simply have polled sooner, and rows up to it are skipped.
 */
const KIND = 'tripsAdded';
/** Bumped when the format changes; cursors of lower versions are then "too old", not "malformed". */
const VERSION = 1;

export const CURSOR_EXPIRED = 'CURSOR_EXPIRED' satisfies ErrorCode;

/** Identifies the stream inside cursors without revealing the configured table name. */
export function streamIdentity(schema: string, table: string): string {
  return createHash('sha256').update(`${schema}\0${table}`).digest('base64url').slice(0, 10);
}

export function encodeStreamCursor(stream: string, position: FeedPosition): string {
  return sealCursor([KIND, VERSION, stream, position === null ? null : position.toString()]);
}

const ID_ASC = resolveOrdering(['TRIP_ID_ASC']);

/**
 * Also accepts a trips(orderBy: [TRIP_ID_ASC]) cursor: a client can page
 * through history with the query, then stream from its last cursor with no gap.
 */
export function decodeStreamCursor(argument: string, cursor: string, stream: string): FeedPosition {
  const malformed = () =>
    new UserInputError(
      argument,
      argument === 'Last-Event-ID'
        ? `is not a valid tripsAdded cursor; ${LAST_EVENT_ID_ADVICE}`
        : 'is not a valid tripsAdded cursor; pass the cursor of the last TripBatch received ' +
            '(or a trips(orderBy: [TRIP_ID_ASC]) cursor), or omit it to start at the newest row',
    );
  const parsed = openCursor(cursor, 512);
  if (parsed === undefined) throw malformed();
  if (parsed[0] !== KIND) {
    try {
      const [id] = decodeCursor(argument, cursor, ID_ASC);
      return BigInt(id!);
    } catch {
      throw malformed();
    }
  }
  const [, version, issuedFor, position] = parsed;
  if (typeof version === 'number' && Number.isInteger(version) && version < VERSION) {
    throw new UserInputError(
      argument,
      `cursor format version ${version} is too old to resume; subscribe without after to start at the newest row`,
      CURSOR_EXPIRED,
    );
  }
  if (parsed.length !== 4 || version !== VERSION || typeof issuedFor !== 'string') throw malformed();
  if (issuedFor !== stream) {
    throw new UserInputError(
      argument,
      'cursor was issued for another stream (a different synced table) and cannot resume this one; ' +
        'subscribe without after to start at the newest row',
      CURSOR_EXPIRED,
    );
  }
  if (position === null) return null;
  if (typeof position !== 'string' || !/^-?\d{1,19}$/.test(position)) throw malformed();
  const value = BigInt(position);
  if (value < -(2n ** 63n) || value >= 2n ** 63n) throw malformed();
  return value;
}
