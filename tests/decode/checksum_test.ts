/**
 * Checksum verification (src/decode/checksum.ts) on every frame of fixtures/pcaps and
 * fixtures/l3: each IPv4, TCP, UDP, ICMP, ICMPv6 and IGMP checksum status netmon reports
 * is the one tshark reported (fixtures/checksum/tshark_status.json, recorded by
 * make_checksum_oracle.ts with checksum checks on: good, bad, unverified for cut or
 * fragmented data, absent for UDP's 0), and the helpers against RFC 1071's example.
 */
import assert from "node:assert/strict";
import { FIXTURES } from "../helpers/run.ts";
import { decodeFile } from "../helpers/decode_file.ts";
import {
  finish,
  onesSum,
  pseudo4,
  pseudo6,
  upperChecksum,
  verifyPlain,
  verifyUpper,
} from "../../src/decode/checksum.ts";
import type { PacketRecord } from "../../src/decode/record.ts";

const ORACLE: Record<string, Record<string, string[]>[]> = JSON.parse(
  Deno.readTextFileSync(`${FIXTURES}checksum/tshark_status.json`),
);

const LAYER: Record<string, string> = {
  ip: "IPv4",
  tcp: "TCP",
  udp: "UDP",
  icmp: "ICMP",
  icmpv6: "ICMPv6",
  igmp: "IGMP",
};

function statuses(r: PacketRecord, layer: string): string[] {
  return Object.keys(r).filter((k) => k === layer || new RegExp(`^${layer}_\\d+$`).test(k))
    .map((k) => (r[k] as Record<string, unknown>).Checksum_Status)
    .filter((s): s is string => typeof s === "string");
}

Deno.test("every checksum status of every fixture frame is tshark's", async () => {
  const wrong: string[] = [];
  let checked = 0;
  const seen = new Set<string>();
  for (const [file, frames] of Object.entries(ORACLE)) {
    const recs = await decodeFile(FIXTURES + file, { reassemble: false });
    assert.equal(recs.length, frames.length, file);
    frames.forEach((want, i) => {
      for (const [p, layer] of Object.entries(LAYER)) {
        const ours = statuses(recs[i], layer);
        const theirs = want[p] ?? [];
        checked += theirs.length;
        theirs.forEach((s) => seen.add(`${p} ${s}`));
        if (ours.join(",") !== theirs.join(",")) {
          wrong.push(`${file} frame ${i + 1} ${p}: netmon [${ours}] tshark [${theirs}]`);
        }
      }
    });
  }
  // The fixtures hold every kind of verdict the code can give.
  for (const k of ["ip good", "ip bad", "tcp good", "tcp bad", "tcp unverified", "udp absent"]) {
    assert.ok(seen.has(k), `the fixtures have a ${k} checksum`);
  }
  assert.ok(checked > 600, `${checked} statuses`);
  assert.deepEqual(wrong, []);
});

Deno.test("onesSum() and finish(): RFC 1071's example and the odd byte", () => {
  // RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 (one's complement 220d).
  const b = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
  assert.equal(finish(onesSum(b, 0, 8)), 0x220d);
  assert.equal(finish(onesSum(b, 0, 4) + onesSum(b, 4, 8)), 0x220d, "sums add up");
  // An odd tail byte is the high byte of a last word padded with zero.
  assert.equal(onesSum(Uint8Array.from([0x12, 0x34, 0x56]), 0, 3), 0x1234 + 0x5600);
  assert.equal(onesSum(b, 2, 2, 7), 7, "empty range keeps the sum");
  assert.equal(finish(0), 0xffff);
  assert.equal(finish(0x1ffff), 0xfffe, "carries fold (0x1ffff -> 0x0001 + 0xffff)");
  assert.equal(finish(0x2fffd), 0, "0xfffd + 2 folds to 0xffff");
  assert.equal(finish(0x30000), 0xfffc);
  assert.equal(verifyPlain(Uint8Array.from([0xff, 0xff]), 0, 2, 2), "good");
  assert.equal(verifyPlain(Uint8Array.from([0x12, 0x34]), 0, 2, 2), "bad");
  assert.equal(verifyPlain(Uint8Array.from([0xff, 0xff]), 0, 2, 1), "unverified", "cut short");
});

Deno.test("pseudo4() and pseudo6(): addresses, protocol and length as RFC 793 / 8200 add them", () => {
  const b = new Uint8Array(40);
  b.set([192, 0, 2, 1, 198, 51, 100, 2], 0);
  assert.equal(pseudo4(b, 0, 4, 6, 20), 0xc000 + 0x0201 + 0xc633 + 0x6402 + 6 + 20);
  for (let i = 0; i < 32; i++) b[i] = i;
  let words = 0;
  for (let i = 0; i < 32; i += 2) words += (i << 8) | (i + 1);
  assert.equal(pseudo6(b, 0, 16, 17, 0x12345), words + 0x1 + 0x2345 + 17, "32-bit length");
});

Deno.test("no IP header: an upper-layer checksum cannot be verified", () => {
  const b = new Uint8Array(8);
  assert.equal(verifyUpper(b, 0, 8, 8, false, 0, 0, 0, 17), "unverified");
  const f = {
    rec: {},
    bytes: b,
    capEnd: 8,
    csumNotReady: false,
    sum: { ipVersion: 0, srcAddrOff: 0, dstAddrOff: 0 },
  };
  assert.equal(upperChecksum(f, 0, 8, 17), "unverified");
});
