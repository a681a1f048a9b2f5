/** A `npm run data -- <name> [args]` command (dispatched by src/dev/cli.ts). */
export interface DevCommand {
  name: string;
  summary: string;
  run(args: string[]): Promise<void>;
}

/** Parses "500ms", "15s", "2m"; a bare number means seconds. */
export function parseDuration(raw: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(raw.trim());
  if (!match) throw new Error(`${option}: expected a duration like 500ms, 15s or 2m, got "${raw}"`);
  const value = Number(match[1]);
  const unit = match[2] ?? 's';
  return Math.round(unit === 'ms' ? value : unit === 's' ? value * 1000 : value * 60_000);
}

export function parseCount(raw: string | undefined, option: string, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new Error(`${option}: expected a whole number, got "${raw}"`);
  return Number(raw);
}

export function parseNumber(raw: string | undefined, option: string): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw new Error(`${option}: expected a number, got "${raw}"`);
  return value;
}

export function parseIds(raw: string, option: string): string[] {
  const ids = raw.split(',').map((part) => part.trim());
  const bad = ids.find((id) => !/^-?\d+$/.test(id));
  if (bad !== undefined) throw new Error(`${option}: expected comma-separated integer ids, got "${bad}"`);
  return ids;
}

/** Resolves on Ctrl-C / SIGTERM, for commands that run until stopped. */
export function untilInterrupted(): { promise: Promise<void>; dispose(): void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  const onSignal = () => resolve();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    promise,
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
