import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { UserInputError } from '../errors.js';

/**
 * Time zone names Postgres knows, by lower-cased name. Postgres, not Intl, is
 * the authority because it does the bucketing; a name Intl knows but this
 * server's tzdata lacks must be a clear error, not a 500 from the database.
 * Only names from pg_timezone_names are accepted: AT TIME ZONE would also take
 * POSIX specs such as "UTC+5", whose sign is the opposite of ISO 8601's.
 */
const catalogs = new WeakMap<Db, Promise<ReadonlyMap<string, string>>>();

async function loadCatalog(db: Db): Promise<ReadonlyMap<string, string>> {
  const { rows } = await sql<{ name: string }>`SELECT name FROM pg_timezone_names`.execute(db);
  return new Map(rows.map((row) => [row.name.toLowerCase(), row.name]));
}

/** The canonical spelling of an IANA time zone name, or a UserInputError naming `argument`. */
export async function resolveTimeZone(db: Db, name: string, argument = 'timeZone'): Promise<string> {
  const trimmed = name.trim();
  if (trimmed.toUpperCase() === 'UTC') return 'UTC';
  let catalog = catalogs.get(db);
  if (!catalog) {
    catalog = loadCatalog(db);
    catalogs.set(db, catalog);
    // A failed load (database briefly unreachable) must not be remembered.
    catalog.catch(() => catalogs.delete(db));
  }
  const canonical = (await catalog).get(trimmed.toLowerCase());
  if (!canonical) {
    throw new UserInputError(
      argument,
      `unknown time zone ${JSON.stringify(name)}; use an IANA name such as "America/New_York" or "UTC"`,
    );
  }
  return canonical;
}

/**
 * The span over which a zone is checked for whole-hour offsets: UTC hours map
 * onto local hours, days, weeks and months only where the zone's offset is a
 * whole number of hours for the whole hour (New York: yes, DST included;
 * Kolkata, +05:30: no; New York before 1883, local mean time -4:56:02: no,
 * hence a bounded span, and instants outside it are never treated as aligned).
 */
export const WHOLE_HOUR_SPAN = {
  from: new Date('2000-01-01T00:00:00Z'),
  to: new Date('2040-01-01T00:00:00Z'),
} as const;

const wholeHourZones = new WeakMap<Db, Map<string, Promise<boolean>>>();

/** Whether `timeZone` (canonical, see resolveTimeZone) has whole-hour offsets throughout WHOLE_HOUR_SPAN; cached per zone. */
export function hasWholeHourOffsets(db: Db, timeZone: string): Promise<boolean> {
  let zones = wholeHourZones.get(db);
  if (!zones) {
    zones = new Map();
    wholeHourZones.set(db, zones);
  }
  let aligned = zones.get(timeZone);
  if (!aligned) {
    aligned = sql<{ aligned: boolean }>`
      SELECT bool_and(date_trunc('hour', h, ${timeZone}::text) = h
                      AND date_trunc('hour', h + interval '1 hour' - interval '1 microsecond', ${timeZone}::text) = h)
             AS aligned
        FROM generate_series(${WHOLE_HOUR_SPAN.from.toISOString()}::timestamptz,
                             ${WHOLE_HOUR_SPAN.to.toISOString()}::timestamptz - interval '1 hour',
                             interval '1 hour') AS h`
      .execute(db)
      .then(({ rows }) => rows[0]?.aligned === true);
    zones.set(timeZone, aligned);
    // A failed check (database briefly unreachable) must not be remembered.
    const cache = zones;
    aligned.catch(() => cache.delete(timeZone));
  }
  return aligned;
}
