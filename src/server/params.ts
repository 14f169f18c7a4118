/**
 * Strict query-parameter parsing for the server's endpoints. Each endpoint declares its
 * parameters once; a value that does not fit, a parameter given twice or one the endpoint
 * does not know is a {@link ParamError}, which the router answers with 400 and a message
 * naming the parameter. No value is silently clamped or replaced by a default.
 *
 * @example
 * ```ts
 * import { int, parseParams } from "./params.ts";
 * const spec = { limit: int({ min: 1, max: 10000, default: 100 }), after: int({ min: 0, default: 0 }) };
 * const p = parseParams(new URL("http://x/api/records?limit=5").searchParams, spec);
 * p.limit; // 5 (a number); p.after: 0
 * parseParams(new URLSearchParams("limit=-1"), spec); // throws ParamError "limit: expected an integer 1..10000, got -1"
 * ```
 * @module
 */
import { closest } from "../filter/suggest.ts";

/** A bad query parameter; `param` names it, the message (which names it too) says what is wrong. */
export class ParamError extends Error {
  constructor(readonly param: string, message: string) {
    super(message);
    this.name = "ParamError";
  }
}

/** How one parameter is read. `parse` returns the value or throws a string (the problem). */
export interface ParamSpec<T> {
  /** Value when the parameter is absent; `undefined` with `required` unset means optional. */
  readonly default?: T;
  readonly required?: boolean;
  /** Converts the raw text; throws a string describing what was expected. */
  readonly parse: (raw: string) => T;
}

type Value<S> = S extends ParamSpec<infer T> ? T : never;
type HasDefault<S> = S extends { default: unknown } ? true : S extends { required: true } ? true
: false;

/** The parsed parameters: those with a default or `required` are always present. */
export type Params<S extends Record<string, ParamSpec<unknown>>> =
  & { [K in keyof S as HasDefault<S[K]> extends true ? K : never]: Value<S[K]> }
  & { [K in keyof S as HasDefault<S[K]> extends true ? never : K]?: Value<S[K]> };

interface NumOpts {
  min?: number;
  max?: number;
  default?: number;
  required?: boolean;
}

/** Keeps whether a spec has a default or is required in its type. */
type Flags<O> = Pick<O, Extract<keyof O, "default" | "required">>;

const INT = /^[+-]?\d+$/;
const NUM = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function quote(raw: string): string {
  return JSON.stringify(raw.length > 64 ? raw.slice(0, 64) + "..." : raw).replace(/^"|"$/g, "'");
}

function bounds(min?: number, max?: number): string {
  if (min !== undefined && max !== undefined) return ` ${min}..${max}`;
  if (min !== undefined) return ` >= ${min}`;
  if (max !== undefined) return ` <= ${max}`;
  return "";
}

function numeric<O extends NumOpts>(
  what: string,
  ok: (raw: string, n: number) => boolean,
  o: O,
): ParamSpec<number> & Flags<O> {
  const want = `expected ${what}${bounds(o.min, o.max)}`;
  return {
    ...o,
    parse: (raw) => {
      const n = Number(raw);
      if (!ok(raw, n)) throw `${want}, got ${quote(raw)}`;
      if ((o.min !== undefined && n < o.min) || (o.max !== undefined && n > o.max)) {
        throw `${want}, got ${raw}`;
      }
      return n;
    },
  };
}

/** An integer (decimal digits, optional sign), a safe integer within [min, max]. */
export function int<O extends NumOpts>(o: O = {} as O): ParamSpec<number> & Flags<O> {
  return numeric("an integer", (raw, n) => INT.test(raw) && Number.isSafeInteger(n), o);
}

/** A finite decimal number within [min, max] (no Infinity, NaN, hex or empty string). */
export function num<O extends NumOpts>(o: O = {} as O): ParamSpec<number> & Flags<O> {
  return numeric("a number", (raw, n) => NUM.test(raw) && Number.isFinite(n), o);
}

/** Text of 1..maxLength characters (default 256), optionally matching `pattern`. */
export function str<
  O extends {
    maxLength?: number;
    pattern?: RegExp;
    what?: string;
    default?: string;
    required?: boolean;
  },
>(o: O = {} as O): ParamSpec<string> & Flags<O> {
  const max = o.maxLength ?? 256;
  return {
    ...o,
    parse: (raw) => {
      if (raw.length === 0) throw "must not be empty";
      if (raw.length > max) throw `longer than ${max} characters`;
      if (o.pattern && !o.pattern.test(raw)) {
        throw `expected ${o.what ?? `text matching ${o.pattern}`}, got ${quote(raw)}`;
      }
      return raw;
    },
  };
}

/** One of a fixed set of words (case-sensitive). */
export function oneOf<
  const V extends string,
  O extends { default?: V; required?: boolean } = Record<never, never>,
>(
  values: readonly V[],
  o: O = {} as O,
): ParamSpec<V> & Flags<O> {
  return {
    ...o,
    parse: (raw) => {
      if ((values as readonly string[]).includes(raw)) return raw as V;
      throw `expected one of ${values.join(", ")}, got ${quote(raw)}`;
    },
  };
}

/** true/false (also 1/0). */
export function bool<O extends { default?: boolean; required?: boolean }>(
  o: O = {} as O,
): ParamSpec<boolean> & Flags<O> {
  return {
    ...o,
    parse: (raw) => {
      if (raw === "true" || raw === "1") return true;
      if (raw === "false" || raw === "0") return false;
      throw `expected true or false, got ${quote(raw)}`;
    },
  };
}

/** A comma-separated list of items, each read by `item`; at most `maxItems` (default 100). */
export function list<
  T,
  O extends { maxItems?: number; default?: T[]; required?: boolean } = Record<never, never>,
>(
  item: ParamSpec<T>,
  o: O = {} as O,
): ParamSpec<T[]> & Flags<O> {
  const max = o.maxItems ?? 100;
  return {
    ...o,
    parse: (raw) => {
      const parts = raw.split(",");
      if (parts.length > max) throw `at most ${max} items, got ${parts.length}`;
      return parts.map((p, i) => {
        try {
          return item.parse(p);
        } catch (e) {
          throw `item ${i + 1}: ${typeof e === "string" ? e : (e as Error).message}`;
        }
      });
    },
  };
}

/**
 * The raw values of `query`, refusing a parameter not in `allowed` (with the closest known
 * name as a hint) or one given twice. For endpoints that convert values themselves; see
 * {@link paramValue}.
 */
export function rawParams(query: URLSearchParams, allowed: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, raw] of query) {
    if (!allowed.includes(name)) {
      const hint = allowed.length > 0
        ? `; did you mean ${closest(name, allowed)}? (allowed: ${allowed.join(", ")})`
        : " (this endpoint takes none)";
      throw new ParamError(name, `unknown parameter '${name}'${hint}`);
    }
    if (out.has(name)) throw new ParamError(name, `parameter '${name}' given twice`);
    out.set(name, raw);
  }
  return out;
}

/** Converts one raw value by `spec`; a refused value is a {@link ParamError} naming `name`. */
export function paramValue<T>(name: string, spec: ParamSpec<T>, raw: string): T {
  try {
    return spec.parse(raw);
  } catch (e) {
    throw new ParamError(name, `${name}: ${typeof e === "string" ? e : (e as Error).message}`);
  }
}

/**
 * Reads `query` by `spec`. Throws {@link ParamError} for an unknown parameter, one given
 * twice, a value `spec` refuses, or a required one missing.
 */
export function parseParams<S extends Record<string, ParamSpec<unknown>>>(
  query: URLSearchParams,
  spec: S,
): Params<S> {
  const raw = rawParams(query, Object.keys(spec));
  const out: Record<string, unknown> = {};
  for (const [name, p] of Object.entries(spec)) {
    const v = raw.get(name);
    if (v !== undefined) out[name] = paramValue(name, p, v);
    else if (p.default !== undefined) out[name] = p.default;
    else if (p.required) throw new ParamError(name, `${name}: required`);
  }
  return out as Params<S>;
}
