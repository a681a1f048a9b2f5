import v8 from 'node:v8';

/**
 * Turns off V8's allocation-site pretenuring for this process.
 *
 * V8 watches which allocation sites produce objects that survive a young
 * collection and then allocates everything from those sites directly in the
 * old generation. Serving a page, the rows pg parses (row objects, their
 * strings and Dates) are often still alive when a young collection happens
 * mid-request, so V8 starts pretenuring them; but they die a few milliseconds
 * later. Every page then fills the old generation with garbage whose young
 * strings it points to, and each young collection has to trace those pointers:
 * in the trips benchmark a young collection took 3–4 ms instead of about 1 ms,
 * and garbage collection was about 110 µs of the gateway's ~750 µs of CPU per
 * 100-trip page (about 40 µs with pretenuring off). Nothing in the gateway relies on
 * pretenuring; long-lived objects (schema, compiled queries, caches) reach the
 * old generation by surviving, as they do without it.
 *
 * Must run before the request path warms up (V8 reads the flag when it
 * decides where a site allocates); the entry points call it first thing.
 */
export function disableAllocationSitePretenuring(): void {
  v8.setFlagsFromString('--no-allocation-site-pretenuring');
}
