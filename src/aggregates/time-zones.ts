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
