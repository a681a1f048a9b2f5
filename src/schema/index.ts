import { assertObjectType, lexicographicSortSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.js';
import './scalars.js';
import './filters.js';
import './page-info.js';
import './zone.js';
import './trip.js';
import './node.js';
import './sync-status.js';
import './trips-added.js';
import './trip-changes.js';
import './trip-stats.js';
import './trip-groups.js';
import './zone-stats.js';
import './viewer.js';

/** The whole API. Importing a type's file registers it with the builder; order does not matter. */
export function buildSchema(): GraphQLSchema {
  const schema = lexicographicSortSchema(builder.toSchema());
  readPlainFields(schema);
  return schema;
}

/**
 * Fields that only ever hold the object itself, read as properties. The
 * dataloader plugin wraps every field whose type is loadable (Trip) in a
 * resolver that loads ids and passes objects through unchanged; TripEdge.node
 * always holds the row object (non-null, see trips/connection.ts) and Trip
 * has no cacheResolved, so the wrapper can only pass it through. Without a
 * resolver graphql-js reads `edge.node` the same way, and graphql-jit inlines
 * the read instead of a resolver call per edge (100 per page).
 */
function readPlainFields(schema: GraphQLSchema): void {
  const node = assertObjectType(schema.getType('TripEdge')).getFields().node;
  if (!node) throw new Error('buildSchema: TripEdge.node is missing');
  node.resolve = undefined;
}
