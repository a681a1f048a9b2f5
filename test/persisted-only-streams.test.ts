/**
 * PERSISTED_OPERATIONS=only on the graphql-sse endpoints compares documents in a canonical form
 * (src/server/sse/persisted-only.ts): the dashboard's own operations, as urql's graphcache sends them (with
 * `__typename` added, fields in the order written), must match its manifest (sorted by GraphQL Code Generator),
 * and nothing else may.
 */
import { formatDocument } from '@urql/core';
import { parse, print, type DocumentNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { readPersistedManifest } from '../src/server/plugins/persisted-operations.js';
import { canonicalDocument, persistedDocumentSet } from '../src/server/sse/persisted-only.js';
import * as operations from '../web/src/gql/graphql.js';

const manifest = readPersistedManifest('web/src/gql/persisted-documents.json');
const allowed = persistedDocumentSet(manifest);
const documents = Object.entries(operations).filter(
  (entry): entry is [string, DocumentNode] =>
    entry[0].endsWith('Document') && typeof entry[1] === 'object' && entry[1] !== null && 'definitions' in entry[1],
);

describe("the persisted-only check of the stream endpoints, on the dashboard's manifest", () => {
  it('accepts every dashboard operation as its client sends it', () => {
    expect(documents.length).toBe(manifest.size);
    for (const [name, document] of documents) {
      const sent = parse(print(formatDocument(document)));
      expect({ name, allowed: allowed.has(canonicalDocument(sent)) }).toEqual({ name, allowed: true });
    }
  });

  it('refuses the same operations with anything more, or a different argument', () => {
    const [, changes] = documents.find(([name]) => name === 'TripChangesDocument')!;
    const text = print(changes);
    for (const altered of [
      text.replace('cursor', 'cursor\n    again: cursor'),
      text.replace('kind', 'kind\n      trip { pickupZone { pickups { count } } }'),
      text.replace(', after: $after', ''),
      `${text}\nquery Extra { tripStats { count } }`,
    ]) {
      expect(altered).not.toBe(text);
      expect(allowed.has(canonicalDocument(parse(altered)))).toBe(false);
    }
  });
});
