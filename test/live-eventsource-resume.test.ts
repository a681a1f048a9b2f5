import { EventSource } from 'eventsource';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventIdFor, LONGEST_EVENT_ID, UNCARRIED_POSITION_ID } from '../src/server/sse/event-ids.js';
import { expectedIds, insertAtRate, insertTrips, sleep, startLiveGateway, type LiveGateway } from './support/live.js';

const SUBSCRIPTION = 'subscription { tripsAdded { trips { tripId } } }';

/**
 * A page with no GraphQL library: a plain EventSource on the distinct-connections
 * URL. It reconnects by itself when the server drops the connection, sending the
 * last `id:` it saw as Last-Event-ID. Note the query does not even select `cursor`.
 */
class PlainEventSource {
  readonly ids: string[] = [];
  readonly eventIds: string[] = [];
  opened = 0;
  readonly source: EventSource;

  constructor(url: string) {
    this.source = new EventSource(url);
    this.source.addEventListener('open', () => (this.opened += 1));
    this.source.addEventListener('next', (event) => {
      const result = JSON.parse(event.data) as { data?: { tripsAdded: { trips: { tripId: string }[] } } };
      this.eventIds.push(event.lastEventId);
      for (const trip of result.data?.tripsAdded.trips ?? []) this.ids.push(trip.tripId);
    });
  }

  async until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(20);
    }
  }
}

describe('a native EventSource resumes from Last-Event-ID', () => {
  let gw: LiveGateway;
  beforeAll(async () => {
    gw = await startLiveGateway('live_eventsource', { LIVE_POLL_INTERVAL_MS: '50' });
    await insertTrips(
      gw.database.pool,
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  });
  afterAll(() => gw.close());

  it('gets every row exactly once across connections the server drops', async () => {
    const url = `${gw.origin}/graphql?query=${encodeURIComponent(SUBSCRIPTION)}`;
    const page = new PlainEventSource(url);
    try {
      await page.until(() => page.eventIds.length > 0, 'the first batch');
      // Every event names its position, starting with the first (empty) batch.
      expect(page.eventIds[0]).not.toBe('');

      let next = 21;
      for (let drop = 1; drop <= 2; drop += 1) {
        const inserting = insertAtRate(gw.database.pool, next, 150, 300);
        next += 150;
        await page.until(() => page.ids.length > 0, 'rows');
        await sleep(150);
        // The server drops every connection mid-stream; rows keep being written meanwhile.
        gw.http.server.closeAllConnections();
        await inserting;
        await page.until(() => page.opened > drop, `reconnect ${drop}`);
      }
      await insertTrips(
        gw.database.pool,
        Array.from({ length: 30 }, (_, i) => next + i),
      );
      const want = await expectedIds(gw.database.pool, 20);
      await page.until(() => page.ids.length >= want.length, 'every row');
      await sleep(200);
      expect(new Set(page.ids).size).toBe(page.ids.length);
      expect(page.ids).toEqual(want);
      expect(page.opened).toBe(3);
      expect(page.eventIds.every((id) => id !== '')).toBe(true);
    } finally {
      page.source.close();
    }
  });

  it('resumes exactly when the cursor is long: many transactions open in the database', async () => {
    // Each transaction in progress is listed in the snapshot a cursor holds: 190 of them (another app's writers on
    // a shared server) make it over 1,000 characters. Ids that long used to be left out, so the EventSource
    // resumed from its previous id and got rows twice.
    const holders = await holdOpenTransactions(gw.database.url, 190);
    const url = `${gw.origin}/graphql?query=${encodeURIComponent('subscription { tripsAdded { cursor trips { tripId } } }')}`;
    const page = new PlainEventSource(url);
    try {
      await page.until(() => page.eventIds.length > 0, 'the first batch');
      await insertTrips(gw.database.pool, [900_001, 900_002]);
      await page.until(() => page.ids.length >= 2, 'the first rows');
      expect(page.eventIds.at(-1)!.length).toBeGreaterThan(1024);
      gw.http.server.closeAllConnections();
      await insertTrips(gw.database.pool, [900_003]);
      await page.until(() => page.opened > 1, 'the reconnect');
      await page.until(() => page.ids.length >= 3, 'the row written during the drop');
      await sleep(300);
      expect(page.ids).toEqual(['900001', '900002', '900003']);
    } finally {
      page.source.close();
      await Promise.all(holders.map((client) => client.end()));
    }
  });

  it('an id that stands for a position too long to send back gets CURSOR_EXPIRED saying so', async () => {
    expect(eventIdFor('a'.repeat(LONGEST_EVENT_ID))).toBe('a'.repeat(LONGEST_EVENT_ID));
    expect(eventIdFor('a'.repeat(LONGEST_EVENT_ID + 1))).toBe(UNCARRIED_POSITION_ID);
    const response = await fetch(`${gw.origin}/graphql?query=${encodeURIComponent(SUBSCRIPTION)}`, {
      headers: { accept: 'text/event-stream', 'last-event-id': UNCARRIED_POSITION_ID },
    });
    const data = /event: next\ndata: (.*)\n/.exec(await response.text())?.[1];
    const error = (JSON.parse(data!) as { errors: { message: string; extensions: Record<string, unknown> }[] })
      .errors[0]!;
    expect(error.extensions).toMatchObject({ code: 'CURSOR_EXPIRED', argument: 'Last-Event-ID' });
    expect(error.message).toMatch(/^Last-Event-ID: the stream's position at the last event received was too long/);
    expect(error.message).toMatch(/subscribe with after: <that streamCursor>/);
  });

  it('without Last-Event-ID starts at now, as before', async () => {
    const response = await fetch(`${gw.origin}/graphql?query=${encodeURIComponent(SUBSCRIPTION)}`, {
      headers: { accept: 'text/event-stream' },
    });
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('event: next')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(text).toMatch(/^id: [^\n]+\nevent: next\ndata: \{"data":\{"tripsAdded":\{"trips":\[\]\}\}\}/m);
  });

  it('names Last-Event-ID, not after, when the id an EventSource sends back is no stream cursor', async () => {
    // The client passed no `after`: an error about `after` would blame an input it never sent.
    for (const field of ['tripsAdded { trips { tripId } }', 'tripChanges { cursor }']) {
      const response = await fetch(`${gw.origin}/graphql?query=${encodeURIComponent(`subscription { ${field} }`)}`, {
        headers: { accept: 'text/event-stream', 'last-event-id': 'not-a-cursor' },
      });
      const text = await response.text();
      const data = /event: next\ndata: (.*)\n/.exec(text)?.[1];
      const error = (JSON.parse(data!) as { errors: { message: string; extensions: { argument?: string } }[] })
        .errors[0]!;
      expect(error.message, field).toMatch(/^Last-Event-ID: is not a valid stream cursor/);
      // Advice a page can follow: it cannot leave out the header its EventSource sends.
      expect(error.message, field).toMatch(/close it, and open a new one with after: <a cursor> to resume/);
      expect(error.extensions.argument, field).toBe('Last-Event-ID');
      expect(text, field).toMatch(/event: complete/);
    }
  });
});

/** Transactions left open with an id each, as other writers on a shared database server would hold them. */
async function holdOpenTransactions(url: string, count: number): Promise<pg.Client[]> {
  const clients: pg.Client[] = [];
  for (let i = 0; i < count; i += 1) {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    clients.push(client);
    await client.query('BEGIN');
    await client.query('SELECT pg_current_xact_id()');
  }
  return clients;
}
