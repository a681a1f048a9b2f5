const ZERO = 48;
/** Character code of the last decimal digit of a non-negative integer. */
const digit = (n: number): number => ZERO + (n % 10);

/**
 * Exactly Date#toISOString (UTC, milliseconds, "Z"), faster for the years it
 * handles itself: a page of 100 trips serializes 200 instants. The text is
 * made from character codes in one call, so each instant allocates one flat
 * string; building it from pieces allocated a dozen intermediate strings per
 * instant, a sixth of everything the gateway allocated per page. Years outside
 * 0–9999 (extended "+YYYYYY" form) and invalid dates are left to toISOString,
 * which also throws for the latter.
 */
export function formatIsoInstant(date: Date): string {
  const year = date.getUTCFullYear();
  if (!(year >= 0 && year <= 9999)) return date.toISOString();
  const month = date.getUTCMonth() + 1;
  const day = date.getUTCDate();
  const hours = date.getUTCHours();
  const minutes = date.getUTCMinutes();
  const seconds = date.getUTCSeconds();
  const millis = date.getUTCMilliseconds();
  return String.fromCharCode(
    digit((year / 1000) | 0),
    digit((year / 100) | 0),
    digit((year / 10) | 0),
    digit(year),
    0x2d, // -
    digit((month / 10) | 0),
    digit(month),
    0x2d,
    digit((day / 10) | 0),
    digit(day),
    0x54, // T
    digit((hours / 10) | 0),
    digit(hours),
    0x3a, // :
    digit((minutes / 10) | 0),
    digit(minutes),
    0x3a,
    digit((seconds / 10) | 0),
    digit(seconds),
    0x2e, // .
    digit((millis / 100) | 0),
    digit((millis / 10) | 0),
    digit(millis),
    0x5a, // Z
  );
}
