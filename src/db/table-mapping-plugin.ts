import type { TableNode } from 'kysely';
import {
  IdentifierNode,
  OperationNodeTransformer,
  SchemableIdentifierNode,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
} from 'kysely';

/**
 * The synced table's schema and name are deployment settings (PGSCHEMA,
 * TRIPS_TABLE), so queries are written against fixed logical names ("trips",
 * "zip_zones") and this plugin rewrites them to the configured qualified names.
 * It keeps every query typed against one Database interface.
 */
export class TableMappingPlugin implements KyselyPlugin {
  readonly #transformer: TableMappingTransformer;

  constructor(mapping: Readonly<Record<string, { schema: string; table: string }>>) {
    this.#transformer = new TableMappingTransformer(mapping);
  }

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return this.#transformer.transformNode(args.node);
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

class TableMappingTransformer extends OperationNodeTransformer {
  constructor(private readonly mapping: Readonly<Record<string, { schema: string; table: string }>>) {
    super();
  }

  protected override transformTable(node: TableNode): TableNode {
    const target = node.table.schema ? undefined : this.mapping[node.table.identifier.name];
    if (!target) return super.transformTable(node);
    return {
      ...node,
      table: {
        ...SchemableIdentifierNode.createWithSchema(target.schema, target.table),
        schema: IdentifierNode.create(target.schema),
      },
    };
  }
}
