/**
 * Flow totals against an independent oracle: tshark's conversation tables
 * (`tshark -q -z conv,tcp` / `conv,udp`), and TCP state/history on known sessions.
 */
import assert from "node:assert/strict";
import { openCaptureFile } from "../../src/capture/file.ts";
import { decodeFrame, newDecoder } from "../../src/decode/mod.ts";
import { FlowTable } from "../../src/flow/tracker.ts";
import { PCAPS, ROOT } from "../helpers/run.ts";

import { gated, NEEDS_TSHARK } from "../helpers/skip.ts";

type FlowRec = Record<string, unknown>;

async function flowsOf(path: string): Promise<FlowRec[]> {
  const out: FlowRec[] = [];
  const table = new FlowTable({
    tcpIdleTimeout: 300,
    udpIdleTimeout: 60,
    icmpIdleTimeout: 60,
    activeTimeout: 1e9,
    maxFlows: 100000,
    communityId: false,
  }, (r) => out.push(r.Flow as FlowRec));
  const src = await openCaptureFile(path);
  const dec = newDecoder();
  try {
    await src.run((view, bytes, off, meta) => {
      decodeFrame(dec, view, bytes, off, meta);
      table.observe(dec, meta);
    }, { signal: new AbortController().signal, ready: () => Promise.resolve() });
  } finally {
    src.close();
  }
  table.flushAll();
  return out;
}

interface Conv {
  a: string;
  b: string;
  /** frames and bytes B->A ("<-") and A->B ("->") */
  ba: [number, number];
  ab: [number, number];
}

function parseBytes(n: string, unit: string): number {
  const v = Number(n.replace(/,/g, ""));
  return unit === "kB" ? v * 1000 : unit === "MB" ? v * 1e6 : v;
}

/** Parses tshark's conversation table. Endpoints are "addr:port" (IPv6 unbracketed). */
function tsharkConv(path: string, kind: "tcp" | "udp"): Conv[] {
  const out = new Deno.Command("tshark", {
    args: ["-r", path, "-q", "-z", `conv,${kind}`],
    stdout: "piped",
    stderr: "null",
    env: { HOME: "/tmp" },
  }).outputSync();
  const text = new TextDecoder().decode(out.stdout);
  const convs: Conv[] = [];
  const re =
    /^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+([\d,]+)\s+(bytes|kB|MB)\s+(\d+)\s+([\d,]+)\s+(bytes|kB|MB)/;
  for (const line of text.split("\n")) {
    const m = re.exec(line.trim());
    if (!m) continue;
    convs.push({
      a: m[1],
      b: m[2],
      ba: [Number(m[3]), parseBytes(m[4], m[5])],
      ab: [Number(m[6]), parseBytes(m[7], m[8])],
    });
  }
  return convs;
}

function endpoint(addr: unknown, port: unknown): string {
  return `${addr}:${port}`;
}

const CAPTURES = [
  "dns_tcp.pcap",
  "dns_udp.pcap",
  "mptcp-fclose.pcap",
  "accecn_handshake.pcap",
  "dcb_pfc.pcap",
  "ipv4_tcp_http_xml.pcap",
  "icmpv6.pcap",
];

for (const name of CAPTURES) {
  Deno.test(gated({
    name:
      `flows of ${name} agree with tshark -z conv,tcp and conv,udp (count, frames and bytes each way)`,
    needs: NEEDS_TSHARK,
    fn: async () => {
      const path = PCAPS + name;
      const flows = await flowsOf(path);
      for (const kind of ["tcp", "udp"] as const) {
        const ours = flows.filter((f) => f.Protocol === kind.toUpperCase());
        const theirs = tsharkConv(path, kind);
        assert.equal(ours.length, theirs.length, `${kind} flow count`);
        for (const c of theirs) {
          const f = ours.find((f) => {
            const s = endpoint(f.Source_Address, f.Source_Port),
              d = endpoint(f.Destination_Address, f.Destination_Port);
            return (s === c.a && d === c.b) || (s === c.b && d === c.a);
          });
          assert.ok(f, `no flow for ${c.a} <-> ${c.b}`);
          const origIsA = endpoint(f.Source_Address, f.Source_Port) === c.a;
          const fromA = origIsA
            ? [f.Originator_Packets, f.Originator_Wire_Bytes]
            : [f.Responder_Packets, f.Responder_Wire_Bytes];
          const fromB = origIsA
            ? [f.Responder_Packets, f.Responder_Wire_Bytes]
            : [f.Originator_Packets, f.Originator_Wire_Bytes];
          assert.deepEqual(fromA, c.ab, `${c.a} -> ${c.b}`);
          assert.deepEqual(fromB, c.ba, `${c.b} -> ${c.a}`);
        }
      }
    },
  }));
}

const STATES: [string, string, string][] = [
  ["fixtures/pcaps/dns_tcp.pcap", "SF", "ShADadFf"],
  ["fixtures/pcaps/mptcp-fclose.pcap", "RSTR", "ShADadr"],
  ["fixtures/flow/tcp_half_open_syn.pcap", "S0", "S"],
  ["fixtures/flow/tcp_midstream.pcap", "OTH", "DadAFf"],
];
for (const [file, state, history] of STATES) {
  Deno.test(`TCP flow of ${file.split("/").pop()} ends in state ${state} with history ${history}`, async () => {
    const flows = (await flowsOf(ROOT + file)).filter((f) => f.Protocol === "TCP");
    assert.equal(flows.length, 1);
    assert.equal(flows[0].State, state);
    assert.equal(flows[0].History, history);
  });
}
