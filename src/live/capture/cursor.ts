import { UserInputError } from '../../errors.js';
import { openCursor, sealCursor } from '../cursor-envelope.js';
import { CURSOR_EXPIRED } from '../stream-cursor.js';
import { LAST_EVENT_ID_ADVICE } from '../subscribe-args.js';
import { isStampText, type ChangePosition } from './position.js';

/**
 * Cursors of the exact change stream (tripsAdded, tripChanges and
 * TripConnection.streamCursor share them): a position (position.ts) plus the
 * identity of the stream, opaque to clients (base64url of a small JSON array).
 *
 * Version 2 (bump it whenever a gateway of the version before could misread the new form: a later version's
 * cursor is refused with CURSOR_EXPIRED, where an unknown form can only be called invalid). Version 1 cursors (and trips connection cursors, which
 * tripsAdded used to accept) were ids: they cannot say which changes of
 * transactions that committed out of id order a client has seen, so they get
 * CURSOR_EXPIRED with the way to recover.
 */
const KIND = 'stream';
const VERSION = 2;
const MAX_LENGTH = 16_384;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export const RECOVER_HINT =
  're-read the rows you need with the trips query, selecting streamCursor, and subscribe with after: <that streamCursor>';

export function encodeChangeCursor(stream: string, position: ChangePosition): string {
  const parts: unknown[] =
    position.split === null && position.low === position.high
      ? [KIND, VERSION, stream, position.low]
      : [KIND, VERSION, stream, position.low, position.high, position.split?.toString() ?? null];
  return sealCursor(parts);
}

export function decodeChangeCursor(argument: string, cursor: string, stream: string): ChangePosition {
  const malformed = () =>
    new UserInputError(
      argument,
      argument === 'Last-Event-ID'
        ? `is not a valid stream cursor; ${LAST_EVENT_ID_ADVICE}`
        : 'is not a valid stream cursor; pass the cursor of the last batch received (or a trips streamCursor), ' +
            'or omit it to start now',
    );
  const parsed = openCursor(cursor, MAX_LENGTH);
  if (parsed === undefined) throw malformed();
  if (parsed[0] === 'tripsAdded' || (parsed[0] === KIND && typeof parsed[1] === 'number' && parsed[1] < VERSION)) {
    throw new UserInputError(
      argument,
      `this cursor is from an older format (a key position, which cannot tell late commits apart); ${RECOVER_HINT}`,
      CURSOR_EXPIRED,
    );
  }
  if (parsed[0] === KIND && typeof parsed[1] === 'number' && parsed[1] > VERSION) {
    // A gateway of a later version issued it, and this one was deployed after it (a rollback): "not a valid
    // cursor" sent clients that recover from CURSOR_EXPIRED into retrying it, or into starting over, losing rows.
    throw new UserInputError(
      argument,
      `this cursor is from a newer version of the gateway (rolled back since?), which this one cannot read; ${RECOVER_HINT}`,
      CURSOR_EXPIRED,
    );
  }
  if (parsed[0] !== KIND) {
    // A trips connection cursor: it names a row, not a moment of the table.
    if (typeof parsed[0] === 'number' && parsed.length === 3) {
      throw new UserInputError(
        argument,
        `a trips page cursor is not a stream position; ${RECOVER_HINT}`,
        CURSOR_EXPIRED,
      );
    }
    throw malformed();
  }
  const [, version, issuedFor, low, high, split] = parsed;
  if (version !== VERSION || typeof issuedFor !== 'string') throw malformed();
  if (issuedFor !== stream) {
    throw new UserInputError(
      argument,
      `cursor was issued for another stream (a different synced table) and cannot resume this one; ${RECOVER_HINT}`,
      CURSOR_EXPIRED,
    );
  }
  if (typeof low !== 'string' || !isStampText(low)) throw malformed();
  if (parsed.length === 4) return { low, high: low, split: null };
  if (parsed.length !== 6 || typeof high !== 'string' || !isStampText(high)) throw malformed();
  if (split === null) return { low, high, split: null };
  if (typeof split !== 'string' || !/^-?\d{1,19}$/.test(split)) throw malformed();
  const key = BigInt(split);
  // A trip id is a bigint: a split past its range would be refused by the feed's shared statement.
  if (key < INT64_MIN || key > INT64_MAX) throw malformed();
  return { low, high, split: key };
}
