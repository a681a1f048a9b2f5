import type { ErrorCode } from '../../errors.js';

/**
 * A 4xx answered outside GraphQL execution, with a body in the GraphQL
 * response shape: a client that reads `errors[0].message` learns what was
 * wrong instead of getting an empty body.
 */
export function errorResponse(
  status: number,
  message: string,
  code: ErrorCode,
  headers: Record<string, string> = {},
): Response {
  return Response.json({ errors: [{ message, extensions: { code } }] }, { status, headers });
}
