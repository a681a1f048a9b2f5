import { resolveNodes } from '@pothos/plugin-relay';
import { UserInputError } from '../errors.js';
import { builder } from './builder.js';
import { TRIP_NODE_KEY, type NodeKey } from './trip.js';

/**
 * Relay's node(id:) and nodes(ids:), with the global ids parsed here rather
 * than by Pothos' ID argument: Pothos decodes every id of `ids` before the
 * resolver runs, so one malformed id (`Trip:`, not base64, an unknown type)
 * failed the whole field and, `nodes` being non-null, nulled every good id
 * beside it. Here each id is parsed on its own: a malformed one is an error at
 * its own index (path ["nodes", i]) that names it, the others still resolve,
 * and nothing malformed reaches Postgres.
 */

/** The types with global ids, each with its key's parser (trip.ts for Trip). */
const NODE_TYPES: ReadonlyMap<string, NodeKey> = new Map([['Trip', TRIP_NODE_KEY]]);

type ParsedNodeId = { typename: string; key: string } | { problem: string };

/** Padded standard base64, as Pothos encodes ids (the `id` field's value). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const TYPENAME = /^[A-Z_a-z]\w*$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function shown(text: string): string {
  return JSON.stringify(text.slice(0, 40)) + (text.length > 40 ? '…' : '');
}

const FORMAT = 'a node id is the base64 of "<Type>:<key>", as the id field returns it';

/** A global id as the id field writes it, or what is wrong with it. */
export function parseNodeId(id: string): ParsedNodeId {
  if (id === '') return { problem: `"" is not a node id: ${FORMAT}` };
  if (!BASE64.test(id)) {
    const decodedAlready = /^[A-Z_a-z]\w*:/.test(id) ? ' (it looks decoded: send the base64 the id field returns)' : '';
    return { problem: `${shown(id)} is not a node id: it is not base64${decodedAlready}; ${FORMAT}` };
  }
  let decoded: string;
  try {
    decoded = utf8.decode(Buffer.from(id, 'base64'));
  } catch {
    return { problem: `${shown(id)} is not a node id: it does not decode to text; ${FORMAT}` };
  }
  const colon = decoded.indexOf(':');
  const typename = colon < 0 ? '' : decoded.slice(0, colon);
  if (!TYPENAME.test(typename)) {
    return { problem: `${shown(id)} is not a node id: it decodes to ${shown(decoded)}; ${FORMAT}` };
  }
  const type = NODE_TYPES.get(typename);
  if (!type) {
    return {
      problem:
        `${shown(id)} is not a node id: it decodes to ${shown(decoded)}, and ${shown(typename)} has no node ids ` +
        `(only ${[...NODE_TYPES.keys()].join(', ')} has them)`,
    };
  }
  const key = type.parse(decoded.slice(colon + 1));
  if (key === undefined) {
    return { problem: `${shown(id)} is not a node id: it decodes to ${shown(decoded)}; ${type.meaning}` };
  }
  return { typename, key };
}

builder.queryFields((t) => ({
  node: t.field({
    type: builder.nodeInterfaceRef(),
    nullable: true,
    description: 'Fetches an object by its Relay global id; null when absent.',
    args: { id: t.arg.id({ required: true }) },
    resolve: async (_root, { id }, ctx, info) => {
      const parsed = parseNodeId(id);
      if ('problem' in parsed) throw new UserInputError('id', parsed.problem);
      const [node] = await resolveNodes(builder, ctx, info, [{ typename: parsed.typename, id: parsed.key }]);
      return node;
    },
  }),
  nodes: t.field({
    type: [builder.nodeInterfaceRef()],
    nullable: { list: false, items: true },
    description: 'Fetches objects by Relay global ids; null for each id not found.',
    args: { ids: t.arg.idList({ required: true }) },
    resolve: async (_root, { ids }, ctx, info) => {
      const parsed = ids.map((id) => parseNodeId(id));
      const found = await resolveNodes(
        builder,
        ctx,
        info,
        parsed.map((entry) => ('problem' in entry ? null : { typename: entry.typename, id: entry.key })),
      );
      // An Error as a list item is graphql-js' error at that index alone.
      return parsed.map((entry, index) =>
        'problem' in entry ? new UserInputError(`ids[${index}]`, entry.problem) : found[index],
      );
    },
  }),
}));
