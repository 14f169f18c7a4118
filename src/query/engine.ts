/**
 * The query API's answers, computed the same way over any store: SQL written through
 * the store's {@link Dialect}, run with the store's limits (rows, execution time).
 *
 * Filters: see filter_sql.ts. On a store that runs residual filters inside SQL (SQLite)
 * everything is aggregated in SQL. On one that cannot (ClickHouse), a filter that needs
 * the stored record selects candidates with the upper bound of its SQL condition
 * (bounded by `maxResidualRows`), tests them with the exact predicate and aggregates the
 * matches here.
 */
import type {
  AgentsAnswer,
  Key,
  ListAnswer,
  RecordAnswer,
  SeriesAnswer,
  SeriesLine,
  TopAnswer,
  TopRow,
} from "./api.ts";
import {
  BadRequest,
  compileQueryFilter,
  hasResidual,
  type QueryFilter,
  renderFilter,
} from "./filter_sql.ts";
import {
  type AggregateRequest,
  type Dimension,
  encodeCursor,
  type ListRequest,
  type QueryLimits,
  type TimeRange,
} from "./request.ts";
import {
  columnOf,
  parseRecordId,
  recordId,
  type RecordObject,
  type TableSchema,
} from "../store/schema.ts";
import { addressText, macText } from "../store/ip.ts";
import { type Dialect, QueryLimitError, type SqlRow, type Store } from "../store/store.ts";

const NS = 1_000_000_000n;
const seconds = (ns: bigint) => Number(ns / 1000n) / 1e6;

/** SQL pieces of one aggregate request. */
interface Plan {
  d: Dialect;
  t: TableSchema;
  where: string;
  /** Filter needs the JavaScript path (store cannot run residuals). */
  js: QueryFilter | null;
  metric: string;
}

function rangeCond(d: Dialect, t: TableSchema, r: TimeRange): string {
  const c = d.col(t.time);
  return `${c} >= ${d.lit(r.fromNs)} AND ${c} < ${d.lit(r.toNs)}`;
}

function metricExpr(d: Dialect, t: TableSchema, metric: AggregateRequest["metric"]): string {
  const cols = t.metrics[metric];
  return cols === null ? "1" : cols.map((c) => d.col(c)).join(" + ");
}

function plan(s: Store, t: TableSchema, req: {
  range: TimeRange;
  filter: string | null;
  exclude: string | null;
}, metric: AggregateRequest["metric"]): Plan {
  const d = s.dialect;
  const parts = [rangeCond(d, t, req.range)];
  let js: QueryFilter | null = null;
  if (req.filter !== null || req.exclude !== null) {
    const f = compileQueryFilter(t, d, req.filter, req.exclude);
    const residual = hasResidual(f.keep) || hasResidual(f.drop);
    const inSql = !residual || d.residual(t, 0) !== null;
    const w = renderFilter(f, d, t, inSql ? "call" : "upper");
    if (w !== null) parts.push(w);
    if (!inSql) js = f;
    return { d, t, where: parts.join(" AND "), js, metric: metricExpr(d, t, metric) };
  }
  return { d, t, where: parts.join(" AND "), js, metric: metricExpr(d, t, metric) };
}

function residualsOf(p: Plan, f: QueryFilter | null): unknown[] {
  return p.js === null && f !== null ? f.residuals : [];
}

/** The key expression of one dimension column (address prefixes applied). */
function keyExpr(d: Dialect, t: TableSchema, col: string, dim: Dimension): string {
  const c = columnOf(t, col)!;
  const e = d.col(col);
  if (c.type !== "IP") return e;
  if (dim.v4 === 32 && dim.v6 === 128) return d.hex(e);
  const pre = (bits: number) => {
    const bytes = Math.ceil(bits / 8);
    const last = bits - 8 * (bytes - 1);
    return bits === 0 ? d.lit("") : d.prefix(e, bytes, last);
  };
  return d.hex(`CASE WHEN ${d.isMapped(e)} THEN ${pre(96 + dim.v4)} ELSE ${pre(dim.v6)} END`);
}

/** Turns a key as SQL returns it into the API's key. */
function renderKey(t: TableSchema, dim: Dimension, raw: unknown): Key {
  if (raw === null || raw === undefined) return null;
  const c = columnOf(t, dim.columns[0])!;
  if (c.type === "IP") {
    const hex = String(raw);
    const b = new Uint8Array(16);
    for (let i = 0; i < Math.min(16, hex.length / 2); i++) {
      b[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    }
    const text = addressText(b);
    const mapped = text.includes(".") && !text.includes(":");
    const len = mapped ? dim.v4 : dim.v6;
    return len === (mapped ? 32 : 128) ? text : `${text}/${len}`;
  }
  if (c.type === "MAC") return macText(Number(raw));
  if (typeof raw === "bigint") return Number(raw);
  if (typeof raw === "number") return raw;
  if (
    c.type === "String" || c.type === "LowString"
  ) return String(raw);
  const n = Number(raw);
  return Number.isNaN(n) ? String(raw) : n;
}

/** SQL text of a key value (for `IN (...)`), from the raw value SQL returned. */
function keyLit(d: Dialect, raw: unknown): string {
  if (typeof raw === "number" || typeof raw === "bigint") return d.lit(raw);
  return d.lit(String(raw));
}

const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

/** Rows of key, metric (and bucket) for JS aggregation on stores without residuals. */
async function candidates(
  s: Store,
  p: Plan,
  keys: string[],
  lim: QueryLimits,
  bucket: string | null,
): Promise<{ keys: unknown[]; m: number; b: number }[]> {
  const cols = keys.map((k, i) => `${k} AS k${i}`);
  if (bucket !== null) cols.push(`${bucket} AS b`);
  const sql = `SELECT ${cols.join(", ")}${cols.length ? ", " : ""}${p.metric} AS m, ${
    p.d.record(p.t)
  } AS rec FROM ${p.d.from(p.t)} WHERE ${p.where} LIMIT ${lim.maxResidualRows + 1}`;
  let rows: SqlRow[];
  try {
    rows = await s.select(sql, { maxRows: lim.maxResidualRows, timeoutMs: lim.timeoutMs });
  } catch (e) {
    if (e instanceof QueryLimitError && /more than/.test(e.message)) {
      throw new BadRequest(
        `the filter needs the stored records (an attribute without a column) of more than ${lim.maxResidualRows} rows on this store; narrow the time range or filter on typed attributes`,
      );
    }
    throw e;
  }
  const out: { keys: unknown[]; m: number; b: number }[] = [];
  for (const r of rows) {
    let rec: RecordObject;
    try {
      rec = JSON.parse(String(r.rec));
    } catch {
      continue;
    }
    if (!p.js!.match(rec)) continue;
    out.push({ keys: keys.map((_, i) => r[`k${i}`]), m: num(r.m), b: num(r.b) });
  }
  return out;
}

/** `/api/top`. */
export async function top(s: Store, req: AggregateRequest, lim: QueryLimits): Promise<TopAnswer> {
  const t = req.table;
  const dim = req.by!;
  const p = plan(s, t, req, req.metric);
  const f = p.js ??
    (req.filter !== null || req.exclude !== null
      ? compileQueryFilter(t, s.dialect, req.filter, req.exclude)
      : null);
  const d = s.dialect;
  const keys = dim.columns.map((c) => keyExpr(d, t, c, dim));
  const base = { table: t.name, by: dim.text, metric: req.metric };
  const range = { from: seconds(req.range.fromNs), to: seconds(req.range.toNs) };
  const opts = { maxRows: req.limit + 1, timeoutMs: lim.timeoutMs, residuals: residualsOf(p, f) };
  let rows: TopRow[];
  let total: number;
  let ends: number;
  if (p.js !== null) {
    const got = await candidates(s, p, keys, lim, null);
    const acc = new Map<string, [unknown, number]>();
    total = 0;
    ends = 0;
    for (const g of got) {
      total += g.m;
      const seen = new Set<string>();
      for (const k of g.keys) {
        if (k === null || k === undefined) continue;
        const id = String(k);
        if (seen.has(id)) continue;
        seen.add(id);
        ends += g.m;
        const a = acc.get(id);
        if (a === undefined) acc.set(id, [k, g.m]);
        else a[1] += g.m;
      }
    }
    if (keys.length === 1) ends = total;
    rows = [...acc.values()].sort((a, b) => b[1] - a[1] || cmp(a[0], b[0])).slice(0, req.limit)
      .map(([k, v]) => ({ key: renderKey(t, dim, k), value: v }));
  } else {
    const from = d.from(t);
    const inner = keys.length === 1
      ? `SELECT ${keys[0]} AS k, ${p.metric} AS m FROM ${from} WHERE ${p.where}`
      : `SELECT ${keys[0]} AS k, ${p.metric} AS m FROM ${from} WHERE ${p.where} UNION ALL ` +
        `SELECT ${keys[1]} AS k, ${p.metric} AS m FROM ${from} WHERE ${p.where} AND ${
          d.distinct(d.col(dim.columns[0]), d.col(dim.columns[1]))
        }`;
    const [top, tot, endsRow] = await Promise.all([
      s.select(
        `SELECT k, ${
          d.sum("m")
        } AS v FROM (${inner}) x WHERE k IS NOT NULL GROUP BY k ORDER BY v DESC, k LIMIT ${req.limit}`,
        opts,
      ),
      s.select(`SELECT ${d.sum(p.metric)} AS v FROM ${from} WHERE ${p.where}`, opts),
      keys.length === 1 ? Promise.resolve(null) : s.select(
        `SELECT ${d.sum("m")} AS v FROM (${inner}) x WHERE k IS NOT NULL`,
        opts,
      ),
    ]);
    rows = top.map((r) => ({ key: renderKey(t, dim, r.k), value: num(r.v) }));
    total = num(tot[0]?.v);
    ends = endsRow === null ? total : num(endsRow[0]?.v);
  }
  const shown = rows.reduce((a, r) => a + r.value, 0);
  return { ...base, ...range, rows, other: Math.max(0, ends - shown), total };
}

function cmp(a: unknown, b: unknown): number {
  const x = String(a), y = String(b);
  return typeof a === "number" && typeof b === "number" ? a - b : x < y ? -1 : x > y ? 1 : 0;
}

/** `/api/series`. */
export async function series(
  s: Store,
  req: AggregateRequest,
  lim: QueryLimits,
): Promise<SeriesAnswer> {
  const t = req.table;
  const d = s.dialect;
  const p = plan(s, t, req, req.metric);
  const f = p.js ??
    (req.filter !== null || req.exclude !== null
      ? compileQueryFilter(t, d, req.filter, req.exclude)
      : null);
  const n = Number((req.range.toNs - req.range.fromNs + req.stepNs - 1n) / req.stepNs);
  const bucket = d.div(`${d.col(t.time)} - ${d.lit(req.range.fromNs)}`, req.stepNs);
  const fromS = seconds(req.range.fromNs);
  const stepS = seconds(req.stepNs);
  const points = (): [number, number][] =>
    Array.from({ length: n }, (_, i) => [fromS + i * stepS, 0] as [number, number]);
  const opts = (maxRows: number) => ({
    maxRows,
    timeoutMs: lim.timeoutMs,
    residuals: residualsOf(p, f),
  });
  const base = {
    table: t.name,
    by: req.by?.text ?? null,
    metric: req.metric,
    from: fromS,
    to: seconds(req.range.toNs),
    step: stepS,
  };
  const dim = req.by;
  const keys = dim === null ? [] : dim.columns.map((c) => keyExpr(d, t, c, dim));
  if (p.js !== null) {
    const got = await candidates(s, p, keys, lim, bucket);
    const totalLine = points();
    const perKey = new Map<string, { raw: unknown; sum: number; pts: [number, number][] }>();
    for (const g of got) {
      if (g.b < 0 || g.b >= n) continue;
      if (dim === null || keys.length === 1) totalLine[g.b][1] += g.m;
      if (dim === null) continue;
      const seen = new Set<string>();
      for (const k of g.keys) {
        if (k === null || k === undefined) continue;
        const id = String(k);
        if (seen.has(id)) continue;
        seen.add(id);
        if (keys.length > 1) totalLine[g.b][1] += g.m;
        let e = perKey.get(id);
        if (e === undefined) perKey.set(id, e = { raw: k, sum: 0, pts: points() });
        e.sum += g.m;
        e.pts[g.b][1] += g.m;
      }
    }
    if (dim === null) return { ...base, series: [{ key: null, points: totalLine }] };
    const chosen = [...perKey.values()].sort((a, b) => b.sum - a.sum || cmp(a.raw, b.raw))
      .slice(0, req.limit);
    const other = points();
    for (let i = 0; i < n; i++) {
      other[i][1] = totalLine[i][1] - chosen.reduce((a, c) => a + c.pts[i][1], 0);
    }
    return {
      ...base,
      series: [
        ...chosen.map((c) => ({ key: renderKey(t, dim, c.raw), points: c.pts })),
        { key: null, other: true, points: other },
      ],
    };
  }
  const from = d.from(t);
  if (dim === null) {
    const rows = await s.select(
      `SELECT ${bucket} AS b, ${d.sum(p.metric)} AS v FROM ${from} WHERE ${p.where} GROUP BY b`,
      opts(n + 1),
    );
    const line = points();
    for (const r of rows) {
      const b = num(r.b);
      if (b >= 0 && b < n) line[b][1] = num(r.v);
    }
    return { ...base, series: [{ key: null, points: line }] };
  }
  const inner = (extra: string) =>
    keys.length === 1
      ? `SELECT ${
        keys[0]
      } AS k, ${bucket} AS b, ${p.metric} AS m FROM ${from} WHERE ${p.where}${extra}`
      : `SELECT ${
        keys[0]
      } AS k, ${bucket} AS b, ${p.metric} AS m FROM ${from} WHERE ${p.where}${extra} UNION ALL ` +
        `SELECT ${
          keys[1]
        } AS k, ${bucket} AS b, ${p.metric} AS m FROM ${from} WHERE ${p.where}${extra} AND ${
          d.distinct(d.col(dim.columns[0]), d.col(dim.columns[1]))
        }`;
  const topRows = await s.select(
    `SELECT k, ${d.sum("m")} AS v FROM (${
      inner("")
    }) x WHERE k IS NOT NULL GROUP BY k ORDER BY v DESC, k LIMIT ${req.limit}`,
    opts(req.limit + 1),
  );
  const lines: SeriesLine[] = [];
  const totals = points();
  const [byKey, all] = await Promise.all([
    topRows.length === 0 ? Promise.resolve([]) : s.select(
      `SELECT k, b, ${d.sum("m")} AS v FROM (${inner("")}) x WHERE k IN (${
        topRows.map((r) => keyLit(d, r.k)).join(", ")
      }) GROUP BY k, b`,
      opts(topRows.length * n + 1),
    ),
    s.select(
      `SELECT b, ${d.sum("m")} AS v FROM (${inner("")}) x${
        keys.length > 1 ? " WHERE k IS NOT NULL" : ""
      } GROUP BY b`,
      opts(n + 1),
    ),
  ]);
  for (const r of all) {
    const b = num(r.b);
    if (b >= 0 && b < n) totals[b][1] = num(r.v);
  }
  const index = new Map<string, [number, number][]>();
  for (const r of topRows) {
    const pts = points();
    index.set(String(r.k), pts);
    lines.push({ key: renderKey(t, dim, r.k), points: pts });
  }
  for (const r of byKey) {
    const pts = index.get(String(r.k));
    const b = num(r.b);
    if (pts !== undefined && b >= 0 && b < n) pts[b][1] = num(r.v);
  }
  const other = points();
  for (let i = 0; i < n; i++) {
    other[i][1] = Math.max(0, totals[i][1] - lines.reduce((a, l) => a + l.points[i][1], 0));
  }
  lines.push({ key: null, other: true, points: other });
  return { ...base, series: lines };
}

/** `/api/flows`, `/api/packets`. */
export async function list(s: Store, req: ListRequest, lim: QueryLimits): Promise<ListAnswer> {
  const t = req.table;
  const d = s.dialect;
  const p = plan(s, t, req, "records");
  const f = p.js ??
    (req.filter !== null || req.exclude !== null
      ? compileQueryFilter(t, d, req.filter, req.exclude)
      : null);
  const c = columnOf(t, req.sort.column)!;
  const numeric = c.type !== "String" && c.type !== "LowString";
  const sortExpr = c.nullable ? d.coalesce(d.col(c.name), numeric ? "0" : "''") : d.col(c.name);
  const lt = req.sort.desc ? "<" : ">";
  const dir = req.sort.desc ? "DESC" : "ASC";
  let where = p.where;
  const cursorCond = (cur: [string, string, string, number]) => {
    const v = numeric ? (/^-?\d+(\.\d+)?$/.test(cur[0]) ? cur[0] : "0") : d.lit(cur[0]);
    const a = d.lit(cur[1]), r = d.lit(cur[2]), q = d.lit(cur[3]);
    const A = d.col("Agent_ID"), Rn = d.col("Run_ID"), S = d.col("Sequence");
    return `(${sortExpr} ${lt} ${v} OR (${sortExpr} = ${v} AND (${A} ${lt} ${a} OR (${A} = ${a} AND (${Rn} ${lt} ${r} OR (${Rn} = ${r} AND ${S} ${lt} ${q}))))))`;
  };
  const order = `${sortExpr} ${dir}, ${d.col("Agent_ID")} ${dir}, ${d.col("Run_ID")} ${dir}, ${
    d.col("Sequence")
  } ${dir}`;
  const out: ListAnswer["rows"] = [];
  let cursor = req.cursor;
  let last: [string, string, string, number] | null = null;
  let more = false;
  let scanned = 0;
  while (true) {
    const w = cursor === null ? where : `${where} AND ${cursorCond(cursor)}`;
    const page = p.js === null ? req.limit + 1 : Math.min(5000, (req.limit + 1) * 4);
    const rows = await s.select(
      `SELECT ${d.col("Agent_ID")} AS a, ${d.col("Run_ID")} AS r, ${d.col("Sequence")} AS q, ${
        d.exact(sortExpr)
      } AS s, ${d.record(t)} AS rec FROM ${d.from(t)} WHERE ${w} ORDER BY ${order} LIMIT ${page}`,
      { maxRows: page, timeoutMs: lim.timeoutMs, residuals: residualsOf(p, f) },
    );
    scanned += rows.length;
    for (const r of rows) {
      const key: [string, string, string, number] = [
        String(r.s),
        String(r.a),
        String(r.r),
        num(r.q),
      ];
      let rec: RecordObject;
      try {
        rec = JSON.parse(String(r.rec));
      } catch {
        rec = { Unreadable_Record: String(r.rec) };
      }
      if (p.js !== null && !p.js.match(rec)) {
        cursor = key;
        continue;
      }
      if (out.length === req.limit) {
        more = true;
        break;
      }
      out.push({ id: recordId(key[1], key[2], key[3]), record: rec });
      last = key;
      cursor = key;
    }
    if (more || rows.length < page || p.js === null) {
      more = more || (p.js === null && rows.length > req.limit);
      break;
    }
    if (scanned > lim.maxResidualRows) {
      throw new BadRequest(
        `the filter needs the stored records of more than ${lim.maxResidualRows} rows on this store; narrow the time range or filter on typed attributes`,
      );
    }
    where = p.where;
  }
  return {
    table: t.name,
    from: seconds(req.range.fromNs),
    to: seconds(req.range.toNs),
    sort: `${req.sort.desc ? "-" : ""}${req.sort.column}`,
    rows: out,
    next: more && last !== null ? encodeCursor(last) : null,
  };
}

/** `/api/flows/ID`, `/api/packets/ID`. Null when there is no such record. */
export async function byId(
  s: Store,
  t: TableSchema,
  id: string,
  lim: QueryLimits,
): Promise<RecordAnswer | null> {
  const e = parseRecordId(id);
  if (e === null) {
    throw new BadRequest(`record id: want <Agent_ID>.<Run_ID>.<Sequence>, got '${id}'`);
  }
  const d = s.dialect;
  const rows = await s.select(
    `SELECT ${d.record(t)} AS rec FROM ${d.from(t)} WHERE ${d.col("Agent_ID")} = ${
      d.lit(e.agent)
    } AND ${d.col("Run_ID")} = ${d.lit(e.run)} AND ${d.col("Sequence")} = ${d.lit(e.seq)} LIMIT 1`,
    { maxRows: 1, timeoutMs: lim.timeoutMs },
  );
  if (rows.length === 0) return null;
  return { table: t.name, id, record: JSON.parse(String(rows[0].rec)) };
}

/** `/api/agents`. */
export async function agents(s: Store): Promise<AgentsAnswer> {
  const rows = await s.agents();
  return {
    agents: rows.map((r) => ({
      ...r,
      First_Seen: r.First_Seen / 1000,
      Last_Seen: r.Last_Seen / 1000,
    })),
  };
}

export { NS };
