import { GraphQLError, Kind, type ArgumentNode, type ASTNode, type DocumentNode } from 'graphql';
import type { ErrorCode } from '../../errors.js';

/**
 * Gives a validation error about an argument's value the argument's path, as
 * every error the gateway raises itself does (`extensions.argument`, and the
 * message starts with it): `filter.pickupAt.gte: DateTime "2016-02-30T00:00:00Z"
 * is not a calendar date`. graphql-js reports such an error on the value's
 * node only, and a scalar's own message (thrown from parseLiteral) does not
 * say which of a filter's many instants it was about.
 *
 * Only errors on a node inside an argument are touched; the rest (unknown
 * fields, missing arguments, limits) pass as they are.
 */
export function withArgumentPaths(document: DocumentNode, errors: readonly Error[]): Error[] {
  let paths: Map<ASTNode, string> | undefined;
  return errors.map((error) => {
    if (!(error instanceof GraphQLError)) return error;
    const node = error.nodes?.[0];
    if (!node || error.extensions.argument !== undefined) return error;
    paths ??= argumentPaths(document);
    const path = paths.get(node);
    if (path === undefined) return error;
    // A scalar's own words (ours say what a value must look like) rather than graphql-js' "Expected value of type".
    const reason =
      error.originalError && !(error.originalError instanceof GraphQLError)
        ? error.originalError.message
        : error.message;
    return new GraphQLError(`${path}: ${reason}`, {
      nodes: error.nodes,
      extensions: {
        ...error.extensions,
        code: (error.extensions.code as string | undefined) ?? ('GRAPHQL_VALIDATION_FAILED' satisfies ErrorCode),
        argument: path,
      },
    });
  });
}

/**
 * Every argument, input field and list item of the document, by node: `filter.and[1].fare.lt`, and
 * `@include.if` for a directive's. Iterative: a hostile document may nest deeper than the stack.
 */
function argumentPaths(document: DocumentNode): Map<ASTNode, string> {
  const paths = new Map<ASTNode, string>();
  const pending: { node: ASTNode; path: string }[] = [{ node: document, path: '' }];
  const argumentsOf = (prefix: string, args: readonly ArgumentNode[] | undefined) => {
    for (const argument of args ?? []) pending.push({ node: argument, path: `${prefix}${argument.name.value}` });
  };
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const { node, path } = next;
    switch (node.kind) {
      case Kind.DOCUMENT:
        for (const definition of node.definitions) pending.push({ node: definition, path });
        break;
      case Kind.OPERATION_DEFINITION:
      case Kind.FRAGMENT_DEFINITION:
      case Kind.INLINE_FRAGMENT:
        for (const child of [...(node.directives ?? []), ...node.selectionSet.selections])
          pending.push({ node: child, path });
        break;
      case Kind.FIELD:
        argumentsOf('', node.arguments);
        for (const child of [...(node.directives ?? []), ...(node.selectionSet?.selections ?? [])])
          pending.push({ node: child, path });
        break;
      case Kind.FRAGMENT_SPREAD:
        for (const directive of node.directives ?? []) pending.push({ node: directive, path });
        break;
      case Kind.DIRECTIVE:
        argumentsOf(`@${node.name.value}.`, node.arguments);
        break;
      case Kind.ARGUMENT:
        paths.set(node, path);
        pending.push({ node: node.value, path });
        break;
      case Kind.OBJECT_FIELD:
        paths.set(node, path);
        pending.push({ node: node.value, path });
        break;
      case Kind.OBJECT:
        paths.set(node, path);
        for (const field of node.fields) pending.push({ node: field, path: `${path}.${field.name.value}` });
        break;
      case Kind.LIST:
        paths.set(node, path);
        node.values.forEach((item, index) => pending.push({ node: item, path: `${path}[${index}]` }));
        break;
      default:
        // Scalars, enums, null and variables: a leaf value.
        if (path !== '') paths.set(node, path);
    }
  }
  return paths;
}

/**
 * A variable graphql-js could not coerce ("Variable "$id" got invalid value …") comes out of execution with no
 * code at all. It is the caller's input: BAD_USER_INPUT, and `argument` names the variable (`$id`), as the
 * message does.
 */
export function withVariableCode(error: GraphQLError): GraphQLError {
  const node = error.nodes?.[0];
  const { code, argument } = error.extensions;
  if (node?.kind !== Kind.VARIABLE_DEFINITION || error.path !== undefined || argument !== undefined) return error;
  // yoga's executor codes a subscription's bad variable BAD_USER_INPUT itself, but names nothing.
  if (code !== undefined && code !== 'BAD_USER_INPUT') return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    originalError: error.originalError,
    extensions: {
      ...error.extensions,
      code: 'BAD_USER_INPUT' satisfies ErrorCode,
      argument: `$${node.variable.name.value}`,
    },
  });
}
