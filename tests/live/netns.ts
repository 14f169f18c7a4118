/**
 * A throwaway network lab for live-capture tests and the benchmark: two namespaces
 * `nm-<id>a` / `nm-<id>b` joined by veth pairs. Everything is torn down by `destroy()`
 * (deleting a namespace deletes its veth ends), which callers run in `finally`.
 */
import { sh, uniq } from "../helpers/run.ts";

export interface Pair {
  /** veth names in namespace a and b. */
  a: string;
  b: string;
}

export class Lab {
  readonly id = uniq();
  readonly nsA = `nm-${this.id}a`;
  readonly nsB = `nm-${this.id}b`;
  #made = false;

  /** Creates both namespaces with loopback up and quiet IPv6/neighbour defaults. */
  create(): void {
    this.#made = true;
    for (const ns of [this.nsA, this.nsB]) {
      sh(`ip netns add ${ns}`);
      this.sh(ns, "ip link set lo up");
      // Quiet wire: no router solicitations, no DAD, no link-local address (no MLD for it),
      this.sh(
        ns,
        [
          "sysctl -qw net.ipv6.conf.default.router_solicitations=0",
          "sysctl -qw net.ipv6.conf.all.router_solicitations=0",
          "sysctl -qw net.ipv6.conf.default.dad_transmits=0",
          "sysctl -qw net.ipv6.conf.default.addr_gen_mode=1",
        ].join(" && "),
      );
    }
  }

  /** Adds a veth pair `<prefix>a`/`<prefix>b` (prefix + id must stay under 15 chars). */
  veth(prefix: string, v4: string, v6?: string): Pair {
    const p: Pair = { a: `${prefix}${this.id}a`, b: `${prefix}${this.id}b` };
    sh(`ip link add ${p.a} netns ${this.nsA} type veth peer name ${p.b} netns ${this.nsB}`);
    this.#quiet(this.nsA, p.a);
    this.#quiet(this.nsB, p.b);
    this.sh(this.nsA, `ip addr add ${v4}.1/24 dev ${p.a} && ip link set ${p.a} up`);
    this.sh(this.nsB, `ip addr add ${v4}.2/24 dev ${p.b} && ip link set ${p.b} up`);
    if (v6 !== undefined) {
      this.sh(this.nsA, `ip addr add ${v6}::1/64 dev ${p.a} nodad`);
      this.sh(this.nsB, `ip addr add ${v6}::2/64 dev ${p.b} nodad`);
    }
    return p;
  }

  /** MAC address of a link inside a namespace. */
  mac(ns: string, dev: string): string {
    return this.sh(ns, `cat /sys/class/net/${dev}/address`).trim();
  }

  /** No neighbour re-probes within a test (the per-device neighbour settings). */
  #quiet(ns: string, dev: string): void {
    this.sh(
      ns,
      `sysctl -qw net.ipv4.neigh.${dev}.delay_first_probe_time=60 && ` +
        `sysctl -qw net.ipv6.neigh.${dev}.delay_first_probe_time=60`,
    );
  }

  /** Runs a shell script inside a namespace. */
  sh(ns: string, script: string): string {
    return sh(`ip netns exec ${ns} sh -c '${script.replaceAll("'", "'\\''")}'`);
  }

  /** ifindex of a link inside a namespace. */
  ifindex(ns: string, dev: string): number {
    return parseInt(this.sh(ns, `cat /sys/class/net/${dev}/ifindex`).trim(), 10);
  }

  /** Packet sockets in `ns` bound to `ifindex` (from /proc/net/packet). */
  packetSockets(ns: string, ifindex: number): number {
    const lines = this.sh(ns, "cat /proc/net/packet").trim().split("\n").slice(1);
    return lines.filter((l) => {
      const f = l.trim().split(/\s+/);
      return parseInt(f[4], 10) === ifindex && f[5] === "1";
    }).length;
  }

  /** Starts argv inside a namespace (stdout/stderr piped). */
  spawn(ns: string, argv: string[], env?: Record<string, string>): Deno.ChildProcess {
    return new Deno.Command("ip", {
      args: ["netns", "exec", ns, ...argv],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env,
    }).spawn();
  }

  /** Deletes the namespaces (and so every veth in them). Safe to call twice. */
  destroy(): void {
    if (!this.#made) return;
    this.#made = false;
    for (const ns of [this.nsA, this.nsB]) {
      try {
        sh(`ip netns del ${ns}`);
      } catch { /* already gone */ }
    }
  }
}

/** Polls `cond` every 50 ms until it holds; throws after `ms` (a setup failure, not a result). */
export async function waitFor(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Sends SIGINT (or `sig`) to a child if it is still running; never throws. */
export function signal(child: Deno.ChildProcess, sig: Deno.Signal = "SIGINT"): void {
  try {
    child.kill(sig);
  } catch { /* already exited */ }
}

/** Collects a child's output, killing it with SIGKILL if it has not exited after `ms`. */
export async function finish(
  child: Deno.ChildProcess,
  ms = 20_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const t = setTimeout(() => signal(child, "SIGKILL"), ms);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(t);
  }
}
