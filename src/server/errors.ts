/**
 * Answers that end a request early: {@link HttpError} carries the status, one clear message
 * and extra headers; {@link jsonResponse} is the JSON body every answer of the server uses
 * (`{"error":"..."}` for errors).
 *
 * @example
 * ```ts
 * import { HttpError, jsonResponse } from "./errors.ts";
 * throw new HttpError(400, "limit: expected an integer 1..10000, got -1");
 * jsonResponse(200, { ok: true }); // Response with content-type application/json
 * ```
 * @module
 */

/** An answer other than 2xx, with the message for `{"error": ...}`. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** A JSON answer (one line, newline at the end). */
export function jsonResponse(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify(body) + "\n", {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** The answer for an {@link HttpError}. */
export function errorResponse(e: HttpError): Response {
  return jsonResponse(e.status, { error: e.message }, e.headers);
}
