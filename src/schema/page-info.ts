import type { TripConnection } from '../trips/connection.js';
import { builder } from './builder.js';

export const PageInfoRef = builder.objectRef<TripConnection['pageInfo']>('PageInfo').implement({
  fields: (t) => ({
    hasNextPage: t.boolean({ nullable: false, resolve: (info) => info.hasNextPage() }),
    hasPreviousPage: t.boolean({ nullable: false, resolve: (info) => info.hasPreviousPage() }),
    startCursor: t.exposeString('startCursor', { nullable: true }),
    endCursor: t.exposeString('endCursor', { nullable: true }),
  }),
});
