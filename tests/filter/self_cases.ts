/** Frames for the self-exclusion tests: what the kernel filter and the guard must do. */
import assert from "node:assert/strict";
import type { ServerEndpoint } from "../../src/filter/self.ts";
import { parseIpv4, parseIpv6 } from "../../src/filter/addr.ts";
import type { FrameSpec } from "./frames.ts";

export function endpoint(addrs: string[], port: number): ServerEndpoint {
  const g = new Uint16Array(8);
  const v4: number[] = [];
  const v6: Uint8Array[] = [];
  for (const a of addrs) {
    if (a.includes(":")) {
      assert.ok(parseIpv6(a, g));
      v6.push(Uint8Array.from([...g].flatMap((w) => [w >> 8, w & 0xff])));
    } else v4.push(parseIpv4(a));
  }
  return { v4, v6, port };
}

/** The server of these cases: 192.0.2.10 and 2001:db8::10, port 8080. */
export const SERVER = endpoint(["192.0.2.10", "2001:db8::10"], 8080);

export interface Case {
  name: string;
  spec: FrameSpec;
  /** The kernel filter drops it. */
  bpf: boolean;
  /** The user-space guard flags it (it also sees past extension headers and two tags). */
  guard: boolean;
}

export function cases(): Case[] {
  const out: Case[] = [];
  const tagSets: [string, number[]][] = [["untagged", []], ["802.1Q", [0x8100]], ["802.1ad", [
    0x88a8,
  ]]];
  for (
    const [v, me, srv, other] of [
      ["IPv4", "198.51.100.7", "192.0.2.10", "192.0.2.11"],
      ["IPv6", "2001:db8::7", "2001:db8::10", "2001:db8::11"],
    ]
  ) {
    for (const [tn, tags] of tagSets) {
      const t = `${v} ${tn}`;
      out.push(
        {
          name: `${t}: to server:port`,
          spec: { tags, src: me, dst: srv, sport: 40000, dport: 8080 },
          bpf: true,
          guard: true,
        },
        {
          name: `${t}: from server:port`,
          spec: { tags, src: srv, dst: me, sport: 8080, dport: 40000 },
          bpf: true,
          guard: true,
        },
        {
          name: `${t}: server to itself, reply direction`,
          spec: { tags, src: srv, dst: srv, sport: 8080, dport: 40000 },
          bpf: true,
          guard: true,
        },
        {
          name: `${t}: server, other port`,
          spec: { tags, src: me, dst: srv, sport: 40000, dport: 22 },
          bpf: false,
          guard: false,
        },
        {
          name: `${t}: server port as source towards server`,
          spec: { tags, src: me, dst: srv, sport: 8080, dport: 22 },
          bpf: false,
          guard: false,
        },
        {
          name: `${t}: other host, same port`,
          spec: { tags, src: me, dst: other, sport: 40000, dport: 8080 },
          bpf: false,
          guard: false,
        },
        {
          name: `${t}: UDP to server:port`,
          spec: { tags, src: me, dst: srv, proto: 17, sport: 40000, dport: 8080 },
          bpf: false,
          guard: false,
        },
        {
          name: `${t}: payload`,
          spec: { tags, src: me, dst: srv, sport: 40000, dport: 8080, payload: 100 },
          bpf: true,
          guard: true,
        },
      );
      if (v === "IPv4") {
        out.push({
          name: `${t}: IPv4 options`,
          spec: { tags, src: me, dst: srv, sport: 40000, dport: 8080, ipOptions: 8 },
          bpf: true,
          guard: true,
        });
      } else {
        out.push({
          name: `${t}: IPv6 extension header (guard only)`,
          spec: { tags, src: me, dst: srv, sport: 40000, dport: 8080, ext6: true },
          bpf: false,
          guard: true,
        });
      }
    }
  }
  out.push({
    name: "two stacked tags (guard only)",
    spec: {
      tags: [0x88a8, 0x8100],
      src: "198.51.100.7",
      dst: "192.0.2.10",
      sport: 40000,
      dport: 8080,
    },
    bpf: false,
    guard: true,
  });
  return out;
}
