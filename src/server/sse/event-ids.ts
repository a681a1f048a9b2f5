import type { AfterSource } from '../../live/subscribe-args.js';
import type { ExecutionResult } from 'graphql';

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

/** Only what a single SSE field line can carry (no line breaks, no NUL: the spec drops ids with NUL). */
const SAFE_ID = /^[^\r\n\0]{1,1024}$/;

export function recordEventId(result: ExecutionResult, event: unknown): ExecutionResult {
  const cursor = (event as { cursor?: unknown } | null)?.cursor;
  if (typeof cursor === 'string' && SAFE_ID.test(cursor)) ids.set(result, cursor);
  return result;
}

export function eventIdOf(result: ExecutionResult): string | undefined {
  const id = ids.get(result);
  if (id !== undefined) return id;
  for (const error of result.errors ?? []) {
    const cursor = error.extensions?.cursor;
    if (typeof cursor === 'string' && SAFE_ID.test(cursor)) return cursor;
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
  return lastEventId ? { after: lastEventId, afterFrom: 'Last-Event-ID' } : { after, afterFrom: 'after' };
}
