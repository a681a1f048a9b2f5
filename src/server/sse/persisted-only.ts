/**
 * PERSISTED_OPERATIONS=only on the graphql-sse endpoints. Their protocol carries a document's text, never an id,
 * and yoga's persisted-operations plugin (which works on /graphql's parameters) never sees their requests: any
 * document ran there while /graphql refused it. There a document runs when it *is* one of the manifest's, compared
 * in a canonical form: clients send the same operation with `__typename` added to every selection (urql's
 * graphcache, Apollo's cache), and with its fields and definitions in the order written, where GraphQL Code
 * Generator's manifest sorts them; neither changes anything the operation can cost or reach.
 */
import { parse, print, visit, type ASTNode, type DocumentNode } from 'graphql';

export function canonicalDocument(document: DocumentNode): string {
  // On leave, so that what is inside is in its canonical form when compared. The order of selections,
  // arguments and variable definitions means nothing to what runs.
  const stripped = visit(document, {
    Field: {
      enter: (node) => (node.name.value === '__typename' ? null : undefined),
      leave: (node) => (node.arguments?.length ? { ...node, arguments: sorted(node.arguments) } : undefined),
    },
    SelectionSet: { leave: (node) => ({ ...node, selections: sorted(node.selections) }) },
    OperationDefinition: {
      leave: (node) =>
        node.variableDefinitions?.length
          ? { ...node, variableDefinitions: sorted(node.variableDefinitions) }
          : undefined,
    },
  });
  return stripped.definitions
    .map((definition) => print(definition))
    .sort()
    .join('\n');
}

/** The canonical forms of a manifest's documents (hash → text); a document that does not parse is left out. */
export function persistedDocumentSet(manifest: ReadonlyMap<string, string>): ReadonlySet<string> {
  const documents = new Set<string>();
  for (const text of manifest.values()) {
    try {
      documents.add(canonicalDocument(parse(text)));
    } catch {
      // /graphql reports such an entry when it is asked for; it can match nothing here.
    }
  }
  return documents;
}

function sorted<T extends ASTNode>(nodes: readonly T[]): T[] {
  return nodes
    .map((node) => ({ node, text: print(node) }))
    .sort((a, b) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0))
    .map(({ node }) => node);
}
