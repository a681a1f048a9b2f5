import { parseArgs } from 'node:util';
import { randomTrips } from '../pipeline/random-trips.js';
import { insertNewTrips, knownZips } from '../pipeline/source-writes.js';
import { parseCount, parseDuration, parseNumber, untilInterrupted, type DevCommand } from './command.js';
import { withPipeline } from './pipeline-session.js';

const USAGE = `stream [--rate 100] [--seconds 60] [--rows N] [--batch 100ms]
  Inserts random trips into the source at --rate rows per second, one transaction (one source version) per
  batch interval, for --seconds (0: until Ctrl-C) or until --rows rows.`;

export const streamCommand: DevCommand = {
  name: 'stream',
  summary: 'insert trips into the source at a steady rate (a live feed for the pipeline and subscriptions)',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        rate: { type: 'string' },
        seconds: { type: 'string' },
        rows: { type: 'string' },
        batch: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) return console.log(USAGE);
    const rate = parseNumber(values.rate, '--rate') ?? 100;
    if (rate <= 0) throw new Error(`--rate: must be positive, got ${rate}`);
    const seconds = parseNumber(values.seconds, '--seconds') ?? 60;
    const rowLimit = values.rows === undefined ? Infinity : parseCount(values.rows, '--rows', 0);
    const batchMs = values.batch === undefined ? 100 : parseDuration(values.batch, '--batch');
    const stop = untilInterrupted();
    let stopped = false;
    void stop.promise.then(() => {
      stopped = true;
    });
    try {
      await withPipeline(async ({ pool, names, log }) => {
        const zips = await knownZips(pool, names);
        const started = performance.now();
        const ends = seconds > 0 ? started + seconds * 1000 : Infinity;
        let inserted = 0;
        let batches = 0;
        let lastReport = started;
        for (let tick = 1; !stopped; tick++) {
          const elapsedMs = performance.now() - started;
          const ending = seconds > 0 && elapsedMs >= seconds * 1000;
          // Rows due so far; catching up when a batch ran late keeps the average rate exact.
          const dueByTime = Math.floor((rate * Math.min(elapsedMs, seconds > 0 ? seconds * 1000 : Infinity)) / 1000);
          const due = Math.min(dueByTime, rowLimit) - inserted;
          if (due > 0) {
            const { count } = await insertNewTrips(pool, names, due, (first, n) => randomTrips(first, n, { zips }));
            inserted += count;
            batches++;
          }
          if (ending || inserted >= rowLimit) break;
          if (performance.now() - lastReport >= 5_000) {
            lastReport = performance.now();
            log(`stream: ${inserted} rows in ${batches} batches`);
          }
          // Never past the end: a batch interval longer than --seconds (a bare --batch 20 is 20 s) ran on to it.
          const nextTick = Math.min(started + tick * batchMs, ends);
          await Promise.race([stop.promise, sleep(Math.max(0, nextTick - performance.now()))]);
        }
        const took = (performance.now() - started) / 1000;
        console.log(
          `inserted ${inserted} trips in ${batches} transactions over ${took.toFixed(1)} s ` +
            `(${(inserted / Math.max(took, 0.001)).toFixed(1)} rows/s)`,
        );
      });
    } finally {
      stop.dispose();
    }
  },
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
