/**
 * Effective settings: flags, then environment variables ({@link SettingSpec.env}), then
 * the INI config file, then defaults. Every value from the environment or the file is
 * checked against the {@link SETTINGS} table; a problem is a {@link UsageError} (exit 2)
 * of one line: `FILE:LINE: [section] key: problem` or `NETMON_X: problem`.
 *
 * @example
 * ```ts
 * import { resolveSettings } from "./load.ts";
 * const { settings, sources } = await resolveSettings({ snaplen: 128 }, "netmon.ini");
 * sources.snaplen; // "flag"
 * ```
 * @module
 */
import { defaultSettings, SETTINGS, type Settings, type SettingSpec } from "./settings.ts";
import { type IniEntry, parseIniLines } from "./ini.ts";
import { UsageError } from "../errors.ts";

export type SettingSource = "flag" | "env" | "file" | "default";

export interface ResolvedSettings {
  settings: Settings;
  /** Where each setting came from. */
  sources: Record<keyof Settings, SettingSource>;
  /** Details of the source: "NETMON_LOG_LEVEL", "netmon.ini:12", "--flag", "default". */
  origins: Record<keyof Settings, string>;
}

/** A setting's value as the Settings object holds it. */
export type SettingValue = string | number | boolean | string[];

/** Values read from a config file, with the line each came from. */
export interface ConfigFile {
  path: string;
  values: Partial<Settings>;
  lines: Partial<Record<keyof Settings, number>>;
}

/** Accepted spellings of booleans (case-insensitive). */
const TRUE = new Set(["true", "yes", "on", "1"]);
const FALSE = new Set(["false", "no", "off", "0"]);
const INT = /^[+-]?\d+$/;
const NUM = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function range(spec: SettingSpec): string {
  if (spec.min !== undefined && spec.max !== undefined) {
    return ` between ${spec.min} and ${spec.max}`;
  }
  if (spec.min !== undefined) return ` of at least ${spec.min}`;
  if (spec.max !== undefined) return ` of at most ${spec.max}`;
  return "";
}

/**
 * Converts one textual value for `spec`, or returns the problem as a string.
 * `true` stands for a bare key (`promiscuous` without `= value`).
 */
export function parseSettingValue(spec: SettingSpec, raw: string | true): SettingValue | {
  problem: string;
} {
  if (raw === true) {
    if (spec.type === "bool") return true;
    return { problem: "missing '= value'" };
  }
  const v = raw.trim();
  switch (spec.type) {
    case "string":
      return v;
    case "list":
      return v === "" ? [] : [v];
    case "bool": {
      const l = v.toLowerCase();
      if (TRUE.has(l)) return true;
      if (FALSE.has(l)) return false;
      return { problem: `expected true or false, got '${v}'` };
    }
    case "enum": {
      const values = spec.values ?? [];
      if (values.includes(v)) return v;
      return { problem: `expected one of ${values.join(", ")}, got '${v}'` };
    }
    case "int":
    case "number": {
      const ok = spec.type === "int" ? INT.test(v) : NUM.test(v);
      const n = Number(v);
      const what = spec.type === "int" ? "an integer" : "a number";
      if (!ok || !Number.isFinite(n) || (spec.type === "int" && !Number.isSafeInteger(n))) {
        return { problem: `expected ${what}${range(spec)}, got '${v}'` };
      }
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) {
        return { problem: `expected ${what}${range(spec)}, got ${v}` };
      }
      return n;
    }
  }
}

function isProblem(v: SettingValue | { problem: string }): v is { problem: string } {
  return typeof v === "object" && !Array.isArray(v);
}

/** Edit distance, for "did you mean" hints. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length];
}

function hint(word: string, known: string[]): string {
  const best = known.map((k) => [k, distance(word.toLowerCase(), k)] as const)
    .sort((x, y) => x[1] - y[1])[0];
  if (best && best[1] <= Math.max(2, Math.floor(word.length / 3))) {
    return ` (did you mean '${best[0]}'?)`;
  }
  return ` (known: ${known.join(", ")})`;
}

const SECTIONS = [...new Set(SETTINGS.map((s) => s.section))];

/**
 * Parses and checks config file text. `path` is only used in messages.
 * Throws {@link UsageError} `PATH:LINE: [section] key: problem` on the first problem.
 */
export function parseConfigText(text: string, path: string): ConfigFile {
  const doc = parseIniLines(text);
  const fail = (line: number, what: string): never => {
    throw new UsageError(`${path}:${line}: ${what}`);
  };
  const problems: { line: number; what: string }[] = [];
  for (const bad of doc.invalid) {
    problems.push({
      line: bad.line,
      what: `'${bad.text}': expected '[section]' or 'key = value'`,
    });
  }
  for (const s of doc.sections) {
    if (!SECTIONS.includes(s.name as SettingSpec["section"])) {
      problems.push({
        line: s.line,
        what: `[${s.name}]: unknown section${hint(s.name, SECTIONS)}`,
      });
    }
  }
  const out: ConfigFile = { path, values: {}, lines: {} };
  const values = out.values as Record<string, SettingValue>;
  for (const e of doc.entries) {
    const p = checkEntry(e, out, values);
    if (p) problems.push(p);
  }
  if (problems.length > 0) {
    problems.sort((a, b) => a.line - b.line);
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : "";
    fail(problems[0].line, problems[0].what + more);
  }
  return out;
}

/** Checks one `key = value` line and stores it; returns the problem, if any. */
function checkEntry(
  e: IniEntry,
  out: ConfigFile,
  values: Record<string, SettingValue>,
): { line: number; what: string } | null {
  const at = (what: string) => ({ line: e.line, what });
  if (e.section === null) {
    return at(`${e.key}: key outside any [section] (sections: ${SECTIONS.join(", ")})`);
  }
  if (!SECTIONS.includes(e.section as SettingSpec["section"])) return null; // reported once
  const spec = SETTINGS.find((s) => s.section === e.section && s.key === e.key);
  const label = `[${e.section}] ${e.key}`;
  if (!spec) {
    const keys = SETTINGS.filter((s) => s.section === e.section).map((s) => s.key);
    const elsewhere = SETTINGS.find((s) => s.key === e.key);
    const where = elsewhere ? ` (it belongs in [${elsewhere.section}])` : hint(e.key, keys);
    return at(`${label}: unknown key${where}`);
  }
  if (e.list && spec.type !== "list") {
    return at(`${label}: not a list; write '${e.key} = value'`);
  }
  const v = parseSettingValue(spec, e.value);
  if (isProblem(v)) return at(`${label}: ${v.problem}`);
  const first = out.lines[spec.name];
  if (spec.type === "list") {
    values[spec.name] = [
      ...((values[spec.name] as string[] | undefined) ?? []),
      ...(v as string[]),
    ];
  } else if (first !== undefined) {
    return at(`${label}: set twice (first on line ${first})`);
  } else {
    values[spec.name] = v;
  }
  if (first === undefined) out.lines[spec.name] = e.line;
  return null;
}

/** Reads and checks a config file; an unreadable file is one line, exit 2. */
export async function readConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new UsageError(`${path}: cannot read config file: ${osReason(e)}`);
  }
  return parseConfigText(text, path);
}

function osReason(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "no such file";
  if (e instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (e instanceof Deno.errors.IsADirectory) return "is a directory";
  const msg = e instanceof Error ? e.message : String(e);
  return msg.replace(/:\s*readfile .*$/, "");
}

/** Values from environment variables (those settings that have one). Empty = unset. */
export function envSettings(
  get: (name: string) => string | undefined = (n) => Deno.env.get(n),
): { values: Partial<Settings>; vars: Partial<Record<keyof Settings, string>> } {
  const values: Record<string, SettingValue> = {};
  const vars: Partial<Record<keyof Settings, string>> = {};
  for (const spec of SETTINGS) {
    if (!spec.env) continue;
    const raw = get(spec.env);
    if (raw === undefined || raw === "") continue;
    const v = parseSettingValue(spec, raw);
    if (isProblem(v)) throw new UsageError(`${spec.env}: ${v.problem}`);
    values[spec.name] = v;
    vars[spec.name] = spec.env;
  }
  return { values: values as Partial<Settings>, vars };
}

/**
 * Effective settings: flags (undefined = not given) > environment > config file > defaults.
 * A list from a higher level replaces the lower one; it is not merged.
 */
export async function resolveSettings(
  flags: Partial<Settings>,
  configPath?: string,
): Promise<ResolvedSettings> {
  const settings = defaultSettings();
  const sources = {} as Record<keyof Settings, SettingSource>;
  const origins = {} as Record<keyof Settings, string>;
  for (const k of Object.keys(settings) as (keyof Settings)[]) {
    sources[k] = "default";
    origins[k] = "default";
  }
  const set = (k: string, v: unknown, source: SettingSource, origin: string) => {
    (settings as unknown as Record<string, unknown>)[k] = v;
    sources[k as keyof Settings] = source;
    origins[k as keyof Settings] = origin;
  };
  if (configPath !== undefined && configPath !== "") {
    const file = await readConfigFile(configPath);
    for (const [k, v] of Object.entries(file.values)) {
      set(k, v, "file", `${configPath}:${file.lines[k as keyof Settings]}`);
    }
  }
  const env = envSettings();
  for (const [k, v] of Object.entries(env.values)) {
    set(k, v, "env", env.vars[k as keyof Settings] ?? "env");
  }
  for (const [k, v] of Object.entries(flags)) {
    if (v === undefined) continue;
    set(k, v, "flag", "flag");
  }
  return { settings, sources, origins };
}
