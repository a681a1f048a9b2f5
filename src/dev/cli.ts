/**
 * Data CLI for development and benchmarks: `npm run data -- <command> [options]`.
 * Each command lives in src/dev/commands/<name>.ts; add one line to COMMANDS
 * to register another.
 */
import { pathToFileURL } from 'node:url';
import { UsageError, type CliContext, type Command } from './commands/command.js';
import { generateCommand } from './commands/generate.js';
import { loadCsvCommand } from './commands/load-csv.js';
import { sampleCommand } from './commands/sample.js';
import { deleteCommand } from './commands/delete.js';
import { insertCommand } from './commands/insert.js';
import { insertReversedCommand } from './commands/insert-reversed.js';
import { pipelineCommand } from './commands/pipeline.js';
import { statusCommand } from './commands/status.js';
import { streamCommand } from './commands/stream.js';
import { syncCommand } from './commands/sync.js';
import { updateCommand } from './commands/update.js';
import { openDevDatabase } from './dev-database.js';
import { errorMessage } from '../errors.js';

const COMMANDS: Readonly<Record<string, Command>> = {
  sample: sampleCommand,
  generate: generateCommand,
  'load-csv': loadCsvCommand,
  // The local sync pipeline (see docs/local-pipeline.md).
  insert: insertCommand,
  'insert-reversed': insertReversedCommand,
  update: updateCommand,
  delete: deleteCommand,
  sync: syncCommand,
  stream: streamCommand,
  status: statusCommand,
  pipeline: pipelineCommand,
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  return [
    'usage: npm run data -- <command> [options]',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`),
    '',
    'options per command:',
    ...Object.entries(COMMANDS)
      .filter(([, command]) => command.usage !== undefined)
      .map(([name, command]) => `  ${name} ${command.usage}`),
    '  (the pipeline commands print their options with <command> --help)',
    '',
    'database: DATABASE_URL or PGHOST/PGUSER/... when set, else the embedded development database',
    'in EMBEDDED_PG_DIR (default .data/pg) on EMBEDDED_PG_PORT (default 54329), started when not already running.',
  ].join('\n');
}

/** Runs one CLI invocation; returns the process exit code. */
export async function runCli(
  argv: readonly string[],
  context: Partial<CliContext> & { err?: (line: string) => void } = {},
): Promise<number> {
  const env = context.env ?? process.env;
  const out = context.out ?? ((line: string) => console.log(line));
  // Failures go to stderr, so `npm run data -- status > status.json` stays clean.
  const err = context.err ?? ((line: string) => console.error(line));
  const ctx: CliContext = { env, out, database: context.database ?? (() => openDevDatabase(env, { log: out })) };
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out(help());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    err(`unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  if (command.usage !== undefined && (args.includes('--help') || args.includes('-h'))) {
    out(`usage: npm run data -- ${name} ${command.usage}\n\n${command.summary}`);
    return 0;
  }
  try {
    await command.run(args, ctx);
    return 0;
  } catch (error) {
    // parseArgs reports unknown or malformed options with ERR_PARSE_ARGS_* codes.
    const code = (error as { code?: string }).code ?? '';
    if (error instanceof UsageError || code.startsWith('ERR_PARSE_ARGS')) {
      err(`${name}: ${errorMessage(error)}\nusage: npm run data -- ${name} ${command.usage ?? '--help'}`);
      return 2;
    }
    if (code === '57P01' || code === '57P02' || code === '57P03') {
      // admin_shutdown, crash_shutdown, cannot_connect_now: the server went away under the command.
      err(
        `${name}: the database stopped while the command ran (${errorMessage(error)}): the process that started ` +
          'it ended, or `npm start` was restarted; run the command again',
      );
      return 1;
    }
    err(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runCli(process.argv.slice(2));
}
