/**
 * The envelope both kinds of stream cursor share (capture/cursor.ts for the
 * exact stream, stream-cursor.ts for the key high-water fallback): base64url
 * of a small JSON array whose first items name the kind and format version.
 * Opaque to clients; what the array holds is each kind's own business.
 */
export function sealCursor(parts: readonly unknown[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

/** The array inside `cursor`; undefined when it is not an envelope at all (the caller says "malformed"). */
export function openCursor(cursor: string, maxLength: number): unknown[] | undefined {
  if (cursor.length === 0 || cursor.length > maxLength || !/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  return Array.isArray(parsed) ? parsed : undefined;
}
