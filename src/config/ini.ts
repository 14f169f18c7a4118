/**
 * INI reading with line numbers. The `ini` package's `parse()` merges lines and drops
 * their positions, so this walks the lines itself with the same grammar as `ini`
 * (same section/key regular expression, `ini.unsafe()` for quoting, escapes and inline
 * `;`/`#` comments, `key[] = v` for list items) and keeps each line number for errors.
 *
 * Differences from `ini`: a comment may follow a section header (`[capture] ; live`);
 * a single-quoted value is taken literally (`ini` would JSON-parse its inside, turning
 * `'{"a": 1}'` into an object); values are always strings (`true` only for a bare key).
 *
 * @example
 * ```ts
 * import { parseIniLines } from "./ini.ts";
 * const doc = parseIniLines("[capture]\nsnaplen = 128 ; short\n");
 * doc.entries[0]; // { section: "capture", key: "snaplen", list: false, value: "128", line: 2 }
 * ```
 * @module
 */
import * as iniLib from "ini";

/** The part of the `ini` package used here (it ships no types). */
const ini = iniLib as unknown as {
  unsafe(val: string): string;
  safe(val: string): string;
};

export interface IniSection {
  name: string;
  line: number;
}

export interface IniEntry {
  /** Section the key sits in; null for keys before the first section header. */
  section: string | null;
  key: string;
  /** Written as `key[] = value`. */
  list: boolean;
  /** The value after unquoting; `true` for a bare key without `=`. */
  value: string | true;
  line: number;
}

export interface IniDoc {
  sections: IniSection[];
  entries: IniEntry[];
  /** Lines that are neither a section, a key, a comment nor blank. */
  invalid: { line: number; text: string }[];
}

/** `ini`'s grammar: a section header or `key [= value]`. */
const SECTION = /^\s*\[([^\]]*)\]\s*(?:[;#].*)?$/;
const KEY_VALUE = /^([^=]+)(=(.*))?$/;
const COMMENT_OR_BLANK = /^\s*([;#].*)?$/;

/** `ini.unsafe()`, except that '...' is literal and the result is always a string. */
function unquote(raw: string): string {
  const v = raw.trim();
  if (v.length >= 2 && v.startsWith("'") && v.endsWith("'")) return v.slice(1, -1);
  const u: unknown = ini.unsafe(v);
  return typeof u === "string" ? u : JSON.stringify(u);
}

/** Splits INI text into sections and entries, each with its 1-based line number. */
export function parseIniLines(text: string): IniDoc {
  const doc: IniDoc = { sections: [], entries: [], invalid: [] };
  let section: string | null = null;
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n|\r/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const n = i + 1;
    if (COMMENT_OR_BLANK.test(line)) continue;
    const s = SECTION.exec(line);
    if (s) {
      section = unquote(s[1]);
      doc.sections.push({ name: section, line: n });
      continue;
    }
    const kv = KEY_VALUE.exec(line);
    if (!kv || line.trim().startsWith("[")) {
      doc.invalid.push({ line: n, text: line.trim() });
      continue;
    }
    let key = unquote(kv[1]);
    const list = key.length > 2 && key.endsWith("[]");
    if (list) key = key.slice(0, -2).trim();
    const value: string | true = kv[2] !== undefined ? unquote(kv[3]) : true;
    doc.entries.push({ section, key, list, value, line: n });
  }
  return doc;
}

/**
 * Quotes a value for an INI file when `ini` would otherwise change it (comment
 * characters, surrounding spaces, leading quotes or brackets).
 */
export function iniValue(v: string): string {
  return ini.safe(v);
}
