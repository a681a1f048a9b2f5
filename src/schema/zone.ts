import { findZonesByZips, type ZoneRow } from '../zones/queries.js';
import { builder } from './builder.js';

/** Zones load through a per-request DataLoader: a page of trips costs one statement for all its zones. */
export const ZoneRef = builder.loadableObject('Zone', {
  description: 'A NYC ZIP code with reference data and its trip statistics.',
  load: (zips: number[], ctx) => findZonesByZips(ctx.db, zips, ctx.statementSignal),
  sort: (zone: ZoneRow) => zone.zip,
  fields: (t) => ({
    zip: t.exposeInt('zip', { nullable: false }),
    borough: t.exposeString('borough', { description: 'Null where the ZIP is not in the reference list.' }),
    neighborhood: t.exposeString('neighborhood'),
  }),
});

builder.queryField('zone', (t) =>
  t.field({
    type: ZoneRef,
    description:
      "A ZIP code and its reference data; borough is null for ZIPs outside the NYC reference list. Any value a trip's pickupZip or dropoffZip can hold is a zone, so a client can fetch again any zone it was given.",
    args: { zip: t.arg.int({ required: true }) },
    // Not limited to five digits: the synced table's ZIP columns hold whatever the source wrote (0, 123456), a
    // trip's zone returned such a ZIP, and zone(zip:) refused to look that same zone up again.
    resolve: (_root, { zip }) => zip,
  }),
);
