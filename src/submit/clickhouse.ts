/**
 * ClickHouse's HTTP interface: `POST /?query=INSERT INTO <table> FORMAT JSONEachRow`.
 *
 * Each record becomes one flat row, so any ClickHouse version (18.16 in Debian
 * bookworm included) takes it without a schema per protocol:
 * `{"Agent_ID","Run_ID","Sequence","Batch","Record_Type","Record"}` where Record is
 * the record's JSON text without the envelope. The conversion is deterministic, so a
 * retry sends the same bytes.
 *
 * Errors: ClickHouse answers `Code: N. DB::Exception: ...`; {@link classifyClickHouseCode}
 * decides retry, dead letter or configuration error from N.
 */
import { type Batch, lineEnds, parseEnvelope } from "./batch.ts";

/** The table this format expects (docs/server.md). */
export function clickHouseDdl(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (Agent_ID String, Run_ID String, ` +
    `Sequence UInt64, Batch UInt64, Record_Type String, Record String) ` +
    `ENGINE = ReplacingMergeTree ORDER BY (Agent_ID, Run_ID, Sequence)`;
}

const dec = new TextDecoder();
const enc = new TextEncoder();
const MARK = ',"Netmon":{';

/**
 * Converts an ndjson batch body into JSONEachRow rows, encoded straight into `scratch`
 * when it is large enough (the result is then a view of it), else into a new buffer.
 */
export function toClickHouseRows(b: Batch, scratch?: Uint8Array): Uint8Array {
  const ends = lineEnds(b.body);
  // JSON.stringify of the record at most doubles it (every byte escaped as two), plus columns.
  const worst = b.body.length * 2 + ends.length * 512;
  let out = scratch !== undefined && scratch.length >= worst ? scratch : new Uint8Array(worst);
  let len = 0;
  let start = 0;
  for (const end of ends) {
    const bytes = b.body.subarray(start, end - 1);
    start = end;
    const e = parseEnvelope(bytes);
    const line = dec.decode(bytes);
    const at = line.lastIndexOf(MARK);
    const record = at >= 0 ? line.slice(0, at) + "}" : line;
    const row = `{"Agent_ID":${JSON.stringify(e?.Agent_ID ?? b.agent)},"Run_ID":${
      JSON.stringify(e?.Run_ID ?? b.run)
    },"Sequence":${e?.Sequence ?? 0},"Batch":${e?.Batch ?? b.batch},"Record_Type":${
      JSON.stringify(e?.Record_Type ?? "packet")
    },"Record":${JSON.stringify(record)}}\n`;
    if (len + row.length * 3 > out.length) {
      const bigger = new Uint8Array(Math.max(out.length * 2, len + row.length * 3));
      bigger.set(out.subarray(0, len));
      out = bigger;
    }
    len += enc.encodeInto(row, out.subarray(len)).written;
  }
  return out.subarray(0, len);
}

export type ErrorClass = "retry" | "dead" | "config" | "split";

/** ClickHouse error codes (src/Common/ErrorCodes.cpp) that decide what happens to a batch. */
const CODES: Record<number, ErrorClass> = {
  // The data itself is bad: dead letter, never retry.
  6: "dead", // CANNOT_PARSE_TEXT
  26: "dead", // CANNOT_PARSE_QUOTED_STRING
  27: "dead", // CANNOT_PARSE_INPUT_ASSERTION_FAILED
  38: "dead", // CANNOT_PARSE_DATE
  41: "dead", // CANNOT_PARSE_DATETIME
  53: "dead", // TYPE_MISMATCH
  69: "dead", // ARGUMENT_OUT_OF_BOUND
  70: "dead", // CANNOT_CONVERT_TYPE
  72: "dead", // CANNOT_PARSE_NUMBER
  117: "dead", // INCORRECT_DATA
  // Too big: split and resend.
  131: "split", // TOO_LARGE_STRING_SIZE
  // Wrong table, columns, user or rights: configuration, keep spooling.
  8: "config", // THERE_IS_NO_COLUMN
  16: "config", // NO_SUCH_COLUMN_IN_TABLE
  47: "config", // UNKNOWN_IDENTIFIER
  60: "config", // UNKNOWN_TABLE
  62: "config", // SYNTAX_ERROR (bad table name)
  73: "config", // UNKNOWN_FORMAT
  81: "config", // UNKNOWN_DATABASE
  115: "config", // UNKNOWN_SETTING
  164: "config", // READONLY
  192: "config", // UNKNOWN_USER
  193: "config", // WRONG_PASSWORD
  194: "config", // REQUIRED_PASSWORD
  497: "config", // ACCESS_DENIED
  516: "config", // AUTHENTICATION_FAILED
  // Transient: retry with backoff.
  3: "retry", // UNEXPECTED_END_OF_FILE (body cut in transit)
  159: "retry", // TIMEOUT_EXCEEDED
  202: "retry", // TOO_MANY_SIMULTANEOUS_QUERIES
  203: "retry", // NO_FREE_CONNECTION
  209: "retry", // SOCKET_TIMEOUT
  210: "retry", // NETWORK_ERROR
  236: "retry", // ABORTED
  241: "retry", // MEMORY_LIMIT_EXCEEDED
  242: "retry", // TABLE_IS_READ_ONLY
  252: "retry", // TOO_MANY_PARTS
  319: "retry", // UNKNOWN_STATUS_OF_INSERT
  394: "retry", // QUERY_WAS_CANCELLED
  425: "retry", // SYSTEM_ERROR
  999: "retry", // KEEPER_EXCEPTION
};

/** The `Code: N` of a ClickHouse error body, or null. */
export function clickHouseCode(body: string): number | null {
  const m = /\bCode: (\d+)/.exec(body);
  return m ? Number(m[1]) : null;
}

/** What to do with a batch after a ClickHouse error code; null = decide by HTTP status. */
export function classifyClickHouseCode(code: number): ErrorClass | null {
  return CODES[code] ?? null;
}
