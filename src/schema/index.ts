import { lexicographicSortSchema, type GraphQLSchema } from 'graphql';
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
  return lexicographicSortSchema(builder.toSchema());
}
