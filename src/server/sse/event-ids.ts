import type { AfterSource } from '../../live/subscribe-args.js';
import type { ExecutionResult } from 'graphql';
import { UserInputError } from '../../errors.js';
import { RECOVER_HINT } from '../../live/capture/cursor.js';
import { CURSOR_EXPIRED } from '../../live/stream-cursor.js';

/**
 * The SSE `id:` of a subscription event: its stream cursor. A browser's
 * EventSource remembers the last id it received and, when the connection
 * drops, reconnects by itself with a `Last-Event-ID` header; the subscription
 * then resumes after that cursor (see resumeAfter), so a page with no GraphQL
 * library gets every row exactly once across drops.
 *
 * Any event (a TripBatch, a TripChangeBatch) with a string `cursor` names its
 * position; the id is carried beside the result, whatever fields the client
 * selected. An error that says where to resume (extensions.cursor, e.g.
 * SUBSCRIBER_TOO_SLOW) gives that position instead.
 */
const ids = new WeakMap<object, string>();

/**
 * The longest id sent as it is. An EventSource sends it back as a request header when it reconnects: 8 KB leaves
 * room for a proxy's own headers within Node's default 16 KB request-header limit (http.maxHeaderSize). A
 * change cursor lists the transactions in progress in the database when it was taken, so it reaches this only
 * with about a thousand of them open (170 make it about 1,200 characters).
 */
export const LONGEST_EVENT_ID = 8192;

/**
 * The id of an event whose cursor is longer than LONGEST_EVENT_ID. Not a cursor ('.' is outside base64url): an
 * EventSource that reconnects with it gets CURSOR_EXPIRED saying why (resumeAfter). Sending no id instead made it
 * resume from its previous id, delivering rows twice, or from none, at "now", losing rows.
 */
export const UNCARRIED_POSITION_ID = 'position-too-long.';

/** Only what a single SSE field line can carry (no line breaks, no NUL: the spec drops ids with NUL). */
const FIELD_LINE = /^[^\r\n\0]+$/;

/** The SSE id that stands for `cursor`: itself, or UNCARRIED_POSITION_ID when it is too long to send back. */
export function eventIdFor(cursor: string): string | undefined {
  if (!FIELD_LINE.test(cursor)) return undefined;
  return cursor.length > LONGEST_EVENT_ID ? UNCARRIED_POSITION_ID : cursor;
}

export function recordEventId(result: ExecutionResult, event: unknown): ExecutionResult {
  const cursor = (event as { cursor?: unknown } | null)?.cursor;
  const id = typeof cursor === 'string' ? eventIdFor(cursor) : undefined;
  if (id !== undefined) ids.set(result, id);
  return result;
}

export function eventIdOf(result: ExecutionResult): string | undefined {
  const id = ids.get(result);
  if (id !== undefined) return id;
  for (const error of result.errors ?? []) {
    const cursor = error.extensions?.cursor;
    const errorId = typeof cursor === 'string' ? eventIdFor(cursor) : undefined;
    if (errorId !== undefined) return errorId;
  }
  return undefined;
}

/**
 * Where a subscription starts: after the Last-Event-ID an EventSource sends
 * when it reconnects, which is newer than the `after` still written in the
 * URL it reconnects to; otherwise `after` as given. `afterFrom` names the
 * input in errors: a client that passed no `after` must not be told its
 * `after` is at fault.
 */
export function resumeAfter(
  request: Request | undefined,
  after: string | null | undefined,
): { after: string | null | undefined; afterFrom: AfterSource } {
  const lastEventId = request?.headers.get('last-event-id')?.trim();
  if (lastEventId === UNCARRIED_POSITION_ID) {
    throw new UserInputError(
      'Last-Event-ID',
      `the stream's position at the last event received was too long to send as an SSE id (over ` +
        `${LONGEST_EVENT_ID} characters: the database had very many transactions open), so this stream cannot ` +
        `resume exactly from it; close this EventSource, and ${RECOVER_HINT}`,
      CURSOR_EXPIRED,
    );
  }
  return lastEventId ? { after: lastEventId, afterFrom: 'Last-Event-ID' } : { after, afterFrom: 'after' };
}
