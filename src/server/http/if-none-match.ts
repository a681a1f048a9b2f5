/**
 * Whether an `If-None-Match` field names an entity tag (RFC 9110, 13.1.2):
 * `*` names any current representation; otherwise the field is a list of
 * entity tags, compared weakly (`W/"x"` matches `"x"`), which is the
 * comparison the RFC asks of If-None-Match. Malformed members match nothing.
 */
export function ifNoneMatchNames(field: string, etag: string): boolean {
  if (field.trim() === '*') return true;
  for (const member of field.matchAll(/(?:W\/)?("[^"]*")/g)) if (member[1] === etag) return true;
  return false;
}
