/**
 * A real capture shipped by `netmon capture -r` through a real `netmon serve` (SQLite,
 * and ClickHouse started by the test): /api/top and /api/series agree with the figures
 * tshark computes from the same file (`-z endpoints,ip`, `-z endpoints,ipv6`,
 * `-z io,stat`, and `ip.len` summed per address for flow bytes).
 */
import assert from "node:assert/strict";
import { generateBenchPcap } from "../../bench/gen_pcap.ts";
import { api, ship, tshark, withStores } from "./helpers.ts";
import { gated, needsTool } from "../helpers/skip.ts";
import type { SeriesAnswer, TopAnswer } from "../../src/query/api.ts";

const FRAMES = 3000;

/** tshark's endpoint table: address -> [packets, bytes]. */
function endpoints(pcap: string, kind: "ip" | "ipv6"): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  // Frames with one header of the family: tshark counts a tunnelled header's ends too,
  // the store's Address is the outer header's (the test excludes `IPv6_2` likewise).
  const only = '!(frame.protocols matches "(^|:)ip(v6)?(:ipv6\\\\.[a-z]+)*:ip(v6)?(:|$)")';
  for (const line of tshark(["-r", pcap, "-q", "-z", `endpoints,${kind},${only}`]).split("\n")) {
    const m = /^([0-9a-f.:]+)\s+(\d+)\s+(\d+)\s+\d+/.exec(line.trim());
    if (m && (m[1].includes(".") || m[1].includes(":"))) {
      out.set(m[1], [Number(m[2]), Number(m[3])]);
    }
  }
  return out;
}

/** tshark's io,stat rows: [frames, bytes] per interval. */
function ioStat(pcap: string, interval: number): [number, number][] {
  const out: [number, number][] = [];
  for (const line of tshark(["-r", pcap, "-q", "-z", `io,stat,${interval}`]).split("\n")) {
    const m = /^\|\s*[\d.]+\s*<>\s*[\d.Dur]+\s*\|\s*(\d+)\s*\|\s*(\d+)\s*\|$/.exec(line.trim());
    if (m) out.push([Number(m[1]), Number(m[2])]);
  }
  return out;
}

function topMap(a: TopAnswer): Map<string, number> {
  return new Map(a.rows.map((r) => [String(r.key), r.value]));
}

Deno.test(gated({
  name:
    "store: /api/top and /api/series agree with tshark's endpoints and io,stat (SQLite, ClickHouse)",
  needs: needsTool("tshark"),
  fn: async () => {
    const work = await Deno.makeTempDir({ prefix: "netmon-agree-" });
    try {
      const pcap = `${work}/mix.pcap`;
      generateBenchPcap(pcap, FRAMES, `${work}/slice.pcap`);
      const v4 = endpoints(pcap, "ip");
      const v6 = endpoints(pcap, "ipv6");
      const first = tshark(["-r", pcap, "-T", "fields", "-e", "frame.time_epoch", "-c", "1"])
        .trim();
      const io = ioStat(pcap, 0.01);
      // Flow bytes are IP bytes: tshark's ip.len per address, both ends.
      const ipBytes = new Map<string, number>();
      for (
        const l of tshark([
          "-r",
          pcap,
          "-T",
          "fields",
          "-e",
          "ip.src",
          "-e",
          "ip.dst",
          "-e",
          "ip.len",
          "-E",
          "occurrence=f",
          "-Y",
          "ip && !icmp.type && (tcp || udp)",
        ]).trim().split("\n")
      ) {
        const [s, d, n] = l.split("\t");
        for (const a of new Set([s, d])) ipBytes.set(a, (ipBytes.get(a) ?? 0) + Number(n));
      }
      await withStores(async (kind, srv, dir) => {
        await ship(pcap, srv.url, `${dir}/spool`);
        const range = { from: Number(first) - 1, to: Number(first) + 3600 };
        const msg = (what: string) => `${kind}: ${what}`;
        for (const [fam, want] of [["IPv4", v4], ["IPv6", v6]] as const) {
          for (const [metric, i] of [["packets", 0], ["bytes", 1]] as const) {
            const r = await api<TopAnswer>(srv.url, "api/top", {
              table: "packets",
              by: "Address",
              metric,
              limit: 1000,
              filter: JSON.stringify({ [fam]: {} }),
              // Second headers of the family have no column: this is a residual filter.
              exclude: JSON.stringify([{ [`${fam}_2`]: {} }, {
                [fam === "IPv4" ? "IPv6" : "IPv4"]: {},
              }]),
              ...range,
            });
            assert.equal(r.status, 200, msg(JSON.stringify(r.body)));
            const got = topMap(r.body);
            assert.equal(got.size, want.size, msg(`${fam} ${metric}: endpoint count`));
            for (const [addr, v] of want) {
              assert.equal(got.get(addr), v[i], msg(`${fam} ${metric} of ${addr}`));
            }
          }
        }
        // Flows: packets per address equal tshark's IPv4 endpoints for TCP and UDP flows.
        const flowPk = await api<TopAnswer>(srv.url, "api/top", {
          by: "Address",
          metric: "bytes",
          limit: 1000,
          filter: JSON.stringify({ Flow: { Protocol: ["TCP", "UDP"], IP_Version: 4 } }),
          ...range,
        });
        assert.equal(flowPk.status, 200, msg(JSON.stringify(flowPk.body)));
        const fb = topMap(flowPk.body);
        assert.equal(fb.size, ipBytes.size, msg("flow address count"));
        for (const [a, n] of ipBytes) assert.equal(fb.get(a), n, msg(`flow IP bytes of ${a}`));
        // io,stat: frames and bytes per 10 ms from the first frame.
        for (const [metric, i] of [["packets", 0], ["bytes", 1]] as const) {
          const s = await api<SeriesAnswer>(srv.url, "api/series", {
            table: "packets",
            metric,
            from: first,
            to: (Number(first) + io.length * 0.01).toFixed(2),
            step: "0.01",
          });
          assert.equal(s.status, 200, msg(JSON.stringify(s.body)));
          const pts = s.body.series[0].points.map((p) => p[1]);
          assert.deepEqual(pts, io.map((x) => x[i]), msg(`io,stat ${metric}`));
        }
        // The same total by any dimension: rows + other = total for one-column dimensions.
        const byProto = await api<TopAnswer>(srv.url, "api/top", {
          table: "packets",
          by: "Protocol",
          metric: "packets",
          ...range,
        });
        const sum = byProto.body.rows.reduce((a, r) => a + r.value, 0) + byProto.body.other;
        assert.equal(sum, FRAMES, msg("Protocol rows + other"));
        assert.equal(byProto.body.total, FRAMES, msg("total packets"));
      });
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
}));
