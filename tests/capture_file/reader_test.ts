/**
 * The pcap/pcapng reader against tshark (and tcpdump for cut files): every fixture,
 * both byte orders and resolutions of classic pcap, pcapng with several interfaces,
 * options, SPB and unknown blocks, Linux cooked captures, errors, chunk boundaries.
 */
import assert from "node:assert/strict";
import { openCaptureFile } from "../../src/capture/file.ts";
import type { FrameMeta } from "../../src/decode/meta.ts";
import { RuntimeFailure, UsageError } from "../../src/errors.ts";
import { decodeFile } from "../helpers/decode_file.ts";
import { tsharkFields } from "../helpers/tshark.ts";
import { PCAPS } from "../helpers/run.ts";
import { buildPcap, buildPcapng, type Pkt, readFixture, toSll } from "./build.ts";
import { gated, NEEDS_TSHARK, needsTool } from "../helpers/skip.ts";

const FIXTURES = [...Deno.readDirSync(PCAPS)]
  .map((e) => e.name)
  .filter((n) => /\.pcap(ng)?$/.test(n))
  .sort();

interface Got {
  meta: FrameMeta;
  data: Uint8Array;
}

/** Reads a file with openCaptureFile, copying every frame and its meta. */
async function readAll(
  path: string,
  opts: { stopAfter?: number; onReady?: () => void } = {},
): Promise<{ frames: Got[]; error: unknown }> {
  const src = await openCaptureFile(path);
  const frames: Got[] = [];
  const ac = new AbortController();
  let error: unknown = null;
  try {
    await src.run((_v, bytes, off, meta) => {
      frames.push({ meta: { ...meta }, data: bytes.slice(off, off + meta.capLen) });
      if (opts.stopAfter !== undefined && frames.length >= opts.stopAfter) ac.abort();
    }, {
      signal: ac.signal,
      ready: () => {
        opts.onReady?.();
        return Promise.resolve();
      },
    });
  } catch (e) {
    error = e;
  } finally {
    src.close();
  }
  return { frames, error };
}

function tmp(bytes: Uint8Array, suffix = ".pcap"): string {
  const p = Deno.makeTempFileSync({ prefix: "netmon_rd_", suffix });
  Deno.writeFileSync(p, bytes);
  return p;
}

const TS_FIELDS = ["frame.time_epoch", "frame.len", "frame.cap_len"];

/** netmon's view of the same fields as TS_FIELDS. */
function rowOf(m: FrameMeta): string[] {
  const n = String(m.nsec);
  return [`${m.sec}.${"000000000".slice(n.length)}${n}`, String(m.wireLen), String(m.capLen)];
}

Deno.test(gated({
  name: "openCaptureFile() reads every fixture like tshark: count, timestamps, lengths",
  needs: NEEDS_TSHARK,
  async fn() {
    for (const name of FIXTURES) {
      const { frames, error } = await readAll(PCAPS + name);
      assert.equal(error, null, `${name}: ${error}`);
      const want = tsharkFields(PCAPS + name, TS_FIELDS);
      assert.deepEqual(frames.map((g) => rowOf(g.meta)), want, name);
    }
  },
}));

Deno.test(gated({
  name: "classic pcap: micro/nanosecond magic in both byte orders reads like tshark",
  needs: NEEDS_TSHARK,
  async fn() {
    const { pkts } = readFixture("IGMP_V1.pcap");
    // Nanosecond digits that a microsecond file cannot hold, to see the resolution used.
    const varied = pkts.map((p, i) => ({ ...p, nsec: p.nsec + (i * 7919) % 1000 }));
    for (const le of [true, false]) {
      for (const nsec of [false, true]) {
        const path = tmp(buildPcap(varied, { linkType: 1, le, nsec }));
        try {
          const { frames, error } = await readAll(path);
          assert.equal(error, null);
          const want = tsharkFields(path, TS_FIELDS);
          assert.equal(want.length, pkts.length);
          assert.deepEqual(frames.map((g) => rowOf(g.meta)), want, `le=${le} nsec=${nsec}`);
          frames.forEach((g, i) => assert.deepEqual(g.data, pkts[i].data));
          assert.ok(frames.every((g) => g.meta.ifIndex === -1 && g.meta.ifName === ""));
        } finally {
          Deno.removeSync(path);
        }
      }
    }
  },
}));

Deno.test(gated({
  name: "pcapng: both byte orders, two named interfaces, tsresol, flags, unknown blocks",
  needs: NEEDS_TSHARK,
  async fn() {
    const { pkts } = readFixture("802.1w_rapid_STP.pcap");
    // direction/reception flags: none, inbound unicast, outbound, inbound broadcast,
    // inbound multicast, inbound promiscuous, inbound (type unspecified)
    const flagSet = [undefined, 0x5, 0x2, 0xd, 0x9, 0x11, 0x1];
    const wantType = [-1, 0, 4, 1, 2, 3, 0];
    const input: Pkt[] = pkts.map((p, i) => ({
      ...p,
      nsec: p.nsec + (i * 104729) % 1000,
      iface: i % 2,
      flags: flagSet[i % flagSet.length],
    }));
    const variants = [
      { tsresol: 9, name: "nanoseconds" },
      { tsresol: 0x80 | 20, name: "2^-20 s" },
      { tsresol: 3, name: "milliseconds" },
    ];
    for (const le of [true, false]) {
      for (const v of variants) {
        const bytes = buildPcapng(input, {
          le,
          junk: true,
          ifaces: [{ linkType: 1, name: "eth0" }, {
            linkType: 1,
            name: "wan1",
            tsresol: v.tsresol,
          }],
        });
        const path = tmp(bytes, ".pcapng");
        try {
          const { frames, error } = await readAll(path);
          assert.equal(error, null);
          const want = tsharkFields(path, [
            ...TS_FIELDS,
            "frame.interface_id",
            "frame.interface_name",
          ]);
          assert.equal(want.length, pkts.length);
          const got = frames.map((g) => [...rowOf(g.meta), String(g.meta.ifIndex), g.meta.ifName]);
          assert.deepEqual(got, want, `le=${le} ${v.name}`);
          assert.deepEqual(frames.map((g) => g.meta.pktType), input.map((_, i) => wantType[i % 7]));
          frames.forEach((g, i) => assert.deepEqual(g.data, pkts[i].data));
        } finally {
          Deno.removeSync(path);
        }
      }
    }
  },
}));

Deno.test(gated({
  name: "pcapng: a second section in the other byte order brings its own interfaces",
  needs: NEEDS_TSHARK,
  async fn() {
    const { pkts } = readFixture("dns_tcp.pcap");
    const a = buildPcapng(pkts.slice(0, 4), { le: true, ifaces: [{ linkType: 1, name: "lo" }] });
    const b = buildPcapng(pkts.slice(4).map((p) => ({ ...p, iface: 1 })), {
      le: false,
      ifaces: [{ linkType: 1, name: "x" }, { linkType: 1, name: "second", tsresol: 9 }],
    });
    const both = new Uint8Array(a.length + b.length);
    both.set(a);
    both.set(b, a.length);
    const path = tmp(both, ".pcapng");
    try {
      const { frames, error } = await readAll(path);
      assert.equal(error, null);
      // tshark 4.0 decodes the ticks with the right interface (ns here) but names
      // interfaces of later sections by their local id, so names are checked directly.
      const want = tsharkFields(path, TS_FIELDS);
      assert.equal(want.length, pkts.length);
      assert.deepEqual(frames.map((g) => rowOf(g.meta)), want);
      assert.deepEqual(frames.map((g) => g.meta.ifName), [
        ...pkts.slice(0, 4).map(() => "lo"),
        ...pkts.slice(4).map(() => "second"),
      ]);
    } finally {
      Deno.removeSync(path);
    }
  },
}));

Deno.test(gated({
  name: "pcapng: Simple Packet Blocks carry length and data, no timestamp",
  needs: NEEDS_TSHARK,
  async fn() {
    const { pkts } = readFixture("dns_tcp.pcap");
    const path = tmp(
      buildPcapng(pkts, { le: false, spb: true, ifaces: [{ linkType: 1 }] }),
      ".pcapng",
    );
    try {
      const { frames, error } = await readAll(path);
      assert.equal(error, null);
      const want = tsharkFields(path, ["frame.len", "frame.cap_len"]);
      assert.equal(want.length, pkts.length);
      assert.deepEqual(frames.map((g) => [String(g.meta.wireLen), String(g.meta.capLen)]), want);
      frames.forEach((g, i) => assert.deepEqual(g.data, pkts[i].data));
      assert.ok(frames.every((g) => g.meta.sec === 0 && g.meta.nsec === 0 && g.meta.ifIndex === 0));
    } finally {
      Deno.removeSync(path);
    }
  },
}));

Deno.test(gated({
  name:
    "Linux SLL and SLL2 frames give an SLL layer like tshark's, then the same layers as Ethernet",
  needs: NEEDS_TSHARK,
  async fn() {
    const { pkts } = readFixture("LLDP_and_CDP.pcap");
    const dns = readFixture("dns_udp.pcap").pkts;
    const eth = [...pkts, ...dns].filter((p) => ((p.data[12] << 8) | p.data[13]) >= 0x600);
    assert.ok(eth.length >= 3);
    const ethPath = tmp(buildPcap(eth, { linkType: 1, le: true, nsec: false }));
    const ethRecs = await decodeFile(ethPath);
    Deno.removeSync(ethPath);
    for (const version of [1, 2] as const) {
      const hdr = version === 1 ? 16 : 20;
      const cooked = eth.map((p, i) => ({
        ...p,
        data: toSll(p.data, version, i % 5, 7 + i),
        wireLen: p.wireLen - 14 + hdr,
      }));
      const path = tmp(
        buildPcap(cooked, { linkType: version === 1 ? 113 : 276, le: true, nsec: false }),
      );
      try {
        const recs = await decodeFile(path);
        const fields = ["sll.pkttype", "sll.hatype", "sll.halen", "sll.src.eth", "sll.etype"];
        if (version === 2) fields.push("sll.ifindex");
        const want = tsharkFields(path, fields);
        assert.equal(recs.length, want.length);
        recs.forEach((r, i) => {
          const s = r.SLL as Record<string, unknown>;
          assert.ok(s, `frame ${i + 1} has no SLL layer`);
          const names = ["host", "broadcast", "multicast", "otherhost", "outgoing"];
          const row = [
            String(names.indexOf(s.Packet_Type as string)),
            String(s.ARPHRD_Type),
            String(s.Address_Length),
            s.Address,
            "0x" + (s.Protocol as number).toString(16).padStart(4, "0"),
          ];
          if (version === 2) row.push(String(s.Interface_Index));
          assert.deepEqual(row, want[i], `SLL${version} frame ${i + 1}`);
          const af = r.AF_Packet as Record<string, unknown>;
          assert.equal(af.Packet_Type, s.Packet_Type);
          // Everything after the link layer decodes exactly as from the Ethernet frame.
          const after = (rec: Record<string, unknown>, link: string) =>
            JSON.stringify(Object.entries(rec).filter(([k]) => k !== "AF_Packet" && k !== link));
          const shift = (rec: Record<string, unknown>, by: number) => {
            const c = structuredClone(rec);
            for (const e of (c.Decode_Errors as { Offset: number }[] | undefined) ?? []) {
              e.Offset -= by;
            }
            return c;
          };
          assert.equal(
            after(shift(r, hdr - 14), "SLL"),
            after(ethRecs[i], "Ethernet"),
            `frame ${i + 1}`,
          );
        });
      } finally {
        Deno.removeSync(path);
      }
    }
  },
}));

Deno.test("any other link type is a one-line UsageError naming it", async () => {
  const { pkts } = readFixture("dns_udp.pcap");
  const cases: [Uint8Array, string, RegExp][] = [
    [buildPcap(pkts, { linkType: 101, le: true, nsec: false }), ".pcap", /link type 101 \(RAW/],
    [
      buildPcapng(pkts, { le: false, ifaces: [{ linkType: 1 }, { linkType: 127 }] }),
      ".pcapng",
      /link type 127 .*radiotap/,
    ],
  ];
  for (const [bytes, suffix, re] of cases) {
    const path = tmp(bytes, suffix);
    try {
      await assert.rejects(openCaptureFile(path), (e: unknown) => {
        assert.ok(e instanceof UsageError && !(e instanceof RuntimeFailure));
        assert.match(e.message, re);
        assert.ok(!e.message.includes("\n"));
        return true;
      });
    } finally {
      Deno.removeSync(path);
    }
  }
});

Deno.test("missing, empty and non-capture files are one-line UsageErrors", async () => {
  const empty = tmp(new Uint8Array(0));
  const text = tmp(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: example\r\n\r\n"));
  try {
    for (
      const [path, re] of [
        ["/nonexistent/x.pcap", /no such file/],
        [empty, /not a pcap or pcapng/],
        [text, /not a pcap or pcapng/],
      ] as const
    ) {
      await assert.rejects(openCaptureFile(path), (e: unknown) => {
        assert.ok(e instanceof UsageError);
        assert.equal(e.exitCode, 2);
        assert.match(e.message, re);
        assert.ok(e.message.includes(path) && !e.message.includes("\n"));
        return true;
      });
    }
  } finally {
    Deno.removeSync(empty);
    Deno.removeSync(text);
  }
});

Deno.test(gated({
  name: "a file cut off mid-record delivers every record before the cut, then a RuntimeFailure",
  needs: needsTool("tcpdump"),
  async fn() {
    const { pkts } = readFixture("mptcp-fclose.pcap");
    const n = pkts.length;
    for (const ng of [false, true]) {
      const whole = ng
        ? buildPcapng(pkts, { le: true, ifaces: [{ linkType: 1 }] })
        : buildPcap(pkts, { linkType: 1, le: true, nsec: false });
      const lastLen = ng ? 32 + ((pkts[n - 1].data.length + 3) & ~3) : 16 + pkts[n - 1].data.length;
      // cut inside the last record's header, just after it, and one byte before its end
      for (const cut of [5, ng ? 20 : 16, lastLen - 1]) {
        const path = tmp(whole.subarray(0, whole.length - lastLen + cut), ng ? ".pcapng" : ".pcap");
        try {
          const { frames, error } = await readAll(path);
          assert.equal(frames.length, n - 1, `ng=${ng} cut=${cut}`);
          assert.ok(error instanceof RuntimeFailure, `ng=${ng} cut=${cut}: ${error}`);
          assert.equal(error.exitCode, 1);
          assert.match(error.message, /cut off in the middle of record/);
          assert.ok(!error.message.includes("\n"));
          // tcpdump agrees on how many records come before the cut
          const out = new Deno.Command("tcpdump", {
            args: ["-nn", "-r", path],
            stdout: "piped",
            stderr: "null",
          })
            .outputSync();
          const lines = new TextDecoder().decode(out.stdout).split("\n").filter((l) =>
            /^\d\d:/.test(l)
          );
          assert.equal(lines.length, frames.length);
        } finally {
          Deno.removeSync(path);
        }
      }
    }
  },
}));

Deno.test(gated({
  name: "records straddling the 4 MiB read chunks arrive intact; a 5 MiB record too",
  needs: NEEDS_TSHARK,
  async fn() {
    const small = readFixture("ipv4_tcp_http_xml.pcap").pkts[0];
    const jumbo = readFixture("ipv6_jumbogram_1.pcap").pkts[0];
    const pkts: Pkt[] = [];
    for (let i = 0; i < 12000; i++) {
      const base = i % 97 === 0 ? jumbo : small;
      const data = base.data.slice();
      data[data.length - 1] = i & 0xff; // make frames distinguishable
      pkts.push({ ...base, data, sec: base.sec + i, nsec: (i * 1000) % 1e9 });
    }
    const path = tmp(buildPcap(pkts, { linkType: 1, le: false, nsec: true }));
    try {
      let readies = 0;
      const { frames, error } = await readAll(path, { onReady: () => readies++ });
      assert.equal(error, null);
      assert.equal(frames.length, pkts.length);
      frames.forEach((g, i) => {
        assert.equal(g.meta.sec, pkts[i].sec);
        assert.deepEqual(g.data, pkts[i].data, `frame ${i + 1}`);
      });
      assert.ok(readies >= 2, `ready() awaited ${readies} times`);
      assert.equal(tsharkFields(path, ["frame.number"]).length, pkts.length);
      // stopping: abort after 1000 frames delivers exactly 1000
      const part = await readAll(path, { stopAfter: 1000 });
      assert.equal(part.error, null);
      assert.equal(part.frames.length, 1000);
    } finally {
      Deno.removeSync(path);
    }
    const huge = new Uint8Array(5 * 1024 * 1024 + 3);
    for (let i = 0; i < huge.length; i++) huge[i] = (i * 31) & 0xff;
    const hp = tmp(buildPcap([small, { ...small, data: huge, wireLen: huge.length }, small], {
      linkType: 1,
      le: true,
      nsec: false,
    }));
    try {
      const { frames, error } = await readAll(hp);
      assert.equal(error, null);
      assert.equal(frames.length, 3);
      assert.deepEqual(frames[1].data, huge);
      assert.deepEqual(frames[2].data, small.data);
    } finally {
      Deno.removeSync(hp);
    }
  },
}));
