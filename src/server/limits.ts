/**
 * The server's limits and their defaults, in one place: the transport, the ingest, the
 * `[serve]` settings and docs/server.md all take them from here.
 *
 * @module
 */

export const SERVE_DEFAULTS = {
  /** Connections open at once; beyond it new ones get 503 and are closed. */
  maxConnections: 1024,
  /** Largest request head (request line + headers); beyond it 431. */
  maxHeaderBytes: 16 * 1024,
  /** Time for a whole request head, from the connection (or its first byte) on. */
  headerTimeoutMs: 10_000,
  /** Longest wait for the next piece of a request body. */
  bodyTimeoutMs: 30_000,
  /** How long an idle keep-alive connection stays open. */
  keepAliveTimeoutMs: 60_000,
  /** Longest wait for the client to take the next piece of an answer. */
  sendTimeoutMs: 30_000,
  /** Largest request body after gzip decoding (413 beyond). */
  maxBodyBytes: 64 * 1024 * 1024,
  /** Request-body (and answer) bytes held in memory at once, all connections together. */
  maxBytesInFlight: 128 * 1024 * 1024,
  /** How long a request waits for in-flight bytes before it gets 503. */
  inFlightWaitMs: 10_000,
  /** Deepest nesting of objects/arrays accepted in a record (400 beyond). */
  maxJsonDepth: 64,
} as const;
