import { createLogger, type Logger, type LogLevel } from '../../src/logger.js';

/** One line the gateway logged, parsed: its level, message and fields. */
export interface LogLine {
  level: string;
  msg: string;
  [field: string]: unknown;
}

/** A logger whose lines a test reads back, in order, from `lines`. */
export function capturingLogger(level: LogLevel = 'debug'): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  return { lines, logger: createLogger(level, {}, (_level, line) => lines.push(JSON.parse(line) as LogLine)) };
}
