/**
 * A position in the synced table's primary-key order: every row with a greater
 * id lies after it. null is the position before every row (an empty table).
 */
export type FeedPosition = bigint | null;

/** a lies strictly after b. */
export function isAfter(a: FeedPosition, b: FeedPosition): boolean {
  if (a === null) return false;
  return b === null || a > b;
}

export function laterOf(a: FeedPosition, b: FeedPosition): FeedPosition {
  return isAfter(a, b) ? a : b;
}
