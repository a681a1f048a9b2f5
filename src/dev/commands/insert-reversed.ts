import { parseArgs } from 'node:util';
import { headVersion } from '../pipeline/change-feed.js';
import { randomTrips } from '../pipeline/random-trips.js';
import { insertTrips, knownZips, lockNewTripIds } from '../pipeline/source-writes.js';
import { sqlState } from '../../db/sql-state.js';
import { checkout } from '../pipeline/transaction.js';
import { parseIds, type DevCommand } from './command.js';
import { withPipeline } from './pipeline-session.js';

const USAGE = `insert-reversed [--ids LOWER,HIGHER]
  Two writers that commit in the reverse order of their ids: transaction A inserts the lower id, transaction B
  the higher one, B commits first, then A (both open at once). Default ids: the next two after the maximum.
  The source gets B's version before A's, so the synced table receives the higher id before the lower one
  (or both in one batch, whose CONTINUOUS writers commit the higher id first).`;

export const insertReversedCommand: DevCommand = {
  name: 'insert-reversed',
  summary: 'insert two trips from two transactions that commit in the reverse order of their ids',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: { ids: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) return console.log(USAGE);
    const given = values.ids === undefined ? undefined : parseIds(values.ids, '--ids').map(BigInt);
    if (given !== undefined && (given.length !== 2 || given[0] === given[1])) {
      throw new Error(`--ids: expected two different ids, LOWER,HIGHER, got "${values.ids}"`);
    }
    await withPipeline(async ({ pool, names }) => {
      const zips = await knownZips(pool, names);
      let ids: [bigint, bigint] | undefined;
      const a = await checkout(pool);
      const b = await checkout(pool);
      // A connection whose ROLLBACK failed is destroyed rather than returned to the pool.
      let aBroken: unknown;
      let bBroken: unknown;
      try {
        await a.client.query('BEGIN');
        await b.client.query('BEGIN');
        // Without --ids, the next two ids, allocated as `insert` and `stream` do: under their lock, held by A (which
        // commits last), so that neither takes them meanwhile.
        const next = given === undefined ? (await lockNewTripIds(a.client, names)) + 1n : 0n;
        const [lower, higher] = (given ?? [next, next + 1n]).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)) as [
          bigint,
          bigint,
        ];
        ids = [lower, higher];
        try {
          await insertTrips(a.client, names, randomTrips(lower, 1, { zips }));
          await insertTrips(b.client, names, randomTrips(higher, 1, { zips }));
        } catch (error) {
          if (sqlState(error) === '23505') {
            throw new Error(
              given === undefined
                ? `trip ${lower} or ${higher} was inserted meanwhile by a writer that does not take the CLI's id lock`
                : `--ids: trip ${lower} or ${higher} already exists in the source table`,
              { cause: error },
            );
          }
          throw error;
        }
        await b.client.query('COMMIT');
        await a.client.query('COMMIT');
      } catch (error) {
        await a.client.query('ROLLBACK').catch((rollback: unknown) => (aBroken = rollback));
        await b.client.query('ROLLBACK').catch((rollback: unknown) => (bBroken = rollback));
        throw error;
      } finally {
        a.release(aBroken);
        b.release(bBroken);
      }
      const [lower, higher] = ids!;
      console.log(
        `inserted trip ${higher} (committed first), then trip ${lower}; source at version ${await headVersion(pool, names)}`,
      );
    });
  },
};
