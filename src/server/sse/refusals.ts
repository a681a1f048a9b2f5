import type { ErrorCode } from '../../errors.js';
import { errorResponse, invalidJsonMessage } from '../http/error-response.js';

/**
 * graphql-sse refuses a request with a bare message and no code ("Missing query", "Stream not found",
 * "Operation ID is missing") or, for a media type, an empty 415. A client reading `errors[0]` then learns
 * neither what to fix nor which input it was. Its refusals are reworded here, the status kept.
 */
const REWORDED: Record<string, (endpoint: string, method: string) => { message: string; argument?: string }> = {
  'Stream not found': (endpoint) => ({
    message:
      `no stream for this token: reserve one with PUT ${endpoint}, then open it with GET and the token in ` +
      'X-GraphQL-Event-Stream-Token (an unopened reservation expires)',
    argument: 'X-GraphQL-Event-Stream-Token',
  }),
  'Missing query': (endpoint, method) =>
    method === 'POST'
      ? {
          message:
            'query: required: a POST sends one operation as JSON { query, variables, extensions: { operationId } } ' +
            '(with the stream token in X-GraphQL-Event-Stream-Token), or { query } alone for a stream of its own',
          argument: 'query',
        }
      : {
          message:
            'no operation: a GET that names a stream token must name one this gateway issued and that has not expired ' +
            `(PUT ${endpoint} reserves one), and a GET without one must carry ?query=`,
        },
  'Operation ID is missing': () => ({
    message: "extensions.operationId: required for an operation sent to a reservation's stream",
    argument: 'extensions.operationId',
  }),
  'Operation with ID already exists': () => ({
    message:
      'extensions.operationId: an operation with this id is already running on this stream; use another id, or ' +
      'stop it first (DELETE with ?operationId=)',
    argument: 'extensions.operationId',
  }),
  'Stream already open': () => ({ message: "this reservation's stream is already open: one GET per reservation" }),
  'Invalid variables': () => ({ message: 'variables: must be an object', argument: 'variables' }),
  'Invalid query': () => ({ message: 'query: must be a string', argument: 'query' }),
  'Invalid operation name': () => ({ message: 'operationName: must be a string', argument: 'operationName' }),
  'Invalid extensions': () => ({ message: 'extensions: must be an object', argument: 'extensions' }),
};

const MEDIA_TYPE_ADVICE =
  'send operations with Content-Type: application/json, and open streams with Accept: text/event-stream';

export async function explainStreamRefusal(answer: Response, endpoint: string, method: string): Promise<Response> {
  if (answer.status < 400) return answer;
  if (answer.status === 415)
    return errorResponse(415, `unsupported media type: ${MEDIA_TYPE_ADVICE}`, 'UNSUPPORTED_MEDIA_TYPE');
  const text = await answer.text();
  let original = text;
  try {
    const parsed = JSON.parse(text) as { errors?: { message?: unknown; extensions?: { code?: unknown } }[] };
    const first = parsed.errors?.[0];
    // Already the gateway's own answer (it has a code): kept as it is.
    if (typeof first?.extensions?.code === 'string') return rebuilt(answer, text);
    if (typeof first?.message === 'string') original = first.message;
  } catch {
    // Not JSON: the text is the message.
  }
  const reworded = REWORDED[original]?.(endpoint, method);
  if (reworded) {
    const extensions = {
      code: 'BAD_REQUEST' satisfies ErrorCode,
      ...(reworded.argument ? { argument: reworded.argument } : {}),
    };
    return Response.json({ errors: [{ message: reworded.message, extensions }] }, { status: answer.status });
  }
  // A JSON parse error and anything else graphql-sse says: its words, with a code.
  const message = /JSON/.test(original) ? invalidJsonMessage('the body', original) : original.slice(0, 500);
  return errorResponse(answer.status, message || answer.statusText || 'the request was refused', 'BAD_REQUEST');
}

function rebuilt(answer: Response, text: string): Response {
  return new Response(text, { status: answer.status, headers: answer.headers });
}
