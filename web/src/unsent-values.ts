/**
 * Values the gateway could not send. JSON has no NaN or infinity, so a NaN fare or an infinite time comes as null
 * with an error whose path names the row and the field. The page shows such a cell empty and says which rows have
 * one, for as long as they are on screen.
 */
// The extension lets the gateway's tests (Node resolution) import this file.
import type { TripFieldsFragment } from './gql/graphql.js';

/** A trip as shown: `unsent` lists its fields that are null here because the gateway could not send them. */
export type ShownTrip = TripFieldsFragment & { unsent?: readonly string[] };

interface PathError {
  readonly path?: readonly (string | number)[] | undefined;
}

/**
 * The fields of each list item that errors name, by the item's index: `under` is the list's path, e.g.
 * ['trips', 'edges'] for trips(...).edges[i].node.fareAmount. Errors elsewhere are left out.
 */
export function unsentByIndex(errors: readonly PathError[], under: readonly string[]): Map<number, string[]> {
  const found = new Map<number, string[]>();
  for (const error of errors) {
    const path = error.path;
    if (!path || path.length < under.length + 2 || under.some((part, i) => path[i] !== part)) continue;
    const index = path[under.length];
    const field = path[path.length - 1];
    if (typeof index !== 'number' || typeof field !== 'string') continue;
    found.set(index, [...(found.get(index) ?? []), field]);
  }
  return found;
}

/** True for errors that unsentByIndex places on an item under `under`. */
export function isUnder(error: PathError, under: readonly string[]): boolean {
  return unsentByIndex([error], under).size > 0;
}

/** What the page says of the rows on screen with values it cannot show; null when there are none. */
export function unsentNotice(rows: readonly ShownTrip[]): string | null {
  const affected = rows.filter((row) => (row.unsent?.length ?? 0) > 0);
  if (affected.length === 0) return null;
  const named = affected
    .slice(0, 3)
    .map((row) => `trip ${row.tripId} (${row.unsent!.join(', ')})`)
    .join(', ');
  const more = affected.length > 3 ? ` and ${affected.length - 3} more` : '';
  return `Some values cannot be shown, as they are not finite numbers or times: ${named}${more}.`;
}
