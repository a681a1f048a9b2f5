/**
 * Load generator for the subscriptions benchmark, run as its own process
 * (bench/subscriptions.ts spawns it): holds N real SSE connections to the
 * gateway, each one tripsAdded subscription, and measures for every row each
 * client receives the delay since the row was written (its pickupAt is set to
 * clock_timestamp() by the inserting transaction, just before it commits).
 *
 * Driven over IPC: connect → reset (start of the measured window) → report → close.
 */
import { payloadOf, RawSseSubscription, type SseEvent } from '../test/support/raw-sse.js';
import { NetSseSubscription } from './support/net-sse.js';

export interface ConnectRequest {
  type: 'connect';
  origin: string;
  count: number;
  mode: 'distinct' | 'single';
  concurrency: number;
  /** How a distinct-connections stream is read: off the socket (net-sse.ts), or through node:http (raw-sse.ts). */
  reader: 'net' | 'http';
}

export interface LoadReport {
  type: 'report';
  clients: number;
  connected: number;
  /** Rows received per client during the window: the fewest and the most. */
  minRows: number;
  maxRows: number;
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  closed: number;
  cpuMicros: number;
  /** Rows received per latency in ms (index), so the reports of several load processes can be merged. */
  histogram: Record<number, number>;
}

const QUERY = 'subscription { tripsAdded { cursor trips { tripId pickupAt } } }';
const MAX_MS = 60_000;

interface Client {
  subscription?: { close(): void };
  rows: number;
  started: boolean;
}

const clients: Client[] = [];
let histogram = new Uint32Array(MAX_MS + 1);
let samples = 0;
let errors = 0;
let closed = 0;
let cpuAtReset = 0;

/** What an event says, for the measurement: whether it carries errors, and when each of its rows was written. */
interface EventRows {
  errors: boolean;
  writtenAt: number[];
}

let lastEvent: { data: string; rows: EventRows } | undefined;

/**
 * Every client receives the same bytes for a sync, and this one process reads
 * all of them on one core: parsing each copy again (~20 µs for 50 rows) would
 * hold up the reading of the other 9,999 sockets, and measure the load
 * generator rather than the gateway. A client on its own machine parses in
 * parallel with the others. So an event's text is parsed once and every copy
 * is compared with it, in full.
 */
function rowsOf(event: SseEvent, mode: 'distinct' | 'single'): EventRows {
  if (lastEvent?.data === event.data) return lastEvent.rows;
  const result = payloadOf(event, mode) as {
    data?: { tripsAdded: { trips: { pickupAt: string }[] } } | null;
    errors?: unknown[];
  };
  const rows = {
    errors: Boolean(result.errors),
    writtenAt: (result.data?.tripsAdded.trips ?? []).map((trip) => Date.parse(trip.pickupAt)),
  };
  lastEvent = { data: event.data, rows };
  return rows;
}

function onEvent(client: Client, event: SseEvent, mode: 'distinct' | 'single'): void {
  if (event.event !== 'next') return;
  const now = Date.now();
  const { errors: failed, writtenAt } = rowsOf(event, mode);
  if (failed) errors += 1;
  client.started = true;
  for (const written of writtenAt) {
    const latency = Math.max(0, Math.min(MAX_MS, now - written));
    histogram[latency] = (histogram[latency] ?? 0) + 1;
    samples += 1;
    client.rows += 1;
  }
}

async function connect(request: ConnectRequest): Promise<void> {
  const started = Date.now();
  let next = 0;
  const openOne = async () => {
    while (next < request.count) {
      const client: Client = { rows: 0, started: false };
      clients[next++] = client;
      const handlers = {
        onEvent: (event: SseEvent) => onEvent(client, event, request.mode),
        onClose: () => (closed += 1),
      };
      client.subscription =
        request.reader === 'net' && request.mode === 'distinct'
          ? await NetSseSubscription.open({ origin: request.origin, query: QUERY, ...handlers })
          : await RawSseSubscription.open({ origin: request.origin, mode: request.mode, query: QUERY, ...handlers });
    }
  };
  await Promise.all(Array.from({ length: request.concurrency }, openOne));
  // Every subscription has started once its first event (the empty batch with the start cursor) arrived.
  while (clients.some((client) => !client.started)) await new Promise((resolve) => setTimeout(resolve, 50));
  process.send?.({ type: 'connected', ms: Date.now() - started });
}

function percentile(fraction: number): number {
  const rank = Math.ceil(samples * fraction);
  let seen = 0;
  for (let ms = 0; ms < histogram.length; ms += 1) {
    seen += histogram[ms] ?? 0;
    if (seen >= rank) return ms;
  }
  return MAX_MS;
}

function report(): LoadReport {
  let max = 0;
  for (let ms = histogram.length - 1; ms >= 0; ms -= 1) {
    if ((histogram[ms] ?? 0) > 0) {
      max = ms;
      break;
    }
  }
  const rows = clients.map((client) => client.rows);
  const cpu = process.cpuUsage();
  return {
    type: 'report',
    clients: clients.length,
    connected: clients.filter((client) => client.started).length,
    minRows: Math.min(...rows),
    maxRows: Math.max(...rows),
    samples,
    p50: percentile(0.5),
    p90: percentile(0.9),
    p99: percentile(0.99),
    max,
    errors,
    closed,
    cpuMicros: cpu.user + cpu.system - cpuAtReset,
    histogram: Object.fromEntries([...histogram.entries()].filter(([, count]) => count > 0)),
  };
}

process.on('message', (message: { type: 'connect' | 'reset' | 'report' | 'close' }) => {
  switch (message.type) {
    case 'connect':
      void connect(message as unknown as ConnectRequest);
      break;
    case 'reset': {
      histogram = new Uint32Array(MAX_MS + 1);
      samples = 0;
      errors = 0;
      for (const client of clients) client.rows = 0;
      const cpu = process.cpuUsage();
      cpuAtReset = cpu.user + cpu.system;
      process.send?.({ type: 'reset' });
      break;
    }
    case 'report':
      process.send?.(report());
      break;
    case 'close':
      for (const client of clients) client.subscription?.close();
      setTimeout(() => process.exit(0), 200);
      break;
  }
});
process.send?.({ type: 'ready' });
