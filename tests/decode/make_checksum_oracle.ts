/**
 * Writes fixtures/checksum/tshark_status.json: tshark's checksum status of every IPv4,
 * TCP, UDP, ICMP, ICMPv6 and IGMP header outside ICMP quotes, frame by frame, for the
 * captures of fixtures/pcaps and fixtures/l3 (checksum checks on, reassembly off). The
 * oracle of tests/decode/checksum_test.ts, recorded so that the test runs in-process.
 *
 *   deno run -A tests/decode/make_checksum_oracle.ts
 */
import { FIXTURES } from "../helpers/run.ts";
import { CHECKSUM_PREFS, tsharkFields } from "../helpers/tshark.ts";
import { captures } from "./l3/tshark_compare.ts";

export const PROTOCOLS = ["ip", "tcp", "udp", "icmp", "icmpv6", "igmp"] as const;
const STATUS = ["bad", "good", "unverified", "absent", "bad"];

const out: Record<string, Record<string, string[]>[]> = {};
for (const file of captures()) {
  const rows = tsharkFields(file, [
    ...PROTOCOLS.map((p) => `${p}.checksum.status`),
    "frame.protocols",
  ], [
    ...CHECKSUM_PREFS,
    "-o",
    "ip.defragment:FALSE",
    "-o",
    "ipv6.defragment:FALSE",
    "-o",
    "tcp.desegment_tcp_streams:FALSE",
  ]);
  out[file.slice(FIXTURES.length)] = rows.map((r) => {
    const layers = r[PROTOCOLS.length].split(":");
    const q = layers.findIndex((l) => l === "icmp" || l === "icmpv6");
    const outer = q < 0 ? layers : layers.slice(0, q + 1);
    const frame: Record<string, string[]> = {};
    PROTOCOLS.forEach((p, i) => {
      const n = outer.filter((l) => l === p).length;
      const v = r[i] === "" ? [] : r[i].split(",").slice(0, n).map((s) => STATUS[Number(s)]);
      if (v.length > 0) frame[p] = v;
    });
    return frame;
  });
}
await Deno.writeTextFile(
  `${FIXTURES}checksum/tshark_status.json`,
  JSON.stringify(out, null, 0).replace(/\],"/g, '],\n"') + "\n",
);
console.log(`${Object.keys(out).length} captures`);
