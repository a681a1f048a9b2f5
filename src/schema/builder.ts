import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import RelayPlugin from '@pothos/plugin-relay';
import type { GatewayContext } from './context.js';

/** Only sets up the builder; types live one per file beside their query fields, and index.ts builds the schema. */
export const builder = new SchemaBuilder<{
  Context: GatewayContext;
  Scalars: {
    // number: ±Infinity, pg's reading of a timestamptz 'infinity' (db/tables.ts, Instant).
    DateTime: { Input: Date; Output: Date | string | number };
    BigInt: { Input: string; Output: string | bigint | number };
    ID: { Input: string; Output: string | number | bigint };
  };
}>({
  plugins: [RelayPlugin, DataloaderPlugin],
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    // node.ts defines both: it parses each global id on its own, so one malformed id fails only itself.
    nodeQueryOptions: false,
    nodesQueryOptions: false,
  },
});

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});
