import type { ErrorCode } from '../../errors.js';
import { readFileSync } from 'node:fs';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { GraphQLError, parse } from 'graphql';
import type { GraphQLParams, Plugin } from 'graphql-yoga';
import { ConfigError } from '../../config/env.js';
import type { PersistedOperationsMode } from '../../config/edge.js';
import { canonicalDocument, persistedDocumentSet } from '../sse/persisted-only.js';

/**
 * Reads a persisted-documents manifest: a JSON object of hash → document, as
 * GraphQL Code Generator's client preset writes it (`persistedDocuments: true`,
 * web/src/gql/persisted-documents.json for the dashboard).
 */
export function readPersistedManifest(path: string): ReadonlyMap<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(
      'PERSISTED_OPERATIONS_MANIFEST',
      `cannot read the persisted operations manifest ${path}: ${(error as Error).message}`,
    );
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError('PERSISTED_OPERATIONS_MANIFEST', `${path} must hold a JSON object of hash → document`);
  }
  const manifest = new Map<string, string>();
  for (const [hash, document] of Object.entries(parsed)) {
    if (typeof document !== 'string') {
      throw new ConfigError('PERSISTED_OPERATIONS_MANIFEST', `${path}: the entry ${hash} is not a document string`);
    }
    // GraphQL Code Generator's client preset writes keys as "sha256:<hex>"; ids are looked up without the prefix.
    manifest.set(hash.replace(/^sha256:/, ''), document);
  }
  return manifest;
}

/**
 * The id a client sends instead of the document: `documentId` (GraphQL over
 * HTTP's persisted documents, what the client preset's fetcher sends) or
 * Apollo's `extensions.persistedQuery.sha256Hash`.
 */
function operationId(params: GraphQLParams): string | null {
  const documentId = (params as GraphQLParams & { documentId?: unknown }).documentId;
  if (typeof documentId === 'string') return documentId.replace(/^sha256:/, '');
  const persisted = (params.extensions as { persistedQuery?: { sha256Hash?: unknown } } | undefined)?.persistedQuery;
  return typeof persisted?.sha256Hash === 'string' ? persisted.sha256Hash : null;
}

/**
 * PERSISTED_OPERATIONS=allow runs the manifest's operations by id and any
 * other document as usual; `only` runs nothing but the manifest's operations
 * (a production gateway behind one known dashboard). yoga's persisted
 * operations plugin does the work for ids.
 *
 * Under `only`, a request that carries the document itself runs when it *is*
 * one of the manifest's, compared in the canonical form the stream endpoints
 * use (sse/persisted-only.ts). The dashboard's own client (urql with
 * graphcache) sends its operations' text with `__typename` added, never an id:
 * until 2026-12-06 `only` refused every one of its queries, so the dashboard
 * could not run behind the gateway it ships with.
 *
 * `off` still reads the id: a request that sends one instead of a query is
 * told that persisted operations are not supported, in the words Apollo's
 * PersistedQueryLink looks for (PERSISTED_QUERY_NOT_SUPPORTED), so that the
 * link sends the query itself from then on. yoga's "Must provide query
 * string." left every query of such a client failing.
 */
export function usePersistedOperationsFromManifest(mode: PersistedOperationsMode, manifestPath: string): Plugin[] {
  if (mode === 'off') return [notSupported];
  const manifest = readPersistedManifest(manifestPath);
  const byId = usePersistedOperations({
    // Under `only`, onlyManifestDocuments has already refused every document that is not the manifest's.
    allowArbitraryOperations: true,
    extractPersistedOperationId: operationId,
    getPersistedOperation: (id) => manifest.get(id) ?? null,
    customErrors: {
      notFound: {
        message: "persisted operation not found: the id is not in this gateway's manifest",
        extensions: { code: 'PERSISTED_QUERY_NOT_FOUND' satisfies ErrorCode, http: { status: 400 } },
      },
      keyNotFound: {
        message:
          mode === 'only'
            ? 'this gateway only runs persisted operations: the request carries no documentId'
            : 'the request carries neither a query nor a documentId (or extensions.persistedQuery.sha256Hash)',
        extensions: { code: 'PERSISTED_QUERY_ID_REQUIRED' satisfies ErrorCode, http: { status: 400 } },
      },
    },
  });
  return mode === 'only' ? [onlyManifestDocuments(persistedDocumentSet(manifest)), byId] : [byId];
}

/** Texts already found to be manifest documents; a client sends the same few again and again. */
const ACCEPTED_TEXTS_KEPT = 256;

function onlyManifestDocuments(allowed: ReadonlySet<string>): Plugin {
  const accepted = new Set<string>();
  const isManifestDocument = (text: string) => {
    if (accepted.has(text)) return true;
    let canonical: string;
    try {
      canonical = canonicalDocument(parse(text));
    } catch {
      // Not even a document: it cannot be one of the manifest's.
      return false;
    }
    if (!allowed.has(canonical)) return false;
    // Bounded by the manifest's size in practice (a few variants per operation); the clear is for safety only.
    if (accepted.size >= ACCEPTED_TEXTS_KEPT) accepted.clear();
    accepted.add(text);
    return true;
  };
  return {
    onParams({ params }) {
      // Whether or not an id comes with it: yoga's plugin runs the text whenever there is one, and an id beside
      // a foreign document must not let that document through.
      if (!params.query) return;
      if (isManifestDocument(params.query)) return;
      throw new GraphQLError(
        'this gateway only runs persisted operations (PERSISTED_OPERATIONS=only): send documentId ' +
          '(or extensions.persistedQuery.sha256Hash) from its manifest, or one of its documents',
        { extensions: { code: 'PERSISTED_QUERY_ONLY' satisfies ErrorCode, http: { status: 400 } } },
      );
    },
  };
}

const notSupported: Plugin = {
  onParams({ params }) {
    if (params.query || operationId(params) === null) return;
    throw new GraphQLError(
      'persisted operations are off on this gateway (PERSISTED_OPERATIONS=off): send the query itself ' +
        "(Apollo's PersistedQueryLink does so by itself on this error)",
      { extensions: { code: 'PERSISTED_QUERY_NOT_SUPPORTED' satisfies ErrorCode, http: { status: 400 } } },
    );
  },
};
