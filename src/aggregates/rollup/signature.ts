import { sql, type RawBuilder } from 'kysely';
import { qualified } from '../../db/sql-identifiers.js';

/**
 * A cheap value that changes whenever the synced table's rows change, so a
 * rollup built at signature S answers exactly as the table does while the
 * signature is still S. Triggers are not an option (the sync pipeline owns the
 * table and replaces it on full refresh), and counting or hashing 10M rows per
 * query would cost more than the rollup saves. Parts:
 * - the table's oid and relfilenode: a full refresh that recreates the table,
 *   or TRUNCATE, changes them (transactional, exact);
 * - max(id) through the primary key: an append of new ids changes it in the
 *   same snapshot as the data (exact);
 * - the n_tup_ins / n_tup_upd / n_tup_del statistics: every insert,
 *   update and delete, including those max(id) cannot see. They only grow
 *   (aborted writes count too: a spurious rebuild, never a stale answer) and a
 *   stats reset changes them as well. Caveat, documented in
 *   docs/aggregates.md: a writing backend publishes them when it goes idle,
 *   and at most once a second (PGSTAT_MIN_INTERVAL), so a second write within
 *   a second of the previous flush becomes visible up to a second after its commit.
 * - a digest of the ZIP reference table: the borough grains resolve boroughs
 *   at build time, so a release that changes the ZIP list invalidates them.
 * NULL (never fresh) when the table is missing or statistics are off.
 */
export function currentSignature(schema: string, table: string): RawBuilder<string | null> {
  // The pg_stat_get_* functions behind pg_stat_all_tables, called directly:
  // planning the view costs milliseconds, and this runs on every request.
  return sql<string | null>`(
    SELECT CASE WHEN current_setting('track_counts')::boolean THEN
             concat_ws(':', c.oid::int8, pg_relation_filenode(c.oid), pg_stat_get_tuples_inserted(c.oid),
                       pg_stat_get_tuples_updated(c.oid), pg_stat_get_tuples_deleted(c.oid),
                       coalesce((SELECT max(id)::text FROM ${sql.table('trips')}), 'empty'),
                       (SELECT md5(string_agg(zip || '=' || borough, ',' ORDER BY zip)) FROM ${sql.table('zip_zones')}))
           END
      FROM pg_class c
     WHERE c.oid = to_regclass(${qualified(schema, table)}))`;
}
