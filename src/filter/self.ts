/**
 * Self-traffic exclusion: frames carrying netmon's own submissions (TCP to or from
 * the server's address and port) must not be captured, or every batch sent would
 * produce more records to send (the original design's out-of-memory feedback loop).
 *
 * Two layers: a classic BPF program for SO_ATTACH_FILTER, so the kernel never
 * copies these frames into the ring, and {@link SelfExclusion.matches}, a guard on
 * each decoded frame in user space (capture files, frames the BPF cannot see into
 * such as IPv6 with extension headers or two VLAN tags).
 *
 * Scope: any TCP segment whose source is server:port or whose destination is
 * server:port, whatever the other address; this covers every local address (and
 * NAT) without tracking interface addresses, at the price of also hiding other
 * hosts' connections to the same server port when capturing on a shared segment.
 */
import { lookup } from "node:dns/promises";
import type { Frame } from "../decode/frame.ts";
import { UsageError } from "../errors.ts";
import { ipv6Bytes, parseIpv4, parseIpv6 } from "./addr.ts";
import {
  Assembler,
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_B,
  BPF_H,
  BPF_IND,
  BPF_JGE,
  BPF_JSET,
  BPF_LD,
  BPF_LDX,
  BPF_LEN,
  BPF_MISC,
  BPF_MSH,
  BPF_TAX,
  BPF_TXA,
  BPF_W,
} from "./bpf.ts";
import { ipv6 as formatIpv6 } from "../decode/format.ts";

export interface SelfExclusion {
  /** Classic BPF program (struct sock_filter[], 8 bytes each) to attach with SO_ATTACH_FILTER. */
  bpf: Uint8Array;
  /** User-space guard on a decoded frame: true = this is submission traffic. */
  matches(f: Frame): boolean;
  /** Human description for logs. */
  describe(): string;
}

/** Where the server is: its addresses (IPv4 as uint32, IPv6 as 16 bytes) and TCP port. */
export interface ServerEndpoint {
  v4: number[];
  v6: Uint8Array[];
  port: number;
}

/** Most addresses of each family put in the BPF program (keeps every jump within 255). */
export const MAX_ADDRESSES_PER_FAMILY = 8;

const ETH_HLEN = 14;
const VLAN_HLEN = 4;
const ETHERTYPE_OFF = 12;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
const TPID_8021Q = 0x8100;
const TPID_8021AD = 0x88a8;
const IPPROTO_TCP = 6;
/** IPv4 header fields (RFC 791), offsets from the IP header. */
const IP4 = { FRAG: 6, PROTO: 9, SRC: 12, DST: 16, MIN_LEN: 20 } as const;
const IP4_FRAG_OFFSET_MASK = 0x1fff;
/** IPv6 header fields (RFC 8200). */
const IP6 = { NEXT_HEADER: 6, SRC: 8, DST: 24, LEN: 40 } as const;
/** TCP ports, offsets from the TCP header. */
const TCP = { SRC_PORT: 0, DST_PORT: 2, PORTS_LEN: 4 } as const;
/**
 * What the kernel program returns for submission traffic: keep 1 byte of the frame. Such
 * a 1-byte stub costs one ring slot and no copy, and lets the pipeline count excluded
 * frames exactly ({@link isSelfStub}); dropping it (return 0) would hide the count.
 * Real captures never have a 1-byte snap length (the minimum is 64).
 */
export const SELF_STUB_CAPLEN = 1;
const RET_REJECT = SELF_STUB_CAPLEN;
/** Anything else is kept whole (the live source caps it at the snap length). */
const RET_ACCEPT = 0xffffffff;

/** True for the 1-byte stub the kernel program leaves of a submission-traffic frame. */
export function isSelfStub(capLen: number, wireLen: number): boolean {
  return capLen === SELF_STUB_CAPLEN && wireLen > SELF_STUB_CAPLEN;
}

/**
 * Resolves the server of `serverUrl` and builds the exclusion. Host names resolve through
 * the system resolver (getaddrinfo: /etc/hosts, DNS), both A and AAAA.
 *
 * @example
 * ```ts
 * import { buildSelfExclusion } from "./src/filter/self.ts";
 * const ex = await buildSelfExclusion("http://127.0.0.1:8080/ingest");
 * ex?.describe(); // "TCP to/from 127.0.0.1 port 8080"
 * ```
 */
export async function buildSelfExclusion(serverUrl: string): Promise<SelfExclusion | null> {
  const ep = await resolveServer(serverUrl);
  return selfExclusionFor(ep);
}

/** Host and port of a server URL, the addresses it resolves to. UsageError when it cannot. */
export async function resolveServer(serverUrl: string): Promise<ServerEndpoint> {
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    throw new UsageError(`server URL '${serverUrl}' is not a URL`);
  }
  let port = url.port !== ""
    ? Number(url.port)
    : url.protocol === "https:"
    ? 443
    : url.protocol === "http:"
    ? 80
    : 0;
  if (port === 0) {
    throw new UsageError(`server URL '${serverUrl}': give a port (no default for ${url.protocol})`);
  }
  port = port & 0xffff;
  let host = url.hostname;
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const texts: string[] = [];
  if (parseIpv4(host) >= 0 || host.includes(":")) texts.push(host);
  else if (host.toLowerCase() === "localhost") texts.push("127.0.0.1", "::1");
  else {
    try {
      for (const a of await lookup(host, { all: true })) texts.push(a.address);
    } catch (e) {
      throw new UsageError(
        `cannot resolve server host '${host}' to exclude netmon's own traffic (${
          e instanceof Error ? e.message : String(e)
        }); fix the name or use --capture-self`,
      );
    }
  }
  const v4 = new Set<number>();
  const v6 = new Map<string, Uint8Array>();
  const g = new Uint16Array(8);
  for (const t of texts) {
    const a = parseIpv4(t);
    if (a >= 0) v4.add(a);
    else if (parseIpv6(t, g)) {
      const b = ipv6Bytes(g);
      // An IPv4-mapped address travels as IPv4 on the wire.
      if (isV4Mapped(b)) v4.add(((b[12] << 24) | (b[13] << 16) | (b[14] << 8) | b[15]) >>> 0);
      else v6.set(formatIpv6(b, 0), b);
    }
  }
  if (v4.size + v6.size === 0) {
    throw new UsageError(
      `server host '${host}' resolved to no address; fix the name or use --capture-self`,
    );
  }
  return {
    v4: [...v4].slice(0, MAX_ADDRESSES_PER_FAMILY),
    v6: [...v6.values()].slice(0, MAX_ADDRESSES_PER_FAMILY),
    port,
  };
}

function ipv4Text(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/** The exclusion for known addresses (no resolution). */
export function selfExclusionFor(ep: ServerEndpoint): SelfExclusion {
  const bpf = buildSelfBpf(ep);
  const v4 = Uint32Array.from(ep.v4);
  const v6 = ep.v6.map((b) => Uint8Array.from(b));
  const port = ep.port;
  const n4 = v4.length;
  const n6 = v6.length;
  const addrIn = (b: Uint8Array, off: number, version: number): boolean => {
    if (version === 4) {
      const a = ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
      for (let i = 0; i < n4; i++) if (v4[i] === a) return true;
      return false;
    }
    for (let i = 0; i < n6; i++) {
      const s = v6[i];
      let j = 0;
      while (j < 16 && s[j] === b[off + j]) j++;
      if (j === 16) return true;
    }
    return false;
  };
  const text = [...ep.v4.map(ipv4Text), ...ep.v6.map((b) => formatIpv6(b, 0))].join(", ");
  return {
    bpf,
    matches(f: Frame): boolean {
      const s = f.sum;
      if (s.ipProto !== IPPROTO_TCP || s.ipVersion === 0) return false;
      if (s.dstPort === port && addrIn(f.bytes, s.dstAddrOff, s.ipVersion)) return true;
      return s.srcPort === port && addrIn(f.bytes, s.srcAddrOff, s.ipVersion);
    },
    describe: () => `TCP to/from ${text} port ${port}`,
  };
}

/**
 * The classic BPF program: drops TCP frames from or to server:port (IPv4 and IPv6,
 * untagged or with one 802.1Q/802.1ad tag), accepts everything else. Live AF_PACKET
 * sockets usually see frames with the VLAN tag already stripped by the kernel
 * (it sits in the metadata), which the untagged path covers. Frames too short for
 * the fields read are accepted (a load past the end would drop them silently).
 */
export function buildSelfBpf(ep: ServerEndpoint): Uint8Array {
  const a = new Assembler();
  a.stmt(BPF_LD | BPF_LEN);
  a.jump(BPF_JGE, ETH_HLEN, null, "accept");
  a.stmt(BPF_LD | BPF_H | BPF_ABS, ETHERTYPE_OFF);
  a.jeq(TPID_8021Q, "tagged", null);
  a.jeq(TPID_8021AD, "tagged", null);
  a.jeq(ETHERTYPE_IPV4, "v4_untagged", null);
  a.jeq(ETHERTYPE_IPV6, "v6_untagged", "accept");
  a.label("tagged");
  a.stmt(BPF_LD | BPF_LEN);
  a.jump(BPF_JGE, ETH_HLEN + VLAN_HLEN, null, "accept");
  a.stmt(BPF_LD | BPF_H | BPF_ABS, ETHERTYPE_OFF + VLAN_HLEN);
  a.jeq(ETHERTYPE_IPV4, "v4_tagged", null);
  a.jeq(ETHERTYPE_IPV6, "v6_tagged", "accept");
  a.label("accept");
  a.ret(RET_ACCEPT);
  ipv4Block(a, "v4_untagged", ETH_HLEN, ep);
  ipv6Block(a, "v6_untagged", ETH_HLEN, ep);
  ipv4Block(a, "v4_tagged", ETH_HLEN + VLAN_HLEN, ep);
  ipv6Block(a, "v6_tagged", ETH_HLEN + VLAN_HLEN, ep);
  return a.bytes();
}

/** Emits the address checks: A holds a loaded word, jumps to `hit` on a match of word `w`. */
function addrList(
  a: Assembler,
  p: string,
  words: number[][],
  load: (word: number) => void,
  hit: string,
  miss: string,
): void {
  words.forEach((addr, i) => {
    const next = i === words.length - 1 ? miss : `${p}_${i + 1}`;
    if (i > 0) a.label(`${p}_${i}`);
    addr.forEach((w, j) => {
      load(j);
      a.jeq(w, j === addr.length - 1 ? hit : null, next);
    });
  });
}

function ipv4Block(a: Assembler, name: string, l: number, ep: ServerEndpoint): void {
  const p = name;
  a.label(p);
  if (ep.v4.length === 0) {
    a.ret(RET_ACCEPT);
    return;
  }
  const words = ep.v4.map((x) => [x]);
  a.stmt(BPF_LD | BPF_LEN);
  a.jump(BPF_JGE, l + IP4.MIN_LEN, null, `${p}_acc`);
  a.stmt(BPF_LD | BPF_B | BPF_ABS, l + IP4.PROTO);
  a.jeq(IPPROTO_TCP, null, `${p}_acc`);
  a.stmt(BPF_LD | BPF_H | BPF_ABS, l + IP4.FRAG);
  a.jump(BPF_JSET, IP4_FRAG_OFFSET_MASK, `${p}_acc`, null);
  // X = IP header length + link header + 4: is there room for the ports?
  a.stmt(BPF_LDX | BPF_B | BPF_MSH, l);
  a.stmt(BPF_MISC | BPF_TXA);
  a.stmt(BPF_ALU | BPF_ADD | 0, l + TCP.PORTS_LEN);
  a.stmt(BPF_MISC | BPF_TAX);
  a.stmt(BPF_LD | BPF_LEN);
  a.jumpX(BPF_JGE, null, `${p}_acc`);
  a.stmt(BPF_LDX | BPF_B | BPF_MSH, l);
  a.stmt(BPF_LD | BPF_H | BPF_IND, l + TCP.DST_PORT);
  a.jeq(ep.port, null, `${p}_sport`);
  addrList(
    a,
    `${p}_d`,
    words,
    () => a.stmt(BPF_LD | BPF_W | BPF_ABS, l + IP4.DST),
    `${p}_rej`,
    `${p}_sport`,
  );
  a.label(`${p}_sport`);
  a.stmt(BPF_LD | BPF_H | BPF_IND, l + TCP.SRC_PORT);
  a.jeq(ep.port, null, `${p}_acc`);
  addrList(
    a,
    `${p}_s`,
    words,
    () => a.stmt(BPF_LD | BPF_W | BPF_ABS, l + IP4.SRC),
    `${p}_rej`,
    `${p}_acc`,
  );
  a.label(`${p}_acc`);
  a.ret(RET_ACCEPT);
  a.label(`${p}_rej`);
  a.ret(RET_REJECT);
}

function ipv6Block(a: Assembler, name: string, l: number, ep: ServerEndpoint): void {
  const p = name;
  a.label(p);
  if (ep.v6.length === 0) {
    a.ret(RET_ACCEPT);
    return;
  }
  const words = ep.v6.map((b) => {
    const v = new DataView(b.buffer, b.byteOffset, 16);
    return [0, 4, 8, 12].map((o) => v.getUint32(o));
  });
  const tcp = l + IP6.LEN;
  a.stmt(BPF_LD | BPF_LEN);
  a.jump(BPF_JGE, tcp + TCP.PORTS_LEN, null, `${p}_acc`);
  a.stmt(BPF_LD | BPF_B | BPF_ABS, l + IP6.NEXT_HEADER);
  a.jeq(IPPROTO_TCP, null, `${p}_acc`);
  a.stmt(BPF_LD | BPF_H | BPF_ABS, tcp + TCP.DST_PORT);
  a.jeq(ep.port, null, `${p}_sport`);
  addrList(
    a,
    `${p}_d`,
    words,
    (j) => a.stmt(BPF_LD | BPF_W | BPF_ABS, l + IP6.DST + 4 * j),
    `${p}_rej`,
    `${p}_sport`,
  );
  a.label(`${p}_sport`);
  a.stmt(BPF_LD | BPF_H | BPF_ABS, tcp + TCP.SRC_PORT);
  a.jeq(ep.port, null, `${p}_acc`);
  addrList(
    a,
    `${p}_s`,
    words,
    (j) => a.stmt(BPF_LD | BPF_W | BPF_ABS, l + IP6.SRC + 4 * j),
    `${p}_rej`,
    `${p}_acc`,
  );
  a.label(`${p}_acc`);
  a.ret(RET_ACCEPT);
  a.label(`${p}_rej`);
  a.ret(RET_REJECT);
}
