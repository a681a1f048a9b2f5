/**
 * A minimal GraphQL-over-SSE client on node:http, for what graphql-sse's
 * client cannot do: stop reading (a slow consumer), see keep-alive comments,
 * and hold thousands of connections cheaply (the benchmark's load generator).
 * Speaks both modes: distinct connections (POST /graphql) and single
 * connection (PUT /graphql/stream, then the stream, then POST the operation).
 */
import http from 'node:http';

export interface SseEvent {
  event: string;
  data: string;
}

export interface RawSseOptions {
  origin: string;
  mode: 'distinct' | 'single';
  query: string;
  variables?: Record<string, unknown>;
  onEvent: (event: SseEvent) => void;
  /** `:` keep-alive comments. */
  onComment?: () => void;
  onClose?: (error?: Error) => void;
}

export class RawSseSubscription {
  private response: http.IncomingMessage | undefined;
  private request: http.ClientRequest | undefined;
  private buffer = '';
  private closed = false;

  private constructor(private readonly options: RawSseOptions) {}

  /** Resolves once the event stream's response headers arrived (the subscription is registered). */
  static async open(options: RawSseOptions): Promise<RawSseSubscription> {
    const subscription = new RawSseSubscription(options);
    await (options.mode === 'distinct' ? subscription.openDistinct() : subscription.openSingle());
    return subscription;
  }

  pause(): void {
    this.response?.pause();
  }

  resume(): void {
    this.response?.resume();
  }

  close(): void {
    this.closed = true;
    this.request?.destroy();
    this.response?.destroy();
  }

  private async openDistinct(): Promise<void> {
    const body = JSON.stringify({ query: this.options.query, variables: this.options.variables ?? {} });
    await this.stream('POST', '/graphql', { 'content-type': 'application/json' }, body);
  }

  private async openSingle(): Promise<void> {
    const reserved = await send(this.options.origin, 'PUT', '/graphql/stream', { accept: 'text/plain' });
    if (reserved.status !== 201) throw new Error(`PUT /graphql/stream answered ${reserved.status}`);
    const token = reserved.body;
    await this.stream('GET', '/graphql/stream', { 'x-graphql-event-stream-token': token });
    const operation = JSON.stringify({
      query: this.options.query,
      variables: this.options.variables ?? {},
      extensions: { operationId: 'op' },
    });
    const started = await send(
      this.options.origin,
      'POST',
      '/graphql/stream',
      { 'x-graphql-event-stream-token': token, 'content-type': 'application/json', accept: 'application/json' },
      operation,
    );
    if (started.status !== 202) throw new Error(`POST /graphql/stream answered ${started.status}: ${started.body}`);
  }

  private stream(method: string, path: string, headers: Record<string, string>, body?: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const request = http.request(`${this.options.origin}${path}`, {
        method,
        headers: { accept: 'text/event-stream', ...headers },
        agent: false,
      });
      this.request = request;
      request.on('error', (error) => {
        reject(error);
        if (!this.closed) this.options.onClose?.(error);
      });
      request.on('response', (response) => {
        if (response.statusCode !== 200) {
          reject(new Error(`${method} ${path} answered ${response.statusCode}`));
          response.resume();
          return;
        }
        this.response = response;
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => this.receive(chunk));
        response.on('close', () => {
          if (!this.closed) this.options.onClose?.();
        });
        resolve();
      });
      request.end(body);
    });
  }

  private receive(chunk: string): void {
    this.buffer = takeSseEvents(this.buffer + chunk, this.options.onEvent, this.options.onComment);
  }
}

/** Hands each complete event (up to a blank line) in `text` to `onEvent`; returns the incomplete rest. */
export function takeSseEvents(text: string, onEvent: (event: SseEvent) => void, onComment?: () => void): string {
  let rest = text;
  for (let end = rest.indexOf('\n\n'); end >= 0; end = rest.indexOf('\n\n')) {
    const block = rest.slice(0, end);
    rest = rest.slice(end + 2);
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) onComment?.();
      else if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (data.length > 0 || event !== 'message') onEvent({ event, data: data.join('\n') });
  }
  return rest;
}

/** Unwraps single-connection events ({ id, payload }) so both modes read the same. */
export function payloadOf(event: SseEvent, mode: 'distinct' | 'single'): unknown {
  if (event.data === '') return undefined;
  const parsed = JSON.parse(event.data) as { payload?: unknown };
  return mode === 'single' ? parsed.payload : parsed;
}

/** One plain HTTP request on its own connection, its whole body read. */
export function send(
  origin: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${origin}${path}`, { method, headers, agent: false }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
    });
    request.on('error', reject);
    request.end(body);
  });
}
