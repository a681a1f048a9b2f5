/**
 * The gateway modules a benchmark's server process runs: dist/ (tsc's output,
 * what production runs) when the parent built it, else src/ through tsx. All
 * come from one tree, so the process never holds two copies of a module.
 * Why dist/ matters: see production-build.ts.
 */
import type * as AppModule from '../../src/app.js';
import type * as AggregateLoadModule from '../../src/aggregates/load.js';
import type * as ConfigModule from '../../src/config/env.js';
import type * as IdentifiersModule from '../../src/db/sql-identifiers.js';
import type * as LoggerModule from '../../src/logger.js';
import type * as GatewayModule from '../../src/server/http/gateway.js';
import type * as HttpModule from '../../src/server/http/listen.js';
import type * as SchemaModule from '../../src/schema/index.js';
import { GATEWAY_BUILD_ENV } from './production-build.js';

const tree = process.env[GATEWAY_BUILD_ENV] === 'dist' ? 'dist' : 'src';

async function load<Module>(path: string): Promise<Module> {
  return (await import(new URL(`../../${tree}/${path}`, import.meta.url).href)) as Module;
}

export const { createApp } = await load<typeof AppModule>('app.js');
export const { loadConfig } = await load<typeof ConfigModule>('config/env.js');
export const { qualified } = await load<typeof IdentifiersModule>('db/sql-identifiers.js');
export const { createLogger } = await load<typeof LoggerModule>('logger.js');
export const { listen } = await load<typeof HttpModule>('server/http/listen.js');
export const { gatewayContext } = await load<typeof GatewayModule>('server/http/gateway.js');
export const { loadTripStats } = await load<typeof AggregateLoadModule>('aggregates/load.js');
export const { buildSchema } = await load<typeof SchemaModule>('schema/index.js');
