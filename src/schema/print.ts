import { printSchema } from 'graphql';
import { buildSchema } from './index.js';

const HEADER = '# Generated from the Pothos code by `npm run schema`. Do not edit by hand.\n\n';

/** The committed schema.graphql text: lexicographically sorted SDL. */
export function printSchemaFile(): string {
  return `${HEADER}${printSchema(buildSchema())}\n`;
}
