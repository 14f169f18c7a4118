/**
 * Compiles one parsed filter (a JSON value) into predicates over records, checking
 * every name and value against the schema first. All parsing happens here, once:
 * each filter object becomes one generated function (see {@link generate}) that compares
 * numbers and strings and allocates nothing.
 */
import type { PacketRecord } from "../decode/record.ts";
import {
  canonicalIpv4,
  canonicalIpv6,
  canonicalMac,
  parseIpv4,
  parseIpv6,
  readIpv4Prefix,
} from "./addr.ts";
import {
  attributeNames,
  layerOf,
  type LayerSchema,
  SCALARS,
  SCHEMA,
  type ValueKind,
} from "./schema.ts";
import { closest } from "./suggest.ts";

export type RecordPredicate = (rec: PacketRecord) => boolean;
type ValuePred = (v: unknown) => boolean;

/** A problem in a filter, at `path` inside it ("IPv4.Source_Address", "[1].TCP.Port[0]"). */
export class FilterError extends Error {
  readonly path: string;
  readonly problem: string;
  constructor(path: string, problem: string) {
    super(path === "" ? problem : `${path}: ${problem}`);
    this.name = "FilterError";
    this.path = path;
    this.problem = problem;
  }
}

/** One compiled filter object: which record type it applies to and its predicate. */
export interface CompiledFilter {
  /** "any": the filter names only layers both record types carry (Process). */
  record: "packet" | "flow" | "any";
  match: RecordPredicate;
}

/**
 * Compiles a parsed filter file or argument: one filter object or a list of them.
 * Throws {@link FilterError} naming the path of the first problem.
 *
 * @example
 * ```ts
 * import { compileFilterValue } from "./src/filter/compile.ts";
 * const [f] = compileFilterValue({ TCP: { Port: 80 } });
 * f.match({ TCP: { Source_Port: 80, Destination_Port: 40000 } }); // true
 * ```
 */
export function compileFilterValue(value: unknown): CompiledFilter[] {
  if (Array.isArray(value)) {
    if (value.length === 0) {
      throw new FilterError("", "empty list of filters (it would match nothing)");
    }
    if (value.length > MAX_FILTER_LIST) {
      throw new FilterError(
        "",
        `a list of ${value.length} filters; netmon takes at most ${MAX_FILTER_LIST} in one list`,
      );
    }
    const out: CompiledFilter[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) out[i] = compileFilterObject(value[i], `[${i}]`);
    return out;
  }
  return [compileFilterObject(value, "")];
}

/** Most filter objects in one list. */
export const MAX_FILTER_LIST = 1_000_000;

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  if (typeof v === "string") return `string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function join(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/**
 * One condition of a filter object, as a statement of generated source that returns
 * false when the condition fails. `cost` orders them (cheap first).
 */
interface Condition {
  code: string;
  cost: number;
}

/** Values the generated source refers to by name (`a0`, `a1`, ...). */
class Args {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `a${this.values.length - 1}`;
  }
}

/** Generated filters made so far: each gets a distinct source text (see {@link generate}). */
let generated = 0;
/** Filters that get their own source text; later ones share one per shape. */
const UNIQUE_SOURCES = 256;
type Factory = (...a: unknown[]) => RecordPredicate;
/** Shared factories by shape (argument count + body). */
const factories = new Map<string, Factory>();

/**
 * Builds `function (rec) { <body> }` from source text with the property names written
 * as literals. V8 compiles `o["IPv4"]` to a named property load, which stays fast on
 * the many record shapes a capture produces, where a load through a variable key
 * (`o[key]`) is several times slower. Every generated function gets a unique comment
 * so V8 keeps its type feedback apart from other filters. Only names checked against
 * the schema reach the source, quoted with JSON.stringify; values stay in `args`.
 */
function generate(body: string, args: Args): RecordPredicate {
  const names = args.values.map((_, i) => `a${i}`);
  const code = `return function filter(rec) {\n${body}\n  return true;\n};`;
  if (generated < UNIQUE_SOURCES) {
    const source = `"use strict"; /* netmon filter ${generated++} */\n` + code;
    return (new Function(...names, source) as Factory)(...args.values);
  }
  // Beyond that (a list of thousands of filters) filters of one shape share their code:
  // compiling stays linear in the list and memory in the number of shapes.
  const key = `${names.length}\n${body}`;
  let make = factories.get(key);
  if (make === undefined) {
    make = new Function(
      ...names,
      `"use strict"; /* netmon filters (shared) */\n` + code,
    ) as Factory;
    factories.set(key, make);
  }
  return make(...args.values);
}

function compileFilterObject(value: unknown, path: string): CompiledFilter {
  if (!isPlainObject(value)) {
    throw new FilterError(
      path,
      `expected a filter object ({"Layer": {...}}), got ${describe(value)}`,
    );
  }
  const keys = Object.keys(value);
  const args = new Args();
  const loads: string[] = [];
  const conds: Condition[] = [];
  let record: "packet" | "flow" | "any" = "any";
  let packetKeys = 0;
  for (const [i, key] of keys.entries()) {
    const p = join(path, key);
    const k = JSON.stringify(key);
    if (Object.hasOwn(SCALARS, key)) {
      const vp = args.add(compileValue(SCALARS[key], value[key], p));
      conds.push({
        code: `  if (!${vp}(rec[${k}])) return false;`,
        cost: valueCost(SCALARS[key], value[key]),
      });
      packetKeys++;
      continue;
    }
    const lo = layerOf(key);
    if (lo === null) {
      const names = [...Object.keys(SCHEMA), ...Object.keys(SCALARS)];
      throw new FilterError(p, `unknown layer; did you mean ${closest(key, names)}?`);
    }
    const schema = SCHEMA[lo.name];
    if (schema.record === "flow") record = "flow";
    else if (schema.record === "packet") packetKeys++;
    const attrs = compileAttributes(schema, value[key], p);
    if (schema.list) {
      // A list of layer objects (Decode_Errors): some element must match every attribute.
      const m = args.add(listMatcher(attrs));
      loads.push(
        `  const l${i} = rec[${k}];\n  if (!Array.isArray(l${i}) || !${m}(l${i})) return false;`,
      );
      continue;
    }
    loads.push(
      `  const l${i} = rec[${k}];\n  if (typeof l${i} !== "object" || l${i} === null) return false;`,
    );
    for (const at of attrs) {
      const vp = args.add(at.match);
      const test = at.names.map((n) => `${vp}(l${i}[${JSON.stringify(n)}])`).join(" || ");
      conds.push({ code: `  if (!(${test})) return false;`, cost: at.cost });
    }
  }
  if (record === "flow" && packetKeys > 0) {
    const other = keys.find((k) =>
      SCHEMA[layerOf(k)?.name ?? ""]?.record !== "flow" &&
      SCHEMA[layerOf(k)?.name ?? ""]?.record !== "any"
    );
    throw new FilterError(
      join(path, other ?? ""),
      'a flow filter holds only "Flow" (flow records have no packet layers); use two filters',
    );
  }
  // Packet layers (or the empty filter {}) make it a packet filter.
  if (record === "any" && (packetKeys > 0 || keys.length === 0)) record = "packet";
  // Every layer first (a missing one fails fast), then the attributes, cheapest first.
  conds.sort((x, y) => x.cost - y.cost);
  const body = [...loads, ...conds.map((c) => c.code)].join("\n");
  return { record, match: generate(body, args) };
}

/** One compiled attribute of a layer: matcher, the record attributes it reads, cost. */
interface AttributeTest {
  match: ValuePred;
  /** One name, or the two an either-direction pseudo-attribute reads. */
  names: string[];
  cost: number;
}

function compileAttributes(schema: LayerSchema, value: unknown, path: string): AttributeTest[] {
  if (!isPlainObject(value)) {
    throw new FilterError(
      path,
      `expected an object of attributes ({} = layer present), got ${describe(value)}`,
    );
  }
  const out: AttributeTest[] = [];
  for (const attr of Object.keys(value)) {
    const p = join(path, attr);
    const either = schema.either !== undefined && Object.hasOwn(schema.either, attr)
      ? schema.either[attr]
      : null;
    if (either !== null) {
      const kind = schema.attrs[either[0]];
      out.push({
        match: compileValue(kind, value[attr], p),
        names: [either[0], either[1]],
        cost: 2 * valueCost(kind, value[attr]),
      });
      continue;
    }
    if (!Object.hasOwn(schema.attrs, attr)) {
      throw new FilterError(
        p,
        `unknown attribute; did you mean ${closest(attr, attributeNames(schema))}?`,
      );
    }
    const kind = schema.attrs[attr];
    out.push({
      match: compileValue(kind, value[attr], p),
      names: [attr],
      cost: valueCost(kind, value[attr]),
    });
  }
  return out.sort((x, y) => x.cost - y.cost);
}

/** Matches a list of layer objects when one element satisfies every attribute test. */
function listMatcher(tests: AttributeTest[]): (list: unknown[]) => boolean {
  const one = (o: Record<string, unknown>): boolean => {
    for (const t of tests) {
      let ok = false;
      for (const n of t.names) if (t.match(o[n])) ok = true;
      if (!ok) return false;
    }
    return true;
  };
  return (list) => {
    for (let i = 0; i < list.length; i++) {
      const e = list[i];
      if (typeof e === "object" && e !== null && one(e as Record<string, unknown>)) return true;
    }
    return false;
  };
}

const present: ValuePred = (v) => v !== undefined && v !== null;

/**
 * Rough cost of a value filter, so that a filter tests its cheap conditions (layer
 * present, numbers) before the dear ones (CIDR parsing, structural matches). All
 * conditions must hold, so the order changes the time, never the result.
 */
export function valueCost(kind: ValueKind, value: unknown): number {
  if (isPlainObject(value) && Object.keys(value).length === 0) return 1;
  const n = Array.isArray(value) ? value.length : 1;
  switch (kind.kind) {
    case "bool":
      return n;
    case "number":
    case "string":
    case "enum":
    case "mac":
      return 2 + n;
    case "flags":
      return 3 * n;
    case "json":
      return 20 * n;
    case "ipv4":
    case "ipv6":
    case "ip": {
      let c = 0;
      for (const v of Array.isArray(value) ? value : [value]) {
        const t = String(v);
        c += !t.includes("/") ? 2 : t.includes(":") ? 30 : 10;
      }
      return c;
    }
  }
}

/** Compiles the filter value for an attribute of `kind`: scalar, list (any of) or `{}`. */
export function compileValue(kind: ValueKind, value: unknown, path: string): ValuePred {
  if (isPlainObject(value) && Object.keys(value).length === 0) return present;
  if (kind.kind === "flags") return anyOf(value, path, (v, p) => compileFlags(kind.names, v, p));
  if (kind.kind === "json") return anyOf(value, path, compileJson);
  if (kind.kind === "bool") {
    return anyOf(value, path, (v, p) => {
      if (typeof v !== "boolean") {
        throw new FilterError(p, `expected true or false, got ${describe(v)}`);
      }
      return (x) => x === v;
    });
  }
  const items = Array.isArray(value) ? value : [value];
  if (items.length === 0) throw new FilterError(path, "empty list (it would match nothing)");
  const itemPath = (i: number) => Array.isArray(value) ? `${path}[${i}]` : path;
  switch (kind.kind) {
    case "number":
      return numberMatcher(items.map((v, i) => parseNumberItem(v, itemPath(i), kind.max)));
    case "string":
      return stringMatcher(items.map((v, i) => expectString(v, itemPath(i), "a string")));
    case "enum":
      return stringMatcher(items.map((v, i) => {
        const p = itemPath(i);
        const s = expectString(v, p, `one of ${kind.values.join(", ")}`);
        if (!kind.values.includes(s)) {
          throw new FilterError(
            p,
            `unknown value ${JSON.stringify(s)}; did you mean ${closest(s, kind.values)}?`,
          );
        }
        return s;
      }));
    case "mac":
      return stringMatcher(items.map((v, i) => {
        const p = itemPath(i);
        const s = expectString(v, p, "a MAC address string");
        const m = canonicalMac(s.trim());
        if (m === null) {
          throw new FilterError(
            p,
            `bad MAC address ${JSON.stringify(s)} (want 6 hex bytes, e.g. 00:1b:21:3c:9d:f8)`,
          );
        }
        return m;
      }));
    case "ipv4":
    case "ipv6":
    case "ip":
      return ipMatcher(items.map((v, i) => parseIpItem(v, itemPath(i), kind.kind)));
  }
}

/** A list in the filter means "any of"; anything else is one item. */
function anyOf(value: unknown, path: string, one: (v: unknown, p: string) => ValuePred): ValuePred {
  if (!Array.isArray(value)) return one(value, path);
  if (value.length === 0) throw new FilterError(path, "empty list (it would match nothing)");
  const preds = value.map((v, i) => one(v, `${path}[${i}]`));
  const n = preds.length;
  return (x) => {
    for (let i = 0; i < n; i++) if (preds[i](x)) return true;
    return false;
  };
}

function expectString(v: unknown, path: string, what: string): string {
  if (Array.isArray(v)) throw new FilterError(path, "nested list (a list means any of its values)");
  if (typeof v !== "string") throw new FilterError(path, `expected ${what}, got ${describe(v)}`);
  return v;
}

function stringMatcher(values: string[]): ValuePred {
  if (values.length === 1) {
    const s = values[0];
    return (v) => v === s;
  }
  const n = values.length;
  return (v) => {
    for (let i = 0; i < n; i++) if (v === values[i]) return true;
    return false;
  };
}

// ---- numbers -------------------------------------------------------------------------

const NUMBER_TEXT = /^\s*(0x[0-9a-f]+|\d+(?:\.\d+)?)\s*(?:-\s*(0x[0-9a-f]+|\d+(?:\.\d+)?)\s*)?$/i;

export function parseNumberItem(v: unknown, path: string, max?: number): [number, number] {
  let lo: number, hi: number;
  if (typeof v === "number") lo = hi = v;
  else if (typeof v === "string") {
    const m = NUMBER_TEXT.exec(v);
    if (m === null) {
      throw new FilterError(
        path,
        `bad number or range ${JSON.stringify(v)} (want e.g. 80, "0x0800" or "1024-65535")`,
      );
    }
    lo = Number(m[1]);
    hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo > hi) {
      throw new FilterError(path, `bad range ${JSON.stringify(v)}: low end above high end`);
    }
  } else if (Array.isArray(v)) {
    throw new FilterError(path, "nested list (a list means any of its values)");
  } else {
    throw new FilterError(
      path,
      `expected a number, a range "A-B" or a list of them, got ${describe(v)}`,
    );
  }
  if (max !== undefined && hi > max) {
    throw new FilterError(path, `${hi} is out of range (0-${max})`);
  }
  return [lo, hi];
}

function numberMatcher(ranges: [number, number][]): ValuePred {
  const toNum = (v: unknown): number =>
    typeof v === "number" ? v : typeof v === "string" ? Number(v) : NaN;
  if (ranges.length === 1) {
    const [lo, hi] = ranges[0];
    if (lo === hi) return (v) => toNum(v) === lo;
    return (v) => {
      const x = toNum(v);
      return x >= lo && x <= hi;
    };
  }
  const los = Float64Array.from(ranges, (r) => r[0]);
  const his = Float64Array.from(ranges, (r) => r[1]);
  const n = ranges.length;
  return (v) => {
    const x = toNum(v);
    for (let i = 0; i < n; i++) if (x >= los[i] && x <= his[i]) return true;
    return false;
  };
}

// ---- addresses -----------------------------------------------------------------------

interface IpItem {
  v6: boolean;
  /** Canonical text for a single address (prefix = full length). */
  exact: string | null;
  /** IPv4: network and mask (unsigned). IPv6: groups and prefix length. */
  net: number;
  mask: number;
  groups: Uint16Array;
  prefix: number;
}

function parseIpItem(v: unknown, path: string, kind: "ipv4" | "ipv6" | "ip"): IpItem {
  const what = kind === "ipv4"
    ? "an IPv4 address or CIDR"
    : kind === "ipv6"
    ? "an IPv6 address or CIDR"
    : "an IP address or CIDR";
  const s = expectString(v, path, what).trim();
  const slash = s.indexOf("/");
  const addr = slash < 0 ? s : s.slice(0, slash);
  const v6 = addr.includes(":");
  if (kind === "ipv4" && v6) {
    throw new FilterError(path, `expected an IPv4 address or CIDR, got ${JSON.stringify(s)}`);
  }
  if (kind === "ipv6" && !v6) {
    throw new FilterError(path, `expected an IPv6 address or CIDR, got ${JSON.stringify(s)}`);
  }
  const bits = v6 ? 128 : 32;
  let prefix = bits;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > bits) {
      throw new FilterError(path, `bad CIDR ${JSON.stringify(s)}: prefix length must be 0-${bits}`);
    }
    prefix = Number(p);
  }
  const groups = new Uint16Array(8);
  if (v6) {
    if (!parseIpv6(addr, groups)) {
      throw new FilterError(path, `bad IPv6 address ${JSON.stringify(addr)}`);
    }
    // clear host bits so the comparison below can use whole groups
    for (let g = 0; g < 8; g++) {
      const keep = Math.max(0, Math.min(16, prefix - 16 * g));
      groups[g] &= keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff;
    }
    return {
      v6,
      exact: prefix === 128 ? canonicalIpv6(addr) : null,
      net: 0,
      mask: 0,
      groups,
      prefix,
    };
  }
  const a = parseIpv4(addr);
  if (a < 0) throw new FilterError(path, `bad IPv4 address ${JSON.stringify(addr)}`);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return {
    v6,
    exact: prefix === 32 ? canonicalIpv4(addr) : null,
    net: (a & mask) >>> 0,
    mask,
    groups,
    prefix,
  };
}

/** Scratch space for parsing IPv6 record values (matching is synchronous: one is enough). */
const SCRATCH6 = new Uint16Array(8);

function ipMatcher(items: IpItem[]): ValuePred {
  const exact4: string[] = [];
  const exact6: string[] = [];
  const nets4: number[] = [];
  const masks4: number[] = [];
  const nets6: Uint16Array[] = [];
  const prefixes6: number[] = [];
  for (const it of items) {
    if (it.exact !== null) (it.v6 ? exact6 : exact4).push(it.exact);
    else if (it.v6) {
      nets6.push(it.groups);
      prefixes6.push(it.prefix);
    } else {
      nets4.push(it.net);
      masks4.push(it.mask);
    }
  }
  const has4 = exact4.length + nets4.length > 0;
  const has6 = exact6.length + nets6.length > 0;
  const n4 = nets4.length;
  const n6 = nets6.length;
  const netsA = Float64Array.from(nets4);
  const masksA = Uint32Array.from(masks4);
  // Octets to read: as many as the longest prefix covers.
  let octets = 1;
  for (const it of items) {
    if (!it.v6 && it.exact === null) octets = Math.max(octets, Math.ceil(it.prefix / 8));
  }
  // IPv4 first: a record's dotted quad either reads as a number or is IPv6 text.
  return (v) => {
    if (typeof v !== "string") return false;
    if (has4) {
      for (let i = 0; i < exact4.length; i++) if (v === exact4[i]) return true;
      if (n4 > 0) {
        const a = readIpv4Prefix(v, octets);
        if (a >= 0) {
          for (let i = 0; i < n4; i++) if (((a & masksA[i]) >>> 0) === netsA[i]) return true;
          return false;
        }
      }
    }
    if (!has6) return false;
    for (let i = 0; i < exact6.length; i++) if (v === exact6[i]) return true;
    if (n6 === 0 || !parseIpv6(v, SCRATCH6)) return false;
    for (let i = 0; i < n6; i++) if (prefixMatch(SCRATCH6, nets6[i], prefixes6[i])) return true;
    return false;
  };
}

function prefixMatch(addr: Uint16Array, net: Uint16Array, prefix: number): boolean {
  let g = 0;
  let left = prefix;
  while (left >= 16) {
    if (addr[g] !== net[g]) return false;
    g++;
    left -= 16;
  }
  if (left === 0) return true;
  const mask = (0xffff << (16 - left)) & 0xffff;
  return (addr[g] & mask) === net[g];
}

// ---- nested objects --------------------------------------------------------------------

function compileFlags(names: readonly string[], value: unknown, path: string): ValuePred {
  if (!isPlainObject(value)) {
    throw new FilterError(
      path,
      `expected an object of flags such as {"${names[0]}": true}, got ${describe(value)}`,
    );
  }
  const keys: string[] = [];
  const want: boolean[] = [];
  for (const k of Object.keys(value)) {
    const p = join(path, k);
    if (!names.includes(k)) {
      throw new FilterError(p, `unknown flag; did you mean ${closest(k, names)}?`);
    }
    const b = value[k];
    if (typeof b !== "boolean") {
      throw new FilterError(p, `expected true or false, got ${describe(b)}`);
    }
    keys.push(k);
    want.push(b);
  }
  const n = keys.length;
  return (v) => {
    if (typeof v !== "object" || v === null) return false;
    const o = v as Record<string, unknown>;
    for (let i = 0; i < n; i++) if ((o[keys[i]] === true) !== want[i]) return false;
    return true;
  };
}

/**
 * Structural match for list/object attributes (options, TLVs): a filter object matches
 * a record object holding matching values under the same keys, or a record list with
 * any element that matches; a scalar matches an equal scalar or a list containing it.
 */
function compileJson(value: unknown, path: string): ValuePred {
  if (Array.isArray(value)) return anyOf(value, path, compileJson);
  let self: ValuePred;
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0) return present;
    const subs = keys.map((k) => compileJson(value[k], join(path, k)));
    const n = keys.length;
    const matchObj = (o: Record<string, unknown>): boolean => {
      for (let i = 0; i < n; i++) if (!subs[i](o[keys[i]])) return false;
      return true;
    };
    self = (v) => {
      if (typeof v !== "object" || v === null) return false;
      if (!Array.isArray(v)) return matchObj(v as Record<string, unknown>);
      for (let i = 0; i < v.length; i++) {
        const e = v[i];
        if (typeof e === "object" && e !== null && !Array.isArray(e) && matchObj(e)) return true;
      }
      return false;
    };
    return self;
  }
  if (value === null) {
    throw new FilterError(path, "null is not a filter value (use {} for present)");
  }
  const lit = value;
  return (v) => {
    if (v === lit) return true;
    if (!Array.isArray(v)) return false;
    for (let i = 0; i < v.length; i++) if (v[i] === lit) return true;
    return false;
  };
}
