/**
 * Query parameters of the API checked and turned into typed requests. Every problem is
 * a {@link BadRequest} of one line naming the parameter; unknown and repeated
 * parameters are refused, so a typo never silently widens a query.
 */
import { LIMITS, type MetricName, type TableName } from "./api.ts";
import { BadRequest } from "./filter_sql.ts";
import { dimensionNames, nsOf, type StoreSchema, type TableSchema } from "../store/schema.ts";
import { closest } from "../filter/suggest.ts";
import { int, paramValue, rawParams } from "../server/params.ts";

export interface QueryLimits {
  /** Longest time range a query may cover (seconds). */
  maxRangeSeconds: number;
  /** Execution time limit (ms). */
  timeoutMs: number;
  /** Rows a backend without in-SQL residual filters may check in JavaScript. */
  maxResidualRows: number;
}

export const DEFAULT_LIMITS: QueryLimits = {
  maxRangeSeconds: 366 * 86400,
  timeoutMs: 10_000,
  maxResidualRows: 200_000,
};

export interface TimeRange {
  fromNs: bigint;
  toNs: bigint;
}

export interface Dimension {
  /** As given (`Source_Address/24`). */
  text: string;
  /** The columns keys come from (two for either-end dimensions). */
  columns: string[];
  /** Address prefix lengths (IPv4, IPv6); 32/128 = whole address. */
  v4: number;
  v6: number;
}

export interface AggregateRequest {
  table: TableSchema;
  metric: MetricName;
  by: Dimension | null;
  range: TimeRange;
  filter: string | null;
  exclude: string | null;
  limit: number;
  /** Series only: bucket width (ns). */
  stepNs: bigint;
}

export interface ListRequest {
  table: TableSchema;
  range: TimeRange;
  filter: string | null;
  exclude: string | null;
  sort: { column: string; desc: boolean };
  limit: number;
  cursor: [string, string, string, number] | null;
}

/** Reads parameters, refusing unknown and repeated ones (src/server/params.ts). */
export function readParams(url: URL, allowed: readonly string[]): Map<string, string> {
  return rawParams(url.searchParams, allowed);
}

/** Seconds since the epoch (decimals allowed) or ISO 8601 text, as nanoseconds. */
export function parseTime(text: string, name: string): bigint {
  const t = text.trim();
  if (/^\d{1,12}(\.\d{1,9})?$/.test(t)) return nsOf(t)!;
  if (/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+)?(Z|[+-]\d{2}:?\d{2})?$/.test(t)) {
    const ms = Date.parse(t);
    if (!Number.isNaN(ms)) return BigInt(ms) * 1_000_000n;
  }
  throw new BadRequest(
    `${name}: want seconds since the epoch (e.g. 1700000000.5) or ISO 8601 (2024-01-31T12:00:00Z), got '${text}'`,
  );
}

export function parseRange(p: Map<string, string>, lim: QueryLimits): TimeRange {
  const toNs = p.has("to") ? parseTime(p.get("to")!, "to") : BigInt(Date.now()) * 1_000_000n;
  const fromNs = p.has("from")
    ? parseTime(p.get("from")!, "from")
    : toNs - BigInt(LIMITS.defaultRangeSeconds) * 1_000_000_000n;
  if (fromNs >= toNs) throw new BadRequest("from must be before to");
  if (toNs - fromNs > BigInt(lim.maxRangeSeconds) * 1_000_000_000n) {
    throw new BadRequest(
      `time range longer than ${lim.maxRangeSeconds} s (the server's --max-query-range)`,
    );
  }
  return { fromNs, toNs };
}

function parseInt10(text: string, name: string, lo: number, hi: number): number {
  return paramValue(name, int({ min: lo, max: hi }), text);
}

export function parseTable(p: Map<string, string>, schema: StoreSchema): TableSchema {
  const t = p.get("table") ?? "flows";
  if (t !== "flows" && t !== "packets") {
    throw new BadRequest(`table: want flows or packets, got '${t}'`);
  }
  return schema[t as TableName];
}

/** `by=Source_Address`, `by=Source_Address/24`, `by=Address/24/64`. */
export function parseDimension(text: string, t: TableSchema): Dimension {
  const [name, ...lens] = text.split("/");
  const names = dimensionNames(t);
  if (!names.includes(name)) {
    throw new BadRequest(
      `by: ${name} is not a dimension of ${t.name}; did you mean ${
        closest(name, names)
      }? (dimensions: ${names.join(", ")})`,
    );
  }
  const columns = t.either[name] !== undefined ? [...t.either[name]] : [name];
  const isIp = t.columns.find((c) => c.name === columns[0])?.type === "IP";
  let v4 = 32, v6 = 128;
  if (lens.length > 0) {
    if (!isIp) {
      throw new BadRequest(`by: ${name} is not an address; a /prefix applies to addresses`);
    }
    if (lens.length > 2 || lens.some((l) => !/^\d{1,3}$/.test(l))) {
      throw new BadRequest(`by: want ${name}/N or ${name}/N/M (prefix lengths), got '${text}'`);
    }
    const a = Number(lens[0]);
    if (lens.length === 2) {
      v4 = a;
      v6 = Number(lens[1]);
      if (v4 > 32) throw new BadRequest(`by: IPv4 prefix length ${v4} is out of range (0-32)`);
    } else if (a <= 32) v4 = a;
    else v6 = a;
    if (v6 > 128) throw new BadRequest(`by: IPv6 prefix length ${v6} is out of range (0-128)`);
  }
  return { text, columns, v4, v6 };
}

export function parseMetric(p: Map<string, string>): MetricName {
  const m = p.get("metric") ?? "bytes";
  if (m !== "bytes" && m !== "packets" && m !== "records") {
    throw new BadRequest(`metric: want bytes, packets or records, got '${m}'`);
  }
  return m;
}

const AGG_PARAMS = ["table", "metric", "by", "from", "to", "filter", "exclude", "limit"];

/** Nice bucket widths (s) for a series without `step`. */
const STEPS = [
  1,
  2,
  5,
  10,
  15,
  30,
  60,
  120,
  300,
  600,
  900,
  1800,
  3600,
  7200,
  10800,
  21600,
  43200,
  86400,
];

export function parseAggregate(
  url: URL,
  kind: "top" | "series",
  schema: StoreSchema,
  lim: QueryLimits,
): AggregateRequest {
  const p = readParams(url, kind === "series" ? [...AGG_PARAMS, "step"] : AGG_PARAMS);
  const table = parseTable(p, schema);
  const by = p.has("by") ? parseDimension(p.get("by")!, table) : null;
  if (kind === "top" && by === null) throw new BadRequest("by: missing (a dimension name)");
  const range = parseRange(p, lim);
  const maxLimit = kind === "top" ? LIMITS.topRows : LIMITS.seriesLines;
  const limit = p.has("limit")
    ? parseInt10(p.get("limit")!, "limit", 1, maxLimit)
    : kind === "top"
    ? 10
    : 5;
  let stepNs = 0n;
  if (kind === "series") {
    const span = range.toNs - range.fromNs;
    if (p.has("step")) {
      const s = p.get("step")!.trim();
      if (!/^\d{1,9}(\.\d{1,9})?$/.test(s) || nsOf(s)! <= 0n) {
        throw new BadRequest(`step: want seconds (e.g. 60), got '${p.get("step")}'`);
      }
      stepNs = nsOf(s)!;
      const n = (span + stepNs - 1n) / stepNs;
      if (n > BigInt(LIMITS.buckets)) {
        throw new BadRequest(
          `step: ${s} s makes ${n} buckets over the range; at most ${LIMITS.buckets}`,
        );
      }
    } else {
      const want = Number(span) / 1e9 / 200;
      const s = STEPS.find((x) => x >= want) ?? Math.ceil(want / 86400) * 86400;
      stepNs = BigInt(s) * 1_000_000_000n;
    }
  }
  return {
    table,
    metric: parseMetric(p),
    by,
    range,
    filter: p.get("filter") ?? null,
    exclude: p.get("exclude") ?? null,
    limit,
    stepNs,
  };
}

/** Columns a list may be sorted by. */
export function sortable(t: TableSchema): string[] {
  return t.columns.filter((c) =>
    c.type !== "Record" && c.type !== "IP" && c.name !== "Layers" && c.bits === undefined
  ).map((c) => c.name);
}

export function parseList(url: URL, t: TableSchema, lim: QueryLimits): ListRequest {
  const p = readParams(url, ["from", "to", "filter", "exclude", "sort", "limit", "cursor"]);
  const range = parseRange(p, lim);
  const s = p.get("sort") ?? `-${t.time}`;
  const desc = s.startsWith("-");
  const column = desc ? s.slice(1) : s;
  const ok = sortable(t);
  if (!ok.includes(column)) {
    throw new BadRequest(
      `sort: ${t.name} cannot be sorted by '${column}'; did you mean ${closest(column, ok)}?`,
    );
  }
  let cursor: ListRequest["cursor"] = null;
  if (p.has("cursor")) {
    try {
      const v = JSON.parse(atob(p.get("cursor")!.replaceAll("-", "+").replaceAll("_", "/")));
      if (
        !Array.isArray(v) || v.length !== 4 || typeof v[0] !== "string" ||
        typeof v[1] !== "string" || typeof v[2] !== "string" || typeof v[3] !== "number"
      ) throw new Error("shape");
      cursor = v as [string, string, string, number];
    } catch {
      throw new BadRequest("cursor: not a cursor this server gave (pass `next` as it was)");
    }
  }
  return {
    table: t,
    range,
    filter: p.get("filter") ?? null,
    exclude: p.get("exclude") ?? null,
    sort: { column, desc },
    limit: p.has("limit") ? parseInt10(p.get("limit")!, "limit", 1, LIMITS.listRows) : 100,
    cursor,
  };
}

/** Encodes a list cursor. */
export function encodeCursor(c: [string, string, string, number]): string {
  return btoa(JSON.stringify(c)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
