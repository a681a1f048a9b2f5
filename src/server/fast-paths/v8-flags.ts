/**
 * V8 flags the gateway is started with (`npm start`, app.yaml, the benchmark's
 * servers): `node --no-allocation-site-pretenuring dist/main.js`.
 *
 * Allocation-site pretenuring: V8 watches which allocation sites produce
 * objects that survive a young collection and then allocates everything from
 * those sites directly in the old generation. Serving a page, the rows pg
 * parses (row objects, their strings and Dates) are often still alive when a
 * young collection happens mid-request, so V8 starts pretenuring them; but they
 * die a few milliseconds later. Every page then fills the old generation with
 * garbage whose young strings it points to, and each young collection has to
 * trace those pointers: in the trips benchmark a young collection took 3–4 ms
 * instead of about 1 ms, and garbage collection was about 110 µs of the
 * gateway's ~750 µs of CPU per 100-trip page (about 40 µs with pretenuring
 * off). Nothing in the gateway relies on pretenuring; long-lived objects
 * (schema, compiled queries, caches) reach the old generation by surviving.
 *
 * Why on the command line: the flag used to be set with v8.setFlagsFromString
 * after the VM had started, which Node documents as possibly doing nothing or
 * behaving unpredictably. V8 reads command-line flags before any code runs.
 * The off switch is to start node without the flag; the startup log says which.
 */
export const V8_FLAGS = ['--no-allocation-site-pretenuring'] as const;

export interface V8FlagsState {
  allocationSitePretenuring: 'off' | 'on (V8 default)';
}

/** What this process was started with. V8 has no API to read a flag back, so this reads node's own argument list. */
export function v8FlagsState(execArgv: readonly string[] = process.execArgv): V8FlagsState {
  // The last of --allocation-site-pretenuring / --no-allocation-site-pretenuring wins, as in V8.
  const last = execArgv.filter((arg) => /^--(no-)?allocation[-_]site[-_]pretenuring$/.test(arg)).at(-1);
  return { allocationSitePretenuring: last?.startsWith('--no-') ? 'off' : 'on (V8 default)' };
}
