/**
 * A throw-away topology for the interfaces/gateways tests, in two fresh network namespaces:
 *
 * ```
 *  ns A                                              ns B
 *  lo
 *  va (10.77.0.1/24, 10.77.0.5/24 secondary,  <-->   vb (10.77.0.2/24, 2001:db8:77::2/64)
 *      2001:db8:77::1/64)
 *  vc (10.78.0.1/30, fd00:78::1/64)  <-->  vd (down, same namespace)
 *  dm dummy (or an empty bridge when the kernel has no dummy driver):
 *      192.0.2.10/28, 2001:db8:99::10/64, MTU 1400
 *  routes: default via 10.77.0.2; -6 default via 2001:db8:77::2 metric 100;
 *          table 100: 10.200.0.0/16 via 10.77.0.2 metric 5, default via 10.78.0.2,
 *                     2001:db8:200::/48 via fd00:78::2;
 *          main: 10.201.0.0/16 multipath via 10.77.0.2 weight 3 and via 10.78.0.2.
 * ```
 */
import { run, sh, uniq } from "../helpers/run.ts";

export interface Topology {
  nsA: string;
  nsB: string;
  va: string;
  vb: string;
  vc: string;
  vd: string;
  dm: string;
  /** "dummy" or "bridge" (fallback). */
  dmKind: string;
}

function trySh(script: string): boolean {
  try {
    sh(script);
    return true;
  } catch {
    return false;
  }
}

/** Builds the topology; on failure removes what was made and rethrows. */
export function buildTopology(): Topology {
  const u = uniq();
  const t: Topology = {
    nsA: `nmA${u}`,
    nsB: `nmB${u}`,
    va: `va${u}`,
    vb: `vb${u}`,
    vc: `vc${u}`,
    vd: `vd${u}`,
    dm: `dm${u}`,
    dmKind: "dummy",
  };
  try {
    const a = `ip -n ${t.nsA}`;
    const b = `ip -n ${t.nsB}`;
    sh(`ip netns add ${t.nsA} && ip netns add ${t.nsB}`);
    for (const ns of [t.nsA, t.nsB]) {
      // No duplicate address detection: addresses are final at once, nothing "tentative".
      sh(
        `ip netns exec ${ns} sh -c 'echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad; ` +
          `echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad'`,
      );
      sh(`ip -n ${ns} link set lo up`);
    }
    sh(`${a} link add ${t.va} type veth peer name ${t.vb} netns ${t.nsB}`);
    sh(`${a} link add ${t.vc} type veth peer name ${t.vd}`);
    if (!trySh(`${a} link add ${t.dm} type dummy`)) {
      t.dmKind = "bridge";
      sh(`${a} link add ${t.dm} type bridge`);
    }
    sh(`${a} link set ${t.dm} mtu 1400`);
    sh(`${a} addr add 10.77.0.1/24 dev ${t.va}`);
    sh(`${a} addr add 10.77.0.5/24 dev ${t.va}`);
    sh(`${a} addr add 2001:db8:77::1/64 dev ${t.va} nodad`);
    sh(`${b} addr add 10.77.0.2/24 dev ${t.vb}`);
    sh(`${b} addr add 2001:db8:77::2/64 dev ${t.vb} nodad`);
    sh(`${a} addr add 10.78.0.1/30 dev ${t.vc}`);
    sh(`${a} addr add fd00:78::1/64 dev ${t.vc} nodad`);
    sh(`${a} addr add 192.0.2.10/28 dev ${t.dm}`);
    sh(`${a} addr add 2001:db8:99::10/64 dev ${t.dm} nodad`);
    sh(`${a} link set ${t.va} up && ${b} link set ${t.vb} up && ${a} link set ${t.vc} up`);
    sh(`${a} link set ${t.dm} up`);
    sh(`${a} route add default via 10.77.0.2`);
    sh(`${a} -6 route add default via 2001:db8:77::2 metric 100`);
    sh(`${a} route add 10.200.0.0/16 via 10.77.0.2 metric 5 table 100`);
    sh(`${a} route add default via 10.78.0.2 dev ${t.vc} onlink table 100`);
    sh(`${a} -6 route add 2001:db8:200::/48 via fd00:78::2 dev ${t.vc} table 100`);
    sh(
      `${a} route add 10.201.0.0/16 nexthop via 10.77.0.2 weight 3 nexthop via 10.78.0.2 dev ${t.vc} onlink`,
    );
    return t;
  } catch (e) {
    removeTopology(t);
    throw e;
  }
}

/** Deletes both namespaces (their links go with them). Never throws. */
export function removeTopology(t: Topology): void {
  for (const ns of [t.nsA, t.nsB]) trySh(`ip netns del ${ns} 2>/dev/null`);
}

/** Runs `netmon ARGS` inside namespace `ns`. */
export async function netmonIn(ns: string, args: string[]) {
  const main = new URL("../../main.ts", import.meta.url).pathname;
  return await run(["ip", "netns", "exec", ns, Deno.execPath(), "run", "-A", main, ...args]);
}

/** `ip -j ARGS` inside namespace `ns`, parsed. */
export function ipJson<T = Record<string, unknown>[]>(ns: string, args: string): T {
  return JSON.parse(sh(`ip -n ${ns} -j ${args}`)) as T;
}
