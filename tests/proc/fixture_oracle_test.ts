/**
 * The /proc/net fixtures against what `ss` and `ip` printed for the same namespace at
 * the same moment (fixtures/proc/ss-tanpe.txt, ss-uanpe.txt, ip-route.txt,
 * ip-6-route.txt; see fixtures/proc/README.md): every socket and route netmon's parsers
 * read from the copied files is one the tools listed, and none is missing.
 */
import assert from "node:assert/strict";
import { FIXTURES } from "../helpers/run.ts";
import { parseSocketTable, type SocketFile } from "../../src/proc/sockets.ts";
import { parseIPv6Route, parseRoute } from "../../src/proc/route.ts";

const fx = (name: string) => Deno.readTextFileSync(`${FIXTURES}proc/${name}`);

const SS_STATES: Record<string, string> = {
  ESTAB: "ESTABLISHED",
  LISTEN: "LISTEN",
  UNCONN: "UNCONN",
  "TIME-WAIT": "TIME_WAIT",
};

/** `[::ffff:1.2.3.4]:80`, `*:80`, `0.0.0.0:*` -> [address, port] as netmon prints them. */
function endpoint(s: string, v6: boolean): [string, number] {
  const i = s.lastIndexOf(":");
  let addr = s.slice(0, i).replace(/^\[|\]$/g, "");
  if (addr === "*") addr = v6 ? "::" : "0.0.0.0";
  return [addr, s.slice(i + 1) === "*" ? 0 : Number(s.slice(i + 1))];
}

/** One line of `ss -anpe` as "state local:port peer:port rx inode". */
function ssRows(text: string): string[] {
  return text.split("\n").slice(1).filter((l) => l.trim() !== "").map((line) => {
    const [state, rx, , local, peer] = line.trim().split(/\s+/);
    // ss prints [..] around IPv6 and * for the wildcard of either family; a wildcard
    // listener's family shows in its v6only flag.
    const v6 = local.startsWith("[") || /v6only:/.test(line);
    const [la, lp] = endpoint(local, v6);
    const [ra, rp] = endpoint(peer, v6);
    const ino = /\bino:(\d+)/.exec(line)![1];
    return `${SS_STATES[state] ?? state} ${la}:${lp} ${ra}:${rp} rx=${rx} ino=${ino}`;
  });
}

function netmonRows(files: SocketFile[]): string[] {
  return files.flatMap((f) =>
    parseSocketTable(fx(f), f, true).map((r) =>
      `${r.State} ${r.Local_Address}:${r.Local_Port} ${r.Remote_Address}:${r.Remote_Port} rx=${
        r.Rx_Queue ?? 0
      } ino=${r.Inode}`
    )
  );
}

const sorted = (a: string[]) => [...a].sort();

Deno.test("fixtures/proc tcp and tcp6 hold exactly the sockets `ss -tanpe` listed", () => {
  assert.deepEqual(sorted(netmonRows(["tcp", "tcp6"])), sorted(ssRows(fx("ss-tanpe.txt"))));
});

Deno.test("fixtures/proc udp and udp6 hold exactly the sockets `ss -uanpe` listed (queue too)", () => {
  const ours = netmonRows(["udp", "udp6"]);
  assert.ok(ours.some((r) => r.includes("rx=832")), "the datagram queued in the fixture");
  assert.deepEqual(sorted(ours), sorted(ssRows(fx("ss-uanpe.txt"))));
});

/** `ip route` lines as "destination gateway dev metric". */
function ipRoutes(text: string, v6: boolean): string[] {
  return text.split("\n").filter((l) => l.trim() !== "").map((line) => {
    const t = line.trim().split(/\s+/);
    let type = "unicast";
    if (["local", "multicast", "broadcast", "unreachable"].includes(t[0])) type = t.shift()!;
    let dst = t[0];
    if (dst === "default") dst = v6 ? "::/0" : "0.0.0.0/0";
    else if (!dst.includes("/")) dst += v6 ? "/128" : "/32";
    const at = (k: string) => {
      const i = t.indexOf(k);
      return i < 0 ? undefined : t[i + 1];
    };
    return `${type} ${dst} ${at("via") ?? "-"} ${at("dev")} ${at("metric") ?? 0}`;
  });
}

Deno.test("fixtures/proc route and ipv6_route hold the routes `ip route` and `ip -6 route show table all` listed", () => {
  const v4 = parseRoute(fx("route"), true).map((r) =>
    `unicast ${r.Destination} ${r.Gateway ?? "-"} ${r.Interface} ${r.Metric}`
  );
  assert.deepEqual(sorted(v4), sorted(ipRoutes(fx("ip-route.txt"), false)));
  // ipv6_route has every table; ip never prints the kernel's per-table null entries
  // (reject, lo, metric 0xffffffff). Local and multicast routes are host and ff00::/8
  // entries of the local table; their type is not in ipv6_route, so it is not compared.
  const v6 = parseIPv6Route(fx("ipv6_route"))
    .filter((r) => !(r.Flag_Text.includes("!") && r.Interface === "lo"))
    .map((r) => `${r.Destination} ${r.Gateway ?? "-"} ${r.Interface} ${r.Metric}`);
  const ip6 = ipRoutes(fx("ip-6-route.txt"), true).map((l) => l.slice(l.indexOf(" ") + 1));
  assert.deepEqual(sorted(v6), sorted(ip6));
});
