/**
 * Records the SQL statements (text and parameters) a piece of the data layer
 * sends, by running it on the gateway's own Kysely setup (createDb: same
 * table mapping) with one more plugin at the end of the chain. That plugin
 * sees the final operation tree and compiles it exactly as the executor will,
 * so the baseline can replay byte-identical statements.
 */
import type { KyselyPlugin, PluginTransformQueryArgs, PluginTransformResultArgs, QueryExecutor } from 'kysely';
import type { Db } from '../../src/db/database.js';

export interface RecordedStatement {
  sql: string;
  parameters: readonly unknown[];
}

class RecordingPlugin implements KyselyPlugin {
  executor: QueryExecutor | undefined;
  readonly statements: RecordedStatement[] = [];

  transformQuery(args: PluginTransformQueryArgs) {
    if (!this.executor) throw new Error('RecordingPlugin used before its executor was set');
    const compiled = this.executor.compileQuery(args.node, args.queryId);
    this.statements.push({ sql: compiled.sql, parameters: [...compiled.parameters] });
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs) {
    return args.result;
  }
}

/** Runs `work` against a recording view of `db` and returns what it sent, in order. */
export async function recordStatements<T>(
  db: Db,
  work: (db: Db) => Promise<T>,
): Promise<{ result: T; statements: RecordedStatement[] }> {
  const plugin = new RecordingPlugin();
  const recording = db.withPlugin(plugin);
  plugin.executor = recording.getExecutor();
  const result = await work(recording);
  return { result, statements: plugin.statements };
}
