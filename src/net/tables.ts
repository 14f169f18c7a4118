/**
 * Routing table names: the kernel's reserved ids plus iproute2's rt_tables files
 * (/etc/iproute2 first, then the distribution defaults in /usr/share/iproute2 and
 * /usr/lib/iproute2), including their rt_tables.d/*.conf fragments.
 *
 * @example
 * ```ts
 * import { parseRtTables } from "./tables.ts";
 * parseRtTables("100 vpn # comment\n"); // Map { 100 => "vpn" }
 * ```
 * @module
 */

/** Reserved table ids (linux/rtnetlink.h RT_TABLE_*). */
const BUILTIN: ReadonlyArray<[number, string]> = [
  [0, "unspec"],
  [253, "default"],
  [254, "main"],
  [255, "local"],
];
const DIRS = ["/etc/iproute2", "/usr/share/iproute2", "/usr/lib/iproute2"];

/** Parses rt_tables text: "ID NAME" per line, `#` comments. */
export function parseRtTables(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const line of text.split("\n")) {
    const m = /^\s*(0x[0-9a-f]+|\d+)\s+([^\s#]+)/i.exec(line);
    if (m) out.set(Number(m[1]), m[2]);
  }
  return out;
}

function readOr(path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return "";
  }
}

/** Table names by id; the first file that names an id wins, as in iproute2. */
export function tableNames(): Map<number, string> {
  const out = new Map<number, string>(BUILTIN);
  const files: string[] = [];
  for (const dir of DIRS) {
    files.push(`${dir}/rt_tables`);
    try {
      const conf = [...Deno.readDirSync(`${dir}/rt_tables.d`)]
        .filter((e) => e.name.endsWith(".conf"))
        .map((e) => `${dir}/rt_tables.d/${e.name}`)
        .sort();
      files.push(...conf);
    } catch { /* no such directory */ }
  }
  const seen = new Set<number>();
  for (const f of files) {
    for (const [id, name] of parseRtTables(readOr(f))) {
      if (seen.has(id)) continue;
      seen.add(id);
      out.set(id, name);
    }
  }
  return out;
}
