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
  const doc = JSON.parse(lines[0]);
  // Every document says whose and when.
  assert.equal(doc.pid, pid);
  assert.match(doc.command, /holder\.py/);
  assert.ok(Math.abs(Date.parse(doc.timestamp) - Date.now()) < 60_000, doc.timestamp);
  return doc;
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

      // Routes: every table of both families, as `ip route show table all` lists them, with
      // the MTU ip shows for a route that has one and the device's MTU otherwise.
      const routing = await procJson(h.pid, "routing");
      const mtuOf = (dev: string) =>
        (JSON.parse(h.inNs(`ip -j link show dev ${dev}`)) as { mtu: number }[])[0].mtu;
      const ipRoutes = (fam: string) =>
        (JSON.parse(h.inNs(`ip -j ${fam} route show table all`)) as Record<string, unknown>[])
          .map((x) => {
            let dst = String(x.dst);
            if (dst === "default") dst = fam === "-6" ? "::/0" : "0.0.0.0/0";
            else if (!dst.includes("/")) dst += fam === "-6" ? "/128" : "/32";
            const metrics = (x.metrics as { mtu?: number }[] | undefined)?.find((m) => m.mtu);
            const mtu = metrics?.mtu ?? (x.dev ? mtuOf(String(x.dev)) : "-");
            return `${dst} ${x.gateway ?? "-"} ${x.dev ?? "-"} ${x.metric ?? 0} ` +
              `${x.table ?? "main"} ${x.type ?? "unicast"} ${mtu}`;
          });
      const mine = (fam: string) =>
        routing.rows.filter((x) => x.Family === fam).map((x) =>
          `${x.Destination} ${x.Gateway ?? "-"} ${x.Interface ?? "-"} ${x.Metric} ${x.Table} ` +
          `${x.Type} ${x.MTU ?? "-"}`
        );
      assert.deepEqual(sorted(mine("IPv4")), sorted(ipRoutes("-4")));
      assert.deepEqual(sorted(mine("IPv6")), sorted(ipRoutes("-6")));
      assert.ok(mine("IPv4").includes("198.51.100.0/24 10.200.1.2 va 7 main unicast 1500"));
      assert.ok(mine("IPv4").includes("203.0.113.0/24 10.200.1.2 va 0 100 unicast 1300"));
      assert.ok(mine("IPv6").includes("2001:db8:1::/48 fd00:200::2 va 9 main unicast 1500"));
      assert.ok(mine("IPv6").includes("2001:db8:2::/48 fd00:200::2 va 1024 100 unicast 1280"));
      const routed = routing.rows.find((x) => x.Destination === "203.0.113.0/24");
      assert.equal(routed?.MTU_Source, "route");

      // Neighbours: the IPv4 arp table, and IPv6 neighbours as `ip -6 neigh show nud all`.
      const arp = await procJson(h.pid, "arp") as unknown as {
        rows: Row[];
        statistics: { Counter: string; IPv4: number; IPv6: number }[];
      };
      // IPv4: the entries `ip neigh` shows (address, MAC, device, permanent or not).
      const v4 = arp.rows.filter((x) => x.Family !== "IPv6");
      const neigh = (JSON.parse(h.inNs("ip -j -4 neigh show")) as Record<string, unknown>[])
        .filter((n) => n.lladdr !== undefined);
      assert.ok(neigh.length > 0, "ip neigh lists the namespace's neighbour");
      assert.deepEqual(
        sorted(v4.map((x) => `${x.IP_Address} ${x.HW_Address} ${x.Device}`)),
        sorted(neigh.map((n) => `${n.dst} ${n.lladdr} ${n.dev}`)),
      );
      for (const n of neigh) {
        const row = v4.find((x) => x.IP_Address === n.dst)!;
        const permanent = (n.state as string[]).includes("PERMANENT");
        assert.equal((row.Flag_Names as string[]).includes("permanent"), permanent, String(n.dst));
      }
      const ip6 = (JSON.parse(h.inNs("ip -j -6 neigh show nud all")) as Record<string, unknown>[])
        .map((x) => `${x.dst} ${x.lladdr ?? "-"} ${x.dev} ${(x.state as string[]).join(",")}`);
      const v6 = arp.rows.filter((x) => x.Family === "IPv6").map((x) =>
        `${x.IP_Address} ${x.HW_Address ?? "-"} ${x.Device} ${
          (x.State as unknown as string[]).join(",")
        }`
      );
      assert.deepEqual(sorted(v6), sorted(ip6));
      assert.ok(v6.includes("fd00:200::2 02:00:00:00:00:03 va PERMANENT"));
      // Neighbour-cache statistics as `ip -s ntable` (netlink NDTA_STATS) counts them.
      for (const [table, col] of [["arp_cache", "IPv4"], ["ndisc_cache", "IPv6"]] as const) {
        const text = h.inNs(`ip -s ntable show name ${table}`);
        for (const c of ["allocs", "destroys", "hash_grows", "lookups", "hits", "res_failed"]) {
          const want = Number(new RegExp(`\\b${c} (\\d+)`).exec(text)?.[1]);
          const got = arp.statistics.find((x) => x.Counter === c)?.[col];
          assert.equal(got, want, `${table} ${c}`);
        }
        const entries = Number(/\bentries (\d+)/.exec(text)?.[1]);
        assert.equal(arp.statistics.find((x) => x.Counter === "entries")?.[col], entries);
      }

      // tcp_info per connection, as `ss -ti` prints it (the holder's connections are idle).
      const ssInfo = new Map<number, Record<string, number>>();
      const lines = h.inNs("ss -tineH state established").split("\n");
      for (let i = 0; i + 1 < lines.length; i += 2) {
        const ino = Number(/\bino:(\d+)/.exec(lines[i])?.[1]);
        const info = lines[i + 1];
        const num = (re: RegExp) => Number(re.exec(info)?.[1] ?? 0);
        ssInfo.set(ino, {
          cwnd: num(/\bcwnd:(\d+)/),
          acked: num(/\bbytes_acked:(\d+)/),
          received: num(/\bbytes_received:(\d+)/),
          rtt: num(/\brtt:([\d.]+)\//),
        });
      }
      const est = tcp.rows.filter((x) => x.State === "ESTABLISHED");
      assert.ok(est.length >= 6 && ssInfo.size === est.length, `${ssInfo.size} vs ${est.length}`);
      for (const r of est) {
        const k = `${r.Local_Address}:${r.Local_Port} inode ${r.Inode}`;
        const ss = ssInfo.get(r.Inode);
        assert.ok(ss, `ss -ti has ${k}`);
        assert.equal(r.Cwnd, ss.cwnd, k);
        assert.equal(r.Bytes_Acked ?? 0, ss.acked, k);
        assert.equal(r.Bytes_Received ?? 0, ss.received, k);
        assert.equal(r.RTT_Ms, ss.rtt, k);
      }
    } finally {
      await h.close();
    }
  },
}));
