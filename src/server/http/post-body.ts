import { errorResponse } from './error-response.js';

/**
 * Why a POST's body is refused before anything reads it, if it is. A cross-site HTML form (or a `fetch` without a
 * preflight) can only send `application/x-www-form-urlencoded`, `multipart/form-data` and `text/plain`, so
 * running only JSON (or GraphQL text, which also forces a preflight) is the CSRF protection of every endpoint
 * that runs operations: /graphql and the graphql-sse endpoints alike. The media type is the header's essence:
 * graphql-sse's own check accepted any header that *contains* "application/json", and
 * `text/plain;application/json` is still text/plain to a browser, sent cross-site without a preflight.
 */
export function postBodyRefusal(headers: Headers): Response | undefined {
  const type = (headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json' && type !== 'application/graphql+json' && type !== 'application/graphql') {
    return errorResponse(
      415,
      `POST bodies must be application/json (got ${type === '' ? 'no Content-Type' : JSON.stringify(type.slice(0, 100))}); ` +
        'form-encoded, multipart and text bodies are refused so that a cross-site form cannot run an operation',
      'UNSUPPORTED_MEDIA_TYPE',
    );
  }
  const encoding = headers.get('content-encoding');
  if (encoding !== null && encoding.trim().toLowerCase() !== 'identity') {
    // Nothing here inflates a body: a gzip body was read as JSON and refused as "invalid JSON".
    return errorResponse(
      415,
      `Content-Encoding ${JSON.stringify(encoding.slice(0, 50))} is not accepted; send the body uncompressed`,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  }
  return undefined;
}
