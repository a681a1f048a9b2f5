/**
 * PostGraphile V5 as its users deploy it, for bench/trips.ts: the Amber
 * preset, the connection-filter plugin (ranges, equality), grafserv on
 * node:http, GRAPHILE_ENV=production (set by the caller), on Node 22 (V5's
 * minimum). Copied into its own install prefix (see postgraphile-peer.ts),
 * so its imports resolve from there, not from the gateway's dependencies.
 * Announces itself like bench/support/child-server.ts' children.
 */
import { createServer } from 'node:http';
import process from 'node:process';
import pg from 'pg';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import { PostGraphileConnectionFilterPreset } from 'postgraphile-plugin-connection-filter';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.PG_POOL_MAX ?? 10) });
const preset = {
  extends: [PostGraphileAmberPreset, PostGraphileConnectionFilterPreset],
  pgServices: [makePgService({ pool, schemas: [process.env.PGSCHEMA ?? 'default'] })],
  grafserv: { graphqlPath: '/graphql', watch: false },
  grafast: { explain: false },
};
const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
serv.addTo(server);
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const stop = () => {
  server.close();
  server.closeAllConnections();
  Promise.resolve(pgl.release()).finally(() => pool.end().finally(() => process.exit(0)));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdout.write(`READY ${JSON.stringify({ url: `http://127.0.0.1:${port}/graphql` })}\n`);
