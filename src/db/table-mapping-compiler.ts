import {
  PostgresDialect,
  PostgresQueryCompiler,
  SchemableIdentifierNode,
  type Driver,
  type QueryCompiler,
  type TableNode,
} from 'kysely';
import type pg from 'pg';
import { CancellableDriver } from './cancellable-driver.js';

/** Logical table name ("trips") to the configured qualified name. */
export type TableMapping = Readonly<Record<string, { schema: string; table: string }>>;

/**
 * The synced table's schema and name are deployment settings (PGSCHEMA,
 * TRIPS_TABLE), so queries are written against fixed logical names ("trips",
 * "zip_zones") and the configured qualified names are written out as the SQL
 * is generated. It keeps every query typed against one Database interface.
 *
 * Why in the compiler and not a plugin: a Kysely plugin rewrites by copying
 * the whole operation tree before it is compiled, which cost about 80 µs per
 * aggregate request (a third of the gateway's own CPU on a rollup answer).
 * Here the names are swapped while the tree is walked once anyway.
 */
class TableMappingCompiler extends PostgresQueryCompiler {
  readonly #mapping: TableMapping;

  constructor(mapping: TableMapping) {
    super();
    this.#mapping = mapping;
  }

  protected override visitTable(node: TableNode): void {
    const target = node.table.schema ? undefined : this.#mapping[node.table.identifier.name];
    if (!target) return super.visitTable(node);
    super.visitTable({ ...node, table: SchemableIdentifierNode.createWithSchema(target.schema, target.table) });
  }
}

/** Postgres with the table mapping, and statements a request's abort signal cancels (cancellable-driver.ts). */
export class TableMappingPostgresDialect extends PostgresDialect {
  readonly #mapping: TableMapping;
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool, mapping: TableMapping) {
    super({ pool });
    this.#pool = pool;
    this.#mapping = mapping;
  }

  override createDriver(): Driver {
    return new CancellableDriver(this.#pool);
  }

  override createQueryCompiler(): QueryCompiler {
    return new TableMappingCompiler(this.#mapping);
  }
}
