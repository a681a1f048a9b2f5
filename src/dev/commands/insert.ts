import { parseArgs } from 'node:util';
import { headVersion } from '../pipeline/change-feed.js';
import { sqlState } from '../../db/sql-state.js';
import { randomTrips } from '../pipeline/random-trips.js';
import { insertNewTrips, insertTrips, knownZips, type TripInput } from '../pipeline/source-writes.js';
import { parseCount, parseId, parseNumber, parseZip, type DevCommand } from './command.js';
import { withPipeline } from './pipeline-session.js';

const USAGE = `insert [--count N]
insert --id 21933 [--pickup 2016-02-14T16:52:13Z] [--dropoff ...] [--distance 4.94] [--fare 19]
       [--pickup-zip 10282] [--dropoff-zip 10171]
  Inserts trips into the source table (one source version). With --count, N random trips with ids after
  the current maximum; with --id, one trip with the given values (unset ones are made up).`;

export const insertCommand: DevCommand = {
  name: 'insert',
  summary: 'insert new trips into the source table (random, or explicit values like the reference app test)',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        count: { type: 'string' },
        id: { type: 'string' },
        pickup: { type: 'string' },
        dropoff: { type: 'string' },
        distance: { type: 'string' },
        fare: { type: 'string' },
        'pickup-zip': { type: 'string' },
        'dropoff-zip': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) return console.log(USAGE);
    if (values.id !== undefined && values.count !== undefined)
      throw new Error('insert: give --id or --count, not both');
    // Every value read before the database is opened (and perhaps started): a typo costs no wait.
    const id = values.id === undefined ? undefined : parseId(values.id, '--id');
    const given = {
      tpep_pickup_datetime: parseDate(values.pickup, '--pickup'),
      tpep_dropoff_datetime: parseDate(values.dropoff, '--dropoff'),
      trip_distance: parseNumber(values.distance, '--distance'),
      fare_amount: parseNumber(values.fare, '--fare'),
      pickup_zip: parseZip(values['pickup-zip'], '--pickup-zip'),
      dropoff_zip: parseZip(values['dropoff-zip'], '--dropoff-zip'),
    };
    const count = parseCount(values.count, '--count', 1);
    if (count === 0) throw new Error('--count: expected at least 1 trip to insert, got 0');
    await withPipeline(async ({ pool, names }) => {
      const zips = await knownZips(pool, names);
      if (id !== undefined) {
        const made = randomTrips(BigInt(id), 1, { zips })[0] as TripInput;
        const trip: TripInput = {
          ...made,
          tpep_pickup_datetime: given.tpep_pickup_datetime ?? made.tpep_pickup_datetime,
          tpep_dropoff_datetime: given.tpep_dropoff_datetime ?? made.tpep_dropoff_datetime,
          trip_distance: given.trip_distance ?? made.trip_distance,
          fare_amount: given.fare_amount ?? made.fare_amount,
          pickup_zip: given.pickup_zip ?? made.pickup_zip,
          dropoff_zip: given.dropoff_zip ?? made.dropoff_zip,
        };
        try {
          await insertTrips(pool, names, [trip]);
        } catch (error) {
          if (sqlState(error) === '23505')
            throw new Error(`--id: trip ${id} already exists in the source table`, { cause: error });
          throw error;
        }
        console.log(`inserted trip ${id}; source at version ${await headVersion(pool, names)}`);
        return;
      }
      const { firstId, count: inserted } = await insertNewTrips(pool, names, count, (first, n) =>
        randomTrips(first, n, { zips }),
      );
      const last = firstId + BigInt(inserted - 1);
      console.log(
        `inserted ${inserted} trips (ids ${firstId}..${last}); source at version ${await headVersion(pool, names)}`,
      );
    });
  },
};

function parseDate(raw: string | undefined, option: string): Date | undefined {
  if (raw === undefined) return undefined;
  const date = new Date(raw);
  if (Number.isNaN(date.getTime()))
    throw new Error(`${option}: expected a date-time like 2016-02-14T16:52:13Z, got "${raw}"`);
  return date;
}
