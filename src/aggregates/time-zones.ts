import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/database.js';
import { UserInputError } from '../errors.js';

/**
 * Time zone names Postgres knows, by lower-cased name. Postgres, not Intl, is
 * the authority because it does the bucketing; a name Intl knows but this
 * server's tzdata lacks must be a clear error, not a 500 from the database.
 * Only names from pg_timezone_names are accepted: AT TIME ZONE would also take
 * POSIX specs such as "UTC+5", whose sign is the opposite of ISO 8601's.
 */
interface Catalog {
  /** Canonical names by lower-cased name. */
  names: ReadonlyMap<string, string>;
  /** Zone names that are also abbreviations with another meaning, with the abbreviation's offset in seconds. */
  misread: ReadonlyMap<string, number>;
}

const catalogs = new WeakMap<Db, Promise<Catalog>>();

async function loadCatalog(db: Db): Promise<Catalog> {
  const { rows } = await sql<{ name: string }>`SELECT name FROM pg_timezone_names`.execute(db);
  return {
    names: new Map(rows.map((row) => [row.name.toLowerCase(), row.name])),
    misread: await misreadZoneNames(db),
  };
}

/**
 * Names that are a zone and an abbreviation at once (CET, EET, MET, WET, EST, …). AT TIME ZONE reads the
 * abbreviation first: 'CET' buckets at a fixed +01:00 all year, while the zone CET has summer time. The zone's
 * own offsets are read with the session's TimeZone setting, which takes zone names only, in January and July;
 * the names whose zone differs from their abbreviation are refused. (EST and GMT agree with theirs.)
 */
async function misreadZoneNames(db: Db): Promise<ReadonlyMap<string, number>> {
  const { rows: both } = await sql<{ name: string; seconds: number }>`
    SELECT n.name, extract(epoch FROM a.utc_offset)::int AS seconds
      FROM pg_timezone_names n JOIN pg_timezone_abbrevs a ON lower(a.abbrev) = lower(n.name)`.execute(db);
  if (both.length === 0) return new Map();
  return db.transaction().execute(async (trx) => {
    const misread = new Map<string, number>();
    for (const { name, seconds } of both) {
      await sql`SELECT set_config('TimeZone', ${name}, true)`.execute(trx);
      const { rows } = await sql<{ january: number; july: number }>`
        SELECT extract(timezone FROM timestamptz '2016-01-15 12:00+00')::int AS january,
               extract(timezone FROM timestamptz '2016-07-15 12:00+00')::int AS july`.execute(trx);
      const zone = rows[0];
      if (zone && (zone.january !== seconds || zone.july !== seconds)) misread.set(name, seconds);
    }
    return misread;
  });
}

/** `UTC+01:00` for 3600 seconds. */
function utcOffset(seconds: number): string {
  const minutes = Math.abs(seconds) / 60;
  const pad = (value: number) => String(value).padStart(2, '0');
  return `UTC${seconds < 0 ? '-' : '+'}${pad(Math.floor(minutes / 60))}:${pad(minutes % 60)}`;
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
  const { names, misread } = await catalog;
  const canonical = names.get(trimmed.toLowerCase());
  if (!canonical) {
    throw new UserInputError(
      argument,
      `unknown time zone ${JSON.stringify(name)}; use an IANA name such as "America/New_York" or "UTC"`,
    );
  }
  const fixed = misread.get(canonical);
  if (fixed !== undefined) {
    const hours = fixed / 3600;
    // Etc/GMT names count the other way round (Etc/GMT-1 is UTC+01:00), and exist for whole hours only.
    const etc = Number.isInteger(hours)
      ? ` (or "Etc/GMT${hours === 0 ? '' : hours > 0 ? -hours : `+${-hours}`}" for that fixed offset)`
      : '';
    throw new UserInputError(
      argument,
      `${JSON.stringify(name)} is also an abbreviation, which the database reads as a fixed ${utcOffset(fixed)} all ` +
        `year, not as the zone with its summer time; use a region's name such as "Europe/Paris"${etc}`,
    );
  }
  return canonical;
}

/**
 * The span over which a zone's offsets are checked: UTC hours (or quarter
 * hours) map onto local hours, days, weeks and months only where the zone's
 * offset is a whole number of them for the whole hour (New York: whole hours,
 * DST included; Kolkata, +05:30, and Adelaide, whose DST starts at 16:30 UTC:
 * quarter hours; St. John's, whose DST began at 00:01 local until 2011: neither;
 * New York before 1883, local mean time -4:56:02: neither, hence a bounded
 * span, and instants outside it are never treated as aligned).
 */
export const WHOLE_HOUR_SPAN = {
  from: new Date('2000-01-01T00:00:00Z'),
  to: new Date('2040-01-01T00:00:00Z'),
} as const;

/** The UTC bins the synced table's trips may be aggregated into before they are bucketed in a zone. */
export type PickupBin = 'hour' | 'quarter-hour';

type ZoneChecks = WeakMap<Db, Map<string, Promise<boolean>>>;

/**
 * Zone checks run one at a time per database. Each scans 40 years of hours (0.5–1 s): side by side, a client
 * naming 100 zones at once held every pooled connection for seconds, and other clients' queries timed out
 * waiting for one. Past MAX_QUEUED_CHECKS waiting, a request does not wait: it is answered as for a zone
 * that is not aligned (from finer bins, or the synced table; the same answer, found more slowly), and the
 * zone is checked when it is asked for again.
 */
const MAX_QUEUED_CHECKS = 8;

class CheckQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #waiting = 0;

  get full(): boolean {
    return this.#waiting >= MAX_QUEUED_CHECKS;
  }

  run<T>(check: () => Promise<T>): Promise<T> {
    this.#waiting += 1;
    const result = this.#tail.then(check).finally(() => {
      this.#waiting -= 1;
    });
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

const queues = new WeakMap<Db, CheckQueue>();

function queueOf(db: Db): CheckQueue {
  let queue = queues.get(db);
  if (!queue) {
    queue = new CheckQueue();
    queues.set(db, queue);
  }
  return queue;
}

/** One check per (database, zone), shared by concurrent callers; a failed one (database unreachable) is forgotten. */
function cachedPerZone(cache: ZoneChecks, db: Db, timeZone: string, check: () => Promise<boolean>): Promise<boolean> {
  let zones = cache.get(db);
  if (!zones) {
    zones = new Map();
    cache.set(db, zones);
  }
  let result = zones.get(timeZone);
  if (!result) {
    const queue = queueOf(db);
    if (queue.full) return Promise.resolve(false);
    result = queue.run(check);
    zones.set(timeZone, result);
    const forget = zones;
    result.catch(() => forget.delete(timeZone));
  }
  return result;
}

const wholeHourZones: ZoneChecks = new WeakMap();
const quarterHourZones: ZoneChecks = new WeakMap();

/** Whether `timeZone` (canonical, see resolveTimeZone) has whole-hour offsets throughout WHOLE_HOUR_SPAN; cached per zone. */
export function hasWholeHourOffsets(db: Db, timeZone: string): Promise<boolean> {
  return cachedPerZone(wholeHourZones, db, timeZone, () =>
    sql<{ aligned: boolean }>`
      SELECT bool_and(date_trunc('hour', h, ${timeZone}::text) = h
                      AND date_trunc('hour', h + interval '1 hour' - interval '1 microsecond', ${timeZone}::text) = h)
             AS aligned
        FROM generate_series(${WHOLE_HOUR_SPAN.from.toISOString()}::timestamptz,
                             ${WHOLE_HOUR_SPAN.to.toISOString()}::timestamptz - interval '1 hour',
                             interval '1 hour') AS h`
      .execute(db)
      .then(({ rows }) => rows[0]?.aligned === true),
  );
}

/**
 * Whether every UTC quarter hour of WHOLE_HOUR_SPAN is exactly one local
 * quarter hour in `timeZone`: all offsets are multiples of 15 minutes, and
 * every transition falls on a quarter hour. Offsets are read per UTC hour; only
 * the hours in which the offset changes (a few hundred in 40 years) are looked
 * at per quarter. About 0.5 s with the whole-hour check before it, once per zone.
 */
function hasQuarterHourOffsets(db: Db, timeZone: string): Promise<boolean> {
  const local = (instant: RawBuilder<unknown>) => sql`(${instant}) AT TIME ZONE ${timeZone}::text`;
  const offset = (instant: RawBuilder<unknown>) => sql`${local(instant)} - ((${instant}) AT TIME ZONE 'UTC')`;
  const lastMicrosecond = (start: string, length: string) =>
    sql`${sql.ref(start)} + interval ${sql.lit(length)} - interval '1 microsecond'`;
  return cachedPerZone(quarterHourZones, db, timeZone, () =>
    sql<{ aligned: boolean | null }>`
      WITH hours AS (
        SELECT h, ${offset(sql.ref('h'))} AS start_offset, ${offset(lastMicrosecond('h', '1 hour'))} AS end_offset
          FROM generate_series(${WHOLE_HOUR_SPAN.from.toISOString()}::timestamptz,
                               ${WHOLE_HOUR_SPAN.to.toISOString()}::timestamptz - interval '1 hour',
                               interval '1 hour') AS h
      ), quarters AS (
        SELECT q FROM hours, generate_series(h, h + interval '45 minutes', interval '15 minutes') AS q
         WHERE start_offset <> end_offset
      )
      SELECT (SELECT bool_and(extract(epoch FROM start_offset) % 900 = 0) FROM hours)
             AND coalesce((SELECT bool_and(${local(lastMicrosecond('q', '15 minutes'))}
                                           = ${local(sql.ref('q'))} + interval '15 minutes' - interval '1 microsecond')
                             FROM quarters), true) AS aligned`
      .execute(db)
      .then(({ rows }) => rows[0]?.aligned === true),
  );
}

/** The coarsest UTC bin that maps onto whole local bins in `timeZone` (see WHOLE_HOUR_SPAN), or null. */
export async function pickupBinFor(db: Db, timeZone: string): Promise<PickupBin | null> {
  if (await hasWholeHourOffsets(db, timeZone)) return 'hour';
  return (await hasQuarterHourOffsets(db, timeZone)) ? 'quarter-hour' : null;
}
