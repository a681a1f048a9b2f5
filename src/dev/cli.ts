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
import { openDevDatabase } from './dev-database.js';

const COMMANDS: Readonly<Record<string, Command>> = {
  sample: sampleCommand,
  generate: generateCommand,
  'load-csv': loadCsvCommand,
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
    ...Object.entries(COMMANDS).map(([name, command]) => `  ${name} ${command.usage}`),
    '',
    'database: DATABASE_URL or PGHOST/PGUSER/... when set, else the embedded development database',
    'in .data/pg (port EMBEDDED_PG_PORT, default 54329), started when not already running.',
  ].join('\n');
}

/** Runs one CLI invocation; returns the process exit code. */
export async function runCli(argv: readonly string[], context: Partial<CliContext> = {}): Promise<number> {
  const env = context.env ?? process.env;
  const out = context.out ?? ((line: string) => console.log(line));
  const ctx: CliContext = { env, out, database: context.database ?? (() => openDevDatabase(env, out)) };
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out(help());
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    out(`unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
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
      out(`${name}: ${(error as Error).message}\nusage: npm run data -- ${name} ${command.usage}`);
      return 2;
    }
    out(`${name} failed: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await runCli(process.argv.slice(2));
}
