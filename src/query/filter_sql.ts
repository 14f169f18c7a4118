/**
 * netmon's filter language compiled to SQL over the typed columns of one table.
 *
 * A filter is validated by src/filter/compile.ts first (so the error messages are the
 * ones `capture --filter` prints) and then translated object by object: a layer becomes a
 * bit test on `Layers` (packets) and each attribute a condition on the column that holds
 * it (schema.ts `from`). What no column holds (options, TLVs, second occurrences, `{}` on
 * a column with a default, an IPv6 attribute of a packet that also has IPv4) becomes a
 * *residual*: the whole filter object tested on the stored record with the predicate
 * `capture --filter` uses. Backends that can run JavaScript inside SQL (SQLite) call it
 * per row; the others (ClickHouse) use the lower bound (residual = false: rows decided by
 * SQL) and the upper bound (residual = true: candidates checked here) of the condition.
 */
import { compileFilterValue, FilterError, parseNumberItem } from "../filter/compile.ts";
import { parseJsonc } from "../filter/load.ts";
import { canonicalMac } from "../filter/addr.ts";
import { layerOf, SCALARS, SCHEMA as FILTER_SCHEMA, type ValueKind } from "../filter/schema.ts";
import {
  type Column,
  columnOf,
  layerBit,
  nsOf,
  type RecordObject,
  type TableSchema,
} from "../store/schema.ts";
import { addressBytes, macNumber, prefixRange } from "../store/ip.ts";
import type { Dialect } from "../store/store.ts";

/** A request the API refuses (400) with one line. */
export class BadRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BadRequest";
  }
}

/** Condition tree; `R` is the residual test of filter object `i`. */
export type Cond =
  | { k: "sql"; s: string }
  | { k: "and"; xs: Cond[] }
  | { k: "or"; xs: Cond[] }
  | { k: "R"; i: number }
  | { k: "true" }
  | { k: "false" };

const TRUE: Cond = { k: "true" };
const sql = (s: string): Cond => ({ k: "sql", s });
function and(xs: Cond[]): Cond {
  const ys = xs.filter((x) => x.k !== "true");
  if (ys.some((x) => x.k === "false")) return { k: "false" };
  return ys.length === 0 ? TRUE : ys.length === 1 ? ys[0] : { k: "and", xs: ys };
}
function or(xs: Cond[]): Cond {
  const ys = xs.filter((x) => x.k !== "false");
  if (ys.some((x) => x.k === "true")) return TRUE;
  return ys.length === 0 ? { k: "false" } : ys.length === 1 ? ys[0] : { k: "or", xs: ys };
}

/** How residual tests are written: a backend call, or replaced by a constant. */
export type ResidualMode = "call" | "true" | "false";

/** Renders a condition; `flip` swaps true/false for residuals under a NOT. */
export function render(c: Cond, d: Dialect, t: TableSchema, mode: ResidualMode): string {
  switch (c.k) {
    case "sql":
      return c.s;
    case "true":
      return "1 = 1";
    case "false":
      return "1 = 0";
    case "R": {
      if (mode === "true") return "1 = 1";
      if (mode === "false") return "1 = 0";
      const call = d.residual(t, c.i);
      if (call === null) throw new Error("this store cannot run residual filters in SQL");
      return call;
    }
    case "and":
      return "(" + c.xs.map((x) => render(x, d, t, mode)).join(" AND ") + ")";
    case "or":
      return "(" + c.xs.map((x) => render(x, d, t, mode)).join(" OR ") + ")";
  }
}

/** A compiled `filter` + `exclude` pair for one table. */
export interface QueryFilter {
  /** Records must match one of these (null: no keep filter). */
  keep: Cond | null;
  /** Records matching one of these are left out (null: none). */
  drop: Cond | null;
  /** Filter objects the residual tests refer to, by index (JSON values). */
  residuals: unknown[];
  /** The exact predicate over a whole record (keep and not drop), as capture applies it. */
  match: (rec: RecordObject) => boolean;
}

/** SQL of a filter pair; residuals per `mode` (call / upper bound / lower bound). */
export function renderFilter(
  f: QueryFilter,
  d: Dialect,
  t: TableSchema,
  bound: "call" | "upper" | "lower",
): string | null {
  const keepMode: ResidualMode = bound === "call" ? "call" : bound === "upper" ? "true" : "false";
  const dropMode: ResidualMode = bound === "call" ? "call" : bound === "upper" ? "false" : "true";
  const parts: string[] = [];
  if (f.keep !== null) parts.push(render(f.keep, d, t, keepMode));
  if (f.drop !== null) parts.push(`NOT ${render(f.drop, d, t, dropMode)}`);
  return parts.length === 0 ? null : parts.join(" AND ");
}

/** True when a condition has residual tests. */
export function hasResidual(c: Cond | null): boolean {
  if (c === null) return false;
  if (c.k === "R") return true;
  if (c.k === "and" || c.k === "or") return c.xs.some(hasResidual);
  return false;
}

/** Parses and validates `filter`/`exclude` text and compiles it for `t`. */
export function compileQueryFilter(
  t: TableSchema,
  d: Dialect,
  filterText: string | null,
  excludeText: string | null,
): QueryFilter {
  const residuals: unknown[] = [];
  const preds: { keep: ((r: RecordObject) => boolean)[]; drop: ((r: RecordObject) => boolean)[] } =
    { keep: [], drop: [] };
  const one = (text: string, name: "filter" | "exclude"): Cond | null => {
    let value: unknown;
    let compiled;
    try {
      value = parseJsonc(text);
      compiled = compileFilterValue(value);
    } catch (e) {
      const msg = e instanceof FilterError || e instanceof Error ? e.message : String(e);
      throw new BadRequest(`${name}: ${msg}`);
    }
    const objects = Array.isArray(value) ? value : [value];
    const conds: Cond[] = [];
    for (let i = 0; i < objects.length; i++) {
      if (compiled[i].record !== t.record && compiled[i].record !== "any") continue;
      (name === "filter" ? preds.keep : preds.drop).push(compiled[i].match);
      conds.push(objectCond(t, d, objects[i] as Record<string, unknown>, residuals));
    }
    if (conds.length === 0) {
      if (name === "exclude") return null;
      throw new BadRequest(
        `filter: no filter object applies to ${t.name} (${
          t.record === "flow"
            ? 'flow filters name "Flow"'
            : 'packet filters name packet layers, not "Flow"'
        })`,
      );
    }
    return or(conds);
  };
  const keep = filterText === null ? null : one(filterText, "filter");
  const drop = excludeText === null ? null : one(excludeText, "exclude");
  const k = preds.keep;
  const x = preds.drop;
  const match = (r: RecordObject) =>
    (k.length === 0 || k.some((p) => p(r))) && !x.some((p) => p(r));
  return { keep, drop, residuals, match };
}

function objectCond(
  t: TableSchema,
  d: Dialect,
  obj: Record<string, unknown>,
  residuals: unknown[],
): Cond {
  let index = -1;
  const R = (): Cond => {
    if (index < 0) {
      index = residuals.length;
      residuals.push(obj);
    }
    return { k: "R", i: index };
  };
  const conds: Cond[] = [];
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    if (Object.hasOwn(SCALARS, key)) {
      conds.push(attrCond(t, d, "", key, SCALARS[key], value, R));
      continue;
    }
    const lo = layerOf(key)!;
    const ls = FILTER_SCHEMA[lo.name];
    if (t.record === "packet") {
      const bit = lo.occurrence === 1 ? layerBit(key) : null;
      conds.push(bit === null ? R() : sql(d.bits(d.col("Layers"), bit)));
    }
    if (ls.list) {
      // Decode_Errors: a list of problems; `{}` is "has one", the rest needs the record.
      if (Object.keys(value as object).length > 0) conds.push(R());
      continue;
    }
    const attrs = value as Record<string, unknown>;
    for (const attr of Object.keys(attrs)) {
      const either = ls.either?.[attr];
      if (either !== undefined) {
        const kind = ls.attrs[either[0]];
        conds.push(or([
          attrCond(t, d, key, either[0], kind, attrs[attr], R),
          attrCond(t, d, key, either[1], kind, attrs[attr], R),
        ]));
      } else conds.push(attrCond(t, d, key, attr, ls.attrs[attr], attrs[attr], R));
    }
  }
  return and(conds);
}

/** The column holding `layer.attr` of `t` and its position among the column's sources. */
function columnFor(t: TableSchema, layer: string, attr: string): [Column, number] | null {
  for (const c of t.columns) {
    const k = c.from?.findIndex(([l, a]) => l === layer && a === attr) ?? -1;
    if (k >= 0) return [c, k];
  }
  return null;
}

function attrCond(
  t: TableSchema,
  d: Dialect,
  layer: string,
  attr: string,
  kind: ValueKind,
  value: unknown,
  R: () => Cond,
): Cond {
  const found = columnFor(t, layer, attr);
  if (found === null) return R();
  const [c, k] = found;
  const vc = valueCond(t, d, c, kind, value) ?? R();
  if (k === 0) return vc;
  // The column holds this layer's value only when none of the earlier layers is present.
  let mask = 0;
  for (let j = 0; j < k; j++) mask += layerBit(c.from![j][0]) ?? 0;
  const layers = d.col("Layers");
  return or([
    and([sql(d.bits(layers, mask, 0)), vc]),
    and([sql(d.bits(layers, mask)), R()]),
  ]);
}

const isEmptyObject = (v: unknown) =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;

/** The SQL test of a value on a column, or null when SQL cannot say (residual). */
function valueCond(
  t: TableSchema,
  d: Dialect,
  c: Column,
  kind: ValueKind,
  value: unknown,
): Cond | null {
  const e = d.col(c.name);
  if (isEmptyObject(value)) return c.nullable ? sql(`${e} IS NOT NULL`) : null;
  const items = Array.isArray(value) ? value : [value];
  switch (kind.kind) {
    case "json":
      return null;
    case "bool":
      return or(items.map((v) => sql(`${e} = ${v === true ? 1 : 0}`)));
    case "flags": {
      if (c.bits === undefined) return null;
      return or(items.map((v) => {
        let mask = 0;
        let want = 0;
        for (const [name, on] of Object.entries(v as Record<string, boolean>)) {
          const b = 1 << c.bits!.indexOf(name);
          mask |= b;
          if (on) want |= b;
        }
        return sql(d.bits(e, mask, want));
      }));
    }
    case "string":
    case "enum":
      if (c.type !== "String" && c.type !== "LowString") return null;
      return sql(
        items.length === 1
          ? `${e} = ${d.lit(items[0] as string)}`
          : `${e} IN (${items.map((v) => d.lit(v as string)).join(", ")})`,
      );
    case "mac":
      if (c.type !== "MAC") return null;
      return or(items.map((v) => sql(`${e} = ${macNumber(canonicalMac((v as string).trim())!)}`)));
    case "number": {
      const time = c.type === "Time" || c.type === "Duration";
      return or(items.map((v) => {
        const [lo, hi] = parseNumberItem(v, "");
        if (!time) return sql(lo === hi ? `${e} = ${lo}` : `${e} BETWEEN ${lo} AND ${hi}`);
        const [tlo, thi] = timeBounds(v, lo, hi);
        return sql(tlo === thi ? `${e} = ${tlo}` : `${e} BETWEEN ${tlo} AND ${thi}`);
      }));
    }
    case "ipv4":
    case "ipv6":
    case "ip": {
      if (c.type !== "IP") return null;
      const family = t.name === "flows" ? columnOf(t, "IP_Version") : undefined;
      return or(items.map((v) => {
        const s = (v as string).trim();
        const slash = s.indexOf("/");
        const b = new Uint8Array(16);
        const f = addressBytes(slash < 0 ? s : s.slice(0, slash), b);
        const bits = slash < 0 ? 128 : (f === 4 ? 96 : 0) + Number(s.slice(slash + 1));
        const [lo, hi] = prefixRange(b, bits);
        const test = bits === 128
          ? sql(`${e} = ${d.lit(lo)}`)
          : sql(`${e} BETWEEN ${d.lit(lo)} AND ${d.lit(hi)}`);
        return family === undefined ? test : and([sql(`${d.col(family.name)} = ${f}`), test]);
      }));
    }
  }
}

/** Nanosecond bounds of a time filter item, decimal-exact where the text allows. */
function timeBounds(v: unknown, lo: number, hi: number): [bigint, bigint] {
  const ns = (text: string | null, x: number): bigint =>
    (text !== null && /^\d+(\.\d{1,9})?$/.test(text) ? nsOf(text) : null) ??
      BigInt(Math.round(x * 1e9));
  if (typeof v === "number") return [ns(String(v), v), ns(String(v), v)];
  const m = /^\s*([^-\s]+)\s*(?:-\s*(\S+)\s*)?$/.exec(String(v));
  return [ns(m?.[1] ?? null, lo), ns(m?.[2] ?? m?.[1] ?? null, hi)];
}
