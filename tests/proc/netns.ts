/** Test fixture for netmon proc: a fresh network namespace with known sockets, routes and a neighbour. */
import { sh, uniq } from "../helpers/run.ts";

export const HOLDER = new URL("./holder.py", import.meta.url).pathname;

export interface Holder {
  ns: string;
  pid: number;
  ports: { tcp4: number; tcp6: number; udp4: number; udp6: number };
  /** Runs a shell command inside the namespace. */
  inNs(cmd: string): string;
  /** Stops the holder and deletes the namespace (safe to call twice). */
  close(): Promise<void>;
}

/**
 * Creates namespace `nmp<uniq>` (lo, a veth pair with 10.200.1.1/24 and fd00:200::1/64, routes
 * to 198.51.100.0/24 and 2001:db8:1::/48 that carry no traffic, routes with an MTU in table
 * 100, a permanent neighbour for each family) and
 * starts tests/proc/holder.py inside it. Cleans up on any setup failure.
 */
export async function startHolder(): Promise<Holder> {
  const ns = `nmp${uniq()}`;
  let child: Deno.ChildProcess | undefined;
  const cleanup = async () => {
    if (child) {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await child.status.catch(() => {});
      child = undefined;
    }
    try {
      sh(`ip netns del ${ns} 2>/dev/null || true`);
    } catch { /* already gone */ }
  };
  try {
    sh([
      `ip netns add ${ns}`,
      `ip -n ${ns} link set lo up`,
      `ip netns exec ${ns} sysctl -qw net.ipv4.ping_group_range="0 2147483647"`,
      `ip -n ${ns} link add va type veth peer name vb`,
      `ip -n ${ns} link set va addrgenmode none`,
      `ip -n ${ns} link set vb addrgenmode none`,
      `ip -n ${ns} addr add 10.200.1.1/24 dev va`,
      `ip -n ${ns} -6 addr add fd00:200::1/64 dev va nodad`,
      `ip -n ${ns} link set va up`,
      `ip -n ${ns} link set vb up`,
      `ip -n ${ns} route add 198.51.100.0/24 via 10.200.1.2 dev va metric 7`,
      `ip -n ${ns} -6 route add 2001:db8:1::/48 via fd00:200::2 dev va metric 9`,
      `ip -n ${ns} neigh add 10.200.1.2 lladdr 02:00:00:00:00:02 dev va nud permanent`,
      `ip -n ${ns} -6 neigh add fd00:200::2 lladdr 02:00:00:00:00:03 dev va nud permanent`,
      // A route with its own MTU in a table of its own, both families.
      `ip -n ${ns} route add 203.0.113.0/24 via 10.200.1.2 dev va mtu 1300 table 100`,
      `ip -n ${ns} -6 route add 2001:db8:2::/48 via fd00:200::2 dev va mtu 1280 table 100`,
    ].join(" && "));
    // `ip netns exec` execs python3, so the child's pid is the holder's pid.
    child = new Deno.Command("ip", {
      args: ["netns", "exec", ns, "python3", HOLDER, "120"],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!out.includes("READY\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`holder exited early: ${out}`);
      out += value;
    }
    reader.releaseLock();
    const ports = JSON.parse(out.split("\n")[0]);
    const pid = child.pid;
    const self = child;
    return {
      ns,
      pid,
      ports,
      inNs: (cmd) => sh(`ip netns exec ${ns} ${cmd}`),
      close: async () => {
        try {
          await self.stdin.close();
        } catch { /* closed */ }
        await cleanup();
        await self.stdout.cancel().catch(() => {});
      },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
