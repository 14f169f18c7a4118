/**
 * The `[serve]` settings of `netmon serve` (the monitor server): where it listens, its
 * database, its token and its limits. Spread into {@link SETTINGS} and the defaults by
 * settings.ts; the limits' defaults come from the server itself so they are stated once.
 *
 * @module
 */
import type { SettingSpec } from "./settings.ts";
import { SERVE_DEFAULTS as D } from "../server/limits.ts";

/** `[serve]` values as the Settings object holds them (timeouts in seconds). */
export interface ServeSettings {
  serveListen: string;
  serveDb: string;
  serveToken: string;
  serveMaxBodyBytes: number;
  serveMaxBytesInFlight: number;
  serveInFlightWait: number;
  serveMaxConnections: number;
  serveMaxHeaderBytes: number;
  serveHeaderTimeout: number;
  serveBodyTimeout: number;
  serveKeepaliveTimeout: number;
  serveSendTimeout: number;
  serveMaxJsonDepth: number;
}

export function defaultServeSettings(): ServeSettings {
  return {
    serveListen: "127.0.0.1:8080",
    serveDb: "netmon.sqlite",
    serveToken: "",
    serveMaxBodyBytes: D.maxBodyBytes,
    serveMaxBytesInFlight: D.maxBytesInFlight,
    serveInFlightWait: D.inFlightWaitMs / 1000,
    serveMaxConnections: D.maxConnections,
    serveMaxHeaderBytes: D.maxHeaderBytes,
    serveHeaderTimeout: D.headerTimeoutMs / 1000,
    serveBodyTimeout: D.bodyTimeoutMs / 1000,
    serveKeepaliveTimeout: D.keepAliveTimeoutMs / 1000,
    serveSendTimeout: D.sendTimeoutMs / 1000,
    serveMaxJsonDepth: D.maxJsonDepth,
  };
}

export const SERVE_SETTINGS: readonly SettingSpec[] = [
  {
    name: "serveListen",
    section: "serve",
    key: "listen",
    type: "string",
    help: "Address the server listens on: HOST:PORT, [V6]:PORT or PORT (port 0: any free one).",
  },
  {
    name: "serveDb",
    section: "serve",
    key: "db",
    type: "string",
    help: "SQLite database file (created 0600, missing directories 0700).",
  },
  {
    name: "serveToken",
    section: "serve",
    key: "token",
    type: "string",
    env: "NETMON_SERVE_TOKEN",
    help: "Bearer token every request must carry (empty: none).",
  },
  {
    name: "serveMaxBodyBytes",
    section: "serve",
    key: "max_body_bytes",
    type: "int",
    min: 1024,
    max: 2147483648,
    help: "Largest batch body after gzip decoding; larger ones get 413.",
  },
  {
    name: "serveMaxBytesInFlight",
    section: "serve",
    key: "max_bytes_in_flight",
    type: "int",
    min: 1048576,
    max: 68719476736,
    help:
      "Request-body bytes held in memory at once over all connections (at least max_body_bytes); beyond it requests wait, then 503.",
  },
  {
    name: "serveInFlightWait",
    section: "serve",
    key: "in_flight_wait",
    type: "number",
    min: 0,
    max: 600,
    help: "Seconds a request waits for in-flight bytes before it gets 503 with Retry-After.",
  },
  {
    name: "serveMaxConnections",
    section: "serve",
    key: "max_connections",
    type: "int",
    min: 1,
    max: 1000000,
    help: "Connections open at once; beyond it new ones get 503 and are closed.",
  },
  {
    name: "serveMaxHeaderBytes",
    section: "serve",
    key: "max_header_bytes",
    type: "int",
    min: 1024,
    max: 1048576,
    help: "Largest request head (request line and headers); larger ones get 431.",
  },
  {
    name: "serveHeaderTimeout",
    section: "serve",
    key: "header_timeout",
    type: "number",
    min: 0.1,
    max: 3600,
    help: "Seconds for a whole request head to arrive (like nginx client_header_timeout).",
  },
  {
    name: "serveBodyTimeout",
    section: "serve",
    key: "body_timeout",
    type: "number",
    min: 0.1,
    max: 3600,
    help: "Longest pause in a request body, in seconds (like nginx client_body_timeout).",
  },
  {
    name: "serveKeepaliveTimeout",
    section: "serve",
    key: "keepalive_timeout",
    type: "number",
    min: 0.1,
    max: 3600,
    help: "Seconds an idle keep-alive connection stays open (like nginx keepalive_timeout).",
  },
  {
    name: "serveSendTimeout",
    section: "serve",
    key: "send_timeout",
    type: "number",
    min: 0.1,
    max: 3600,
    help: "Longest wait for a client to take the next piece of an answer, in seconds.",
  },
  {
    name: "serveMaxJsonDepth",
    section: "serve",
    key: "max_json_depth",
    type: "int",
    min: 1,
    max: 10000,
    help: "Deepest nesting of objects and arrays accepted in a record; deeper ones get 400.",
  },
];
