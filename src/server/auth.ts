/**
 * Bearer-token check (RFC 6750): the scheme is case-insensitive (RFC 9110 section 11.1),
 * the token compared in constant time (SHA-256 of both sides, then `timingSafeEqual`, so
 * neither content nor length leaks through timing).
 *
 * @example
 * ```ts
 * import { bearerCheck } from "./auth.ts";
 * const ok = bearerCheck("s3cret");
 * ok("bearer s3cret"); // true
 * ok("Bearer s3cre"); // false
 * ```
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";

const BEARER = /^bearer[ \t]+([^ \t]+)[ \t]*$/i;

function digest(s: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(s).digest());
}

/** A predicate on the Authorization header value (null: header absent). */
export function bearerCheck(token: string): (authorization: string | null) => boolean {
  const want = digest(token);
  return (authorization) => {
    if (authorization === null) return false;
    const m = BEARER.exec(authorization);
    // Compare something even when the header is malformed: same work either way.
    const got = digest(m === null ? "" : m[1]);
    return timingSafeEqual(want, got) && m !== null;
  };
}
