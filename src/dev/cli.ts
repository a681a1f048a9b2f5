/**
 * Dev data CLI: `npm run data -- <command> [args]`. Local development only.
 */
import { pathToFileURL } from 'node:url';
import type { DevCommand } from './commands/command.js';
import { deleteCommand } from './commands/delete.js';
import { insertCommand } from './commands/insert.js';
import { pipelineCommand } from './commands/pipeline.js';
import { statusCommand } from './commands/status.js';
import { streamCommand } from './commands/stream.js';
import { syncCommand } from './commands/sync.js';
import { updateCommand } from './commands/update.js';

export const COMMANDS: readonly DevCommand[] = [
  insertCommand,
  updateCommand,
  deleteCommand,
  syncCommand,
  streamCommand,
  statusCommand,
  pipelineCommand,
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    'usage: npm run data -- <command> [options]   (<command> --help for its options)',
    '',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
  ].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    console.log(usage());
    return name === undefined ? 1 : 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    console.error(`unknown command "${name}"\n\n${usage()}`);
    return 1;
  }
  try {
    await command.run(args);
    return 0;
  } catch (error) {
    console.error(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
