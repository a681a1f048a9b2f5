import type { ErrorCode } from '../../errors.js';

/** An error body in the GraphQL response shape, as text: for answers written on a socket or a Node response. */
export function errorBody(message: string, code: ErrorCode): string {
  return JSON.stringify({ errors: [{ message, extensions: { code } }] });
}

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

/**
 * What is wrong with a body JSON.parse refused, from its error message (without the echo of the body that
 * newer Node versions append). A byte order mark gets its own words: the parser names an invisible character,
 * and Windows PowerShell 5.1 and Notepad save "UTF-8" with one.
 */
export function invalidJsonMessage(subject: string, parserMessage: string): string {
  if (parserMessage.startsWith("Unexpected token '\uFEFF'")) {
    return (
      `${subject} starts with a byte order mark (U+FEFF), which JSON sent over a network must not have ` +
      '(RFC 8259, 8.1); send it as UTF-8 without a BOM'
    );
  }
  const reason = parserMessage.replace(/, ".*" is not valid JSON$/s, '').slice(0, 200);
  return `${subject} is not valid JSON${reason === '' ? '' : ` (${reason})`}`;
}
