import { mayRefresh } from '../sync/refresh-authorization.js';
import { builder } from './builder.js';
import type { GatewayContext } from './context.js';

/** The caller, as the gateway sees it: what a page may offer them. Resolved per request from its headers. */
const ViewerRef = builder.objectRef<GatewayContext>('Viewer').implement({
  description: 'The caller of this request, and what the gateway lets them do.',
  fields: (t) => ({
    canRefresh: t.boolean({
      nullable: false,
      description:
        'Whether this caller may call refreshSyncedTable (same rule as the mutation: GATEWAY_ADMINS or ' +
        'GATEWAY_ADMIN_TOKEN). False when no sync pipeline is configured.',
      resolve: (ctx) => ctx.sync !== null && mayRefresh(ctx.request.headers, ctx.sync.admin),
    }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: ViewerRef,
    nullable: false,
    description: 'The caller of this request: what a user interface may offer them.',
    resolve: (_root, _args, ctx) => ctx,
  }),
);
