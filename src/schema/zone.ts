import { UserInputError } from '../errors.js';
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
    description: 'A ZIP code and its reference data; borough is null for ZIPs outside the NYC reference list.',
    args: { zip: t.arg.int({ required: true }) },
    resolve: (_root, { zip }) => {
      if (zip < 0 || zip > 99999) throw new UserInputError('zip', `must be a 5-digit ZIP code, got ${zip}`);
      return zip;
    },
  }),
);
