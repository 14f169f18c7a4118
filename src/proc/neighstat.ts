/**
 * Neighbour-cache statistics: /proc/<pid>/net/stat/arp_cache (IPv4) and ndisc_cache (IPv6).
 * A header of counter names, then one line of hexadecimal values per CPU
 * (net/core/neighbour.c neigh_stat_seq_show); `entries` is the table's size and is the same
 * on every line, every other counter is summed over the CPUs.
 *
 * @module
 */

/** What each counter counts (the kernel's names are terse). */
export const NEIGH_STAT_MEANING: Readonly<Record<string, string>> = {
  entries: "entries in the table",
  allocs: "entries allocated",
  destroys: "entries destroyed",
  hash_grows: "hash table grown",
  lookups: "lookups",
  hits: "lookups that found an entry",
  res_failed: "failed resolutions",
  rcv_probes_mcast: "multicast probes received",
  rcv_probes_ucast: "unicast probes received",
  periodic_gc_runs: "periodic garbage collections",
  forced_gc_runs: "forced garbage collections",
  unresolved_discards: "packets dropped while unresolved",
  table_fulls: "table full (entry refused)",
};

/** Parses one stat file into counter -> value (summed over CPUs, `entries` taken once). */
export function parseNeighStat(text: string): Map<string, number> {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const out = new Map<string, number>();
  if (lines.length < 2) return out;
  const names = lines[0].trim().split(/\s+/);
  for (const line of lines.slice(1)) {
    const vals = line.trim().split(/\s+/);
    names.forEach((n, i) => {
      const v = parseInt(vals[i] ?? "", 16);
      if (!Number.isFinite(v)) return;
      if (n === "entries") {
        if (!out.has(n)) out.set(n, v);
      } else out.set(n, (out.get(n) ?? 0) + v);
    });
  }
  return out;
}
