/**
 * Live test: a process in a fresh network namespace holds known sockets; `netmon proc PID
 * --once --json` must list exactly what ss attributes to that pid (marked Own), the whole
 * namespace's sockets, and the routes and neighbours `ip` shows.
 */
import assert from "node:assert/strict";
import { runNetmon, skipUnless } from "../helpers/run.ts";
import { startHolder } from "./netns.ts";
import { gated } from "../helpers/skip.ts";

const skip = skipUnless({ root: true, tools: ["ip", "ss", "python3"] });

interface Row {
  Local_Address: string;
  Local_Port: number;
  Remote_Address: string;
  Remote_Port: number;
  State: string;
  Inode: number;
  Own: boolean;
  [k: string]: unknown;
}

async function procJson(pid: number, tab: string): Promise<{ tab: string; rows: Row[] }> {
  const r = await runNetmon(["proc", String(pid), "--once", "--json", "--tab", tab]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines.length, 1, "one JSON document for --once");
  assert.ok(!r.stdout.includes("\x1b"), "no escape codes when stdout is not a terminal");
  return JSON.parse(lines[0]);
}

const SS_STATES: Record<string, string> = {
  "ESTAB": "ESTABLISHED",
  "LISTEN": "LISTEN",
  "UNCONN": "UNCONN",
  "TIME-WAIT": "TIME_WAIT",
  "SYN-SENT": "SYN_SENT",
  "SYN-RECV": "SYN_RECV",
  "FIN-WAIT-1": "FIN_WAIT1",
  "FIN-WAIT-2": "FIN_WAIT2",
  "CLOSE-WAIT": "CLOSE_WAIT",
  "LAST-ACK": "LAST_ACK",
  "CLOSING": "CLOSING",
};

/** ss endpoint text -> address and port as netmon prints them. */
function ssEndpoint(s: string, v6: boolean): [string, number] {
  const i = s.lastIndexOf(":");
  let addr = s.slice(0, i).replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const port = s.slice(i + 1) === "*" ? 0 : Number(s.slice(i + 1));
  if (addr === "*") addr = v6 ? "::" : "0.0.0.0";
  return [addr, port];
}

interface SsRow {
  key: string;
  inode: number;
  pid: number | null;
}

/** `ss -H -anpe` for one protocol flag (-t, -u, -w), as comparable keys. */
function ssRows(inNs: (c: string) => string, flag: string): SsRow[] {
  const rows: SsRow[] = [];
  for (const family of ["-4", "-6"]) {
    const out = inNs(`ss -H -anpe ${flag} ${family} 2>/dev/null`);
    for (const line of out.split("\n")) {
      const t = line.trim().split(/\s+/);
      if (t.length < 5) continue;
      const [state, , , local, peer] = t;
      const v6 = family === "-6";
      const [la, lp] = ssEndpoint(local, v6);
      const [ra, rp] = ssEndpoint(peer, v6);
      const ino = /\bino:(\d+)/.exec(line);
      const pid = /pid=(\d+),/.exec(line);
      rows.push({
        key: `${la} ${lp} ${ra} ${rp} ${SS_STATES[state] ?? state}`,
        inode: ino ? Number(ino[1]) : 0,
        pid: pid ? Number(pid[1]) : null,
      });
    }
  }
  return rows;
}

const key = (r: Row) =>
  `${r.Local_Address} ${r.Local_Port} ${r.Remote_Address} ${r.Remote_Port} ${r.State}`;
const sorted = (a: string[]) => [...a].sort();

function compareSockets(rows: Row[], ss: SsRow[], pid: number, label: string): void {
  // Every socket of the namespace, addresses, ports and states decoded as ss shows them.
  assert.deepEqual(
    sorted(rows.map(key)),
    sorted(ss.map((s) => s.key)),
    `${label}: namespace sockets`,
  );
  // Own = exactly the sockets ss attributes to the pid (by inode and by endpoint).
  const own = rows.filter((r) => r.Own);
  const ssOwn = ss.filter((s) => s.pid === pid);
  assert.ok(ssOwn.length > 0, `${label}: ss sees the holder's sockets`);
  // ss prints ino: for tcp and udp only (not for raw sockets).
  if (ssOwn.every((s) => s.inode !== 0)) {
    assert.deepEqual(
      sorted(own.map((r) => String(r.Inode))),
      sorted(ssOwn.map((s) => String(s.inode))),
    );
  }
  assert.deepEqual(sorted(own.map(key)), sorted(ssOwn.map((s) => s.key)));
}

Deno.test(gated({
  name:
    "netmon proc --once --json lists the sockets ss attributes to the pid, routes and neighbours ip shows",
  needs: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const h = await startHolder();
    try {
      const tcp = await procJson(h.pid, "tcp");
      assert.equal(tcp.tab, "tcp");
      for (const r of tcp.rows) {
        for (
          const k of [
            "Local_Address",
            "Local_Port",
            "Remote_Address",
            "Remote_Port",
            "State",
            "Inode",
            "Own",
          ]
        ) {
          assert.ok(k in r, `row has ${k}`);
        }
      }
      compareSockets(tcp.rows, ssRows(h.inNs, "-t"), h.pid, "tcp");
      const addrs = tcp.rows.map((r) => r.Local_Address);
      assert.ok(addrs.includes("::ffff:127.0.0.1"), "IPv4-mapped IPv6 socket present");
      assert.ok(addrs.includes("::1") && addrs.includes("127.0.0.1"));
      assert.ok(
        tcp.rows.some((r) => r.State === "LISTEN" && r.Own && r.Local_Port === h.ports.tcp6),
      );
      const tw = tcp.rows.filter((r) => r.State === "TIME_WAIT");
      assert.ok(
        tw.length >= 1 && tw.every((r) => !r.Own && r.Inode === 0),
        "TIME_WAIT rows, not owned",
      );

      const udp = await procJson(h.pid, "udp");
      compareSockets(udp.rows, ssRows(h.inNs, "-u"), h.pid, "udp");
      assert.ok(
        udp.rows.some((r) => r.Local_Address === "::ffff:127.0.0.1" && r.State === "ESTABLISHED"),
      );
      assert.ok(udp.rows.some((r) => r.Local_Port === h.ports.udp6 && r.Local_Address === "::1"));
      assert.ok(udp.rows.every((r) => typeof r.Drops === "number"));

      const raw = await procJson(h.pid, "raw");
      compareSockets(raw.rows, ssRows(h.inNs, "-w"), h.pid, "raw");

      const icmp = await procJson(h.pid, "icmp");
      assert.deepEqual(sorted(icmp.rows.filter((r) => r.Own).map((r) => r.Local_Address)), [
        "127.0.0.1",
        "::1",
      ]);

      // --own-only keeps exactly the Own rows.
      const r = await runNetmon(["proc", String(h.pid), "--once", "--json", "--own-only"]);
      const ownOnly = JSON.parse(r.stdout).rows as Row[];
      assert.deepEqual(sorted(ownOnly.map(key)), sorted(tcp.rows.filter((x) => x.Own).map(key)));

      // Routes: IPv4 main table = `ip route`; IPv6 = every table (`ip -6 route show table all`)
      // plus the kernel's per-table null entries (reject, lo, metric 0xffffffff) ip never prints.
      const routing = await procJson(h.pid, "routing");
      const ipRoutes = (args: string, v6: boolean) =>
        (JSON.parse(h.inNs(`ip -j ${args}`)) as Record<string, unknown>[]).map((x) => {
          let dst = String(x.dst);
          if (dst === "default") dst = v6 ? "::/0" : "0.0.0.0/0";
          else if (!dst.includes("/")) dst += v6 ? "/128" : "/32";
          return `${dst} ${x.gateway ?? "-"} ${x.dev} ${x.metric ?? 0}`;
        });
      const mine = (fam: string) =>
        routing.rows.filter((x) =>
          x.Family === fam && !(String(x.Flag_Text).includes("!") && x.Interface === "lo")
        )
          .map((x) => `${x.Destination} ${x.Gateway ?? "-"} ${x.Interface} ${x.Metric}`);
      assert.deepEqual(sorted(mine("IPv4")), sorted(ipRoutes("route", false)));
      assert.deepEqual(sorted(mine("IPv6")), sorted(ipRoutes("-6 route show table all", true)));
      assert.ok(mine("IPv4").includes("198.51.100.0/24 10.200.1.2 va 7"));
      assert.ok(mine("IPv6").includes("2001:db8:1::/48 fd00:200::2 va 9"));

      // Neighbours: the IPv4 entries `ip neigh` shows (address, MAC, device, permanent).
      const arp = await procJson(h.pid, "arp");
      const neigh = (JSON.parse(h.inNs("ip -j -4 neigh show")) as Record<string, unknown>[])
        .filter((n) => n.lladdr !== undefined);
      assert.ok(neigh.length > 0, "ip neigh lists the namespace's neighbour");
      assert.deepEqual(
        sorted(arp.rows.map((x) => `${x.IP_Address} ${x.HW_Address} ${x.Device}`)),
        sorted(neigh.map((n) => `${n.dst} ${n.lladdr} ${n.dev}`)),
      );
      for (const n of neigh) {
        const row = arp.rows.find((x) => x.IP_Address === n.dst)!;
        const permanent = (n.state as string[]).includes("PERMANENT");
        assert.equal((row.Flag_Names as string[]).includes("permanent"), permanent, String(n.dst));
      }
    } finally {
      await h.close();
    }
  },
}));
