/**
 * /proc/<pid>/net/dev: per-interface counters. The two header lines name column groups
 * ("Receive", "Transmit") separated by `|` and the counters inside each group; every
 * counter is read by its group and name (`Receive_Bytes`, `Transmit_Colls`).
 *
 * @module
 */

export interface DevRow {
  Interface: string;
  /** `Receive_Bytes`, `Receive_Packets`, ..., `Transmit_Carrier`, ... */
  Counters: Record<string, number>;
}

const title = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Parses /proc/net/dev. */
export function parseDev(text: string): DevRow[] {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  if (lines.length < 2) return [];
  const groups = lines[0].split("|").map((s) => s.trim());
  const sub = lines[1].split("|").map((s) => s.trim().split(/\s+/));
  // Column names for the values after "iface:", group by group (group 0 is the name column).
  const names: string[] = [];
  for (let g = 1; g < sub.length; g++) {
    const group = title(groups[g] ?? `Group${g}`);
    for (const n of sub[g]) names.push(`${group}_${title(n)}`);
  }
  const rows: DevRow[] = [];
  for (const line of lines.slice(2)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const values = line.slice(colon + 1).trim().split(/\s+/);
    const counters: Record<string, number> = {};
    names.forEach((n, i) => {
      const v = Number(values[i]);
      if (values[i] !== undefined && Number.isFinite(v)) counters[n] = v;
    });
    rows.push({ Interface: line.slice(0, colon).trim(), Counters: counters });
  }
  return rows;
}
