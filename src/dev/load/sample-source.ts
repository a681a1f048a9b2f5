/**
 * The default sample as the emulated pipeline's source (the Delta table's stand-in): an empty embedded
 * database gets it whichever runs first, `npm start` or an `npm run data` command. Loaded into the synced
 * table instead, it was out of step with the source: the pipeline's next incremental apply wrote the
 * source's own rows over the sample's ids, and a full refresh wiped the sample.
 */
import type { SourceLoader } from '../pipeline/seed.js';
import { DEFAULT_SAMPLE_ROWS, DEFAULT_SAMPLE_SEED, tripCopyTextChunks } from '../sample/trip-generator.js';
import { copyTripText } from './copy-trips.js';

export const loadSampleIntoSource: SourceLoader = async (client, source) => {
  await copyTripText(client, source, tripCopyTextChunks({ rows: DEFAULT_SAMPLE_ROWS, seed: DEFAULT_SAMPLE_SEED }));
};
