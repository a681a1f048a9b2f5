import type { ErrorCode } from '../../errors.js';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import { GraphQLError, type DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { LRUCache } from 'lru-cache';
import { withLimitNames } from './limit-errors.js';

export interface DocumentLimits {
  maxTokens: number;
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
}

/**
 * Static limits on a document, all from graphql-armor. The token limit comes
 * first and bounds everything after it: parsing stops at the first token past
 * it, so a 2 MB document of aliases, a list nested 10,000 deep or a chain of
 * 10,000 fragments costs the parse of a few thousand tokens and never reaches
 * validation, the caches or the cost estimate. Aliases of `__typename` count
 * like any other (graphql-armor exempts them by default).
 */
export function useDocumentLimits(
  limits: DocumentLimits,
  onReject: (error: GraphQLError, request: Request | undefined) => void,
): Plugin<Record<string, unknown>>[] {
  // graphql-armor hands its handler a validation context, not the request. Parsing and validating are
  // synchronous, and this plugin's hooks run just before armor's, so the request being checked is the one
  // noted here: the log line of a refusal then carries its request id.
  let checking: Request | undefined;
  const noteRequest: Plugin<Record<string, unknown>> = {
    onParse({ context }) {
      checking = requestOf(context);
    },
    onValidate({ context }) {
      checking = requestOf(context);
    },
  };
  const rejected = [
    (_ctx: unknown, error: GraphQLError) => {
      onReject(error, checking);
      // graphql-armor throws its own error right after this handler, out of validation (so no after-hook sees
      // it): throwing the rewritten one first is the only way to give it a code and the setting's name.
      const named = withLimitNames(error);
      if (named !== error) throw named;
    },
  ];
  return [
    noteRequest,
    useNestingLimit(MAX_NESTING, (error) => onReject(error, checking)),
    maxTokensPlugin({ n: limits.maxTokens, onReject: rejected, propagateOnRejection: true }),
    // A fragment spread is no level of its own: Relay and Apollo clients chain fragments, and a query written
    // with them was refused as deeper than the same query written out.
    maxDepthPlugin({ n: limits.maxDepth, flattenFragments: true, onReject: rejected, propagateOnRejection: true }),
    maxAliasesPlugin({ n: limits.maxAliases, allowList: [], onReject: rejected, propagateOnRejection: true }),
    maxDirectivesPlugin({ n: limits.maxDirectives, onReject: rejected, propagateOnRejection: true }),
  ];
}

function requestOf(context: unknown): Request | undefined {
  // The fetch adapter's Request is its own class, not always the global one: no instanceof.
  return (context as { request?: Request } | null)?.request;
}

/** No argument or selection of this schema nests anywhere near this deep (filters nest 8 levels at most). */
const MAX_NESTING = 64;

/**
 * graphql-js parses nested lists, objects and selections recursively: a
 * value nested a few thousand levels deep overflows the stack within the
 * token limit (a RangeError, answered as a 500). A linear scan of the source
 * refuses such documents before the parser sees them.
 */
function useNestingLimit(max: number, onReject: (error: GraphQLError) => void): Plugin<Record<string, unknown>> {
  return {
    onParse({ params }) {
      const depth = nestingDepth(typeof params.source === 'string' ? params.source : params.source.body, max);
      if (depth > max) {
        const error = new GraphQLError(
          `the document nests brackets or braces more than ${max} levels deep; no operation of this API needs that`,
          { extensions: { code: 'GRAPHQL_PARSE_FAILED' satisfies ErrorCode, http: { status: 400 } } },
        );
        onReject(error);
        throw error;
      }
    },
  };
}

/** Deepest nesting of (), [] and {} outside strings and comments; stops counting past `max`. */
export function nestingDepth(source: string, max: number): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < source.length; i += 1) {
    const c = source.charCodeAt(i);
    if (c === 0x23 /* # */) {
      while (i < source.length && source.charCodeAt(i) !== 0x0a && source.charCodeAt(i) !== 0x0d) i += 1;
    } else if (c === 0x22 /* " */) {
      if (source.startsWith('"""', i)) {
        const end = source.indexOf('"""', i + 3);
        i = end < 0 ? source.length : end + 2;
      } else {
        for (i += 1; i < source.length; i += 1) {
          const d = source.charCodeAt(i);
          if (d === 0x5c /* \ */) i += 1;
          else if (d === 0x22 || d === 0x0a) break;
        }
      }
    } else if (c === 0x28 || c === 0x5b || c === 0x7b) {
      depth += 1;
      if (depth > deepest) deepest = depth;
      if (deepest > max) return deepest;
    } else if (c === 0x29 || c === 0x5d || c === 0x7d) {
      depth -= 1;
    }
  }
  return deepest;
}

/** Documents whose text is longer than this are parsed every time and never cached. */
const LARGEST_CACHED_SOURCE = 64 * 1024;

/**
 * What one byte of cached source costs in memory, measured: the parsed
 * document keeps its token list and names, the validation result and the
 * graphql-jit code compiled for it are keyed by it. 300 distinct 50 KB
 * documents grew the heap by ~45 MB through the caches with a 4 MB source budget.
 */
const BYTES_PER_SOURCE_BYTE = 20;

/**
 * Yoga's parse and validation caches, bounded by the memory their entries
 * take rather than by entry count (yoga's default is 1,000 entries of any
 * size, which a few dozen 2 MB documents turned into gigabytes). An entry
 * weighs its source length times BYTES_PER_SOURCE_BYTE; documents over
 * LARGEST_CACHED_SOURCE are never cached. The validation cache
 * (useValidationCache) and the compiled-execution cache are keyed weakly by the
 * cached DocumentNode, so they shrink with it.
 */
export function boundedParserCache(budgetBytes: number) {
  if (budgetBytes === 0) return false as const;
  const make = <T extends object>() =>
    new LRUCache<string, T>({
      maxSize: budgetBytes,
      sizeCalculation: (_value, key) => Math.max(key.length * BYTES_PER_SOURCE_BYTE, 1),
      maxEntrySize: Math.min(LARGEST_CACHED_SOURCE * BYTES_PER_SOURCE_BYTE, budgetBytes),
    });
  // Yoga's own validation cache keys its entries by the names of the validation rules, read on every
  // request: useValidationCache does without.
  return { documentCache: make<DocumentNode>(), errorCache: make<object>(), validationCache: false };
}

/**
 * Validation results by schema and parsed document. Yoga's cache (turned off in boundedParserCache) keys
 * them first by the joined names of the request's rules, which it reads from ~30 rule functions on every
 * request, a few microseconds each time. This gateway's rules are the same for every request (the spec's,
 * and those its plugins add: depth, aliases, directives, list literals, introspection), so the schema and
 * the document are the whole key. Place it before every other plugin with an onValidate hook: its
 * after-hook then stores the result before their after-hooks rewrite it, and on a hit they rewrite the
 * stored result the same way again.
 */
export function useValidationCache(): Plugin {
  const bySchema = new WeakMap<object, WeakMap<DocumentNode, readonly Error[]>>();
  return {
    onValidate({ params: { schema, documentAST }, setResult }) {
      let byDocument = bySchema.get(schema);
      if (!byDocument) {
        byDocument = new WeakMap();
        bySchema.set(schema, byDocument);
      }
      const cached = byDocument.get(documentAST);
      if (cached) {
        setResult(cached);
        return undefined;
      }
      const store = byDocument;
      return ({ result }) => {
        store.set(documentAST, result);
      };
    },
  };
}
