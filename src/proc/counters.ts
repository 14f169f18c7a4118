/**
 * Counter files: /proc/<pid>/net/snmp and netstat print pairs of lines
 * (`Tcp: RtoAlgorithm RtoMin ...` then `Tcp: 1 200 ...`); snmp6 prints one
 * `Ip6InReceives 42` per line. Every counter is kept by group and name.
 *
 * @module
 */

/** group -> counter name -> value. */
export type Counters = Map<string, Map<string, number>>;

/** Parses snmp / netstat style header+value line pairs; merges into `into` when given. */
export function parsePairedCounters(text: string, into: Counters = new Map()): Counters {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const h = lines[i], v = lines[i + 1];
    const hc = h.indexOf(":"), vc = v.indexOf(":");
    if (hc < 0 || vc < 0) continue;
    const group = h.slice(0, hc);
    if (v.slice(0, vc) !== group) {
      i--; // out of step: resynchronise on the next line
      continue;
    }
    const names = h.slice(hc + 1).trim().split(/\s+/);
    const values = v.slice(vc + 1).trim().split(/\s+/);
    const m = into.get(group) ?? new Map<string, number>();
    names.forEach((n, k) => {
      const x = Number(values[k]);
      if (n !== "" && values[k] !== undefined && Number.isFinite(x)) m.set(n, x);
    });
    into.set(group, m);
  }
  return into;
}

/**
 * Parses /proc/net/snmp6 (`Ip6InReceives 42`); the group is the name up to and
 * including its first `6` (Ip6, Icmp6, Udp6, UdpLite6).
 */
export function parseSnmp6(text: string, into: Counters = new Map()): Counters {
  for (const line of text.split("\n")) {
    const [name, value] = line.trim().split(/\s+/);
    if (!name || value === undefined) continue;
    const m = /^([A-Za-z]+6)(.+)$/.exec(name);
    const x = Number(value);
    if (!m || !Number.isFinite(x)) continue;
    const g = into.get(m[1]) ?? new Map<string, number>();
    g.set(m[2], x);
    into.set(m[1], g);
  }
  return into;
}

/** A counter's value, or undefined when this kernel does not have it. */
export function counter(c: Counters, group: string, name: string): number | undefined {
  return c.get(group)?.get(name);
}
