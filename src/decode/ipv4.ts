/**
 * IPv4 (RFC 791) with options (RFC 791, 1108, 2113, 7126 numbering).
 *
 * - Total_Length bounds the payload: Ethernet padding after it is not payload.
 *   A total length past the frame is a fault; decoding goes on with what the frame has.
 *   Total length 0 is taken as TCP segmentation offload (the frame length is used), as
 *   Wireshark does, and recorded as a fault.
 * - Fragments: a non-first fragment (offset > 0) sets `f.sum.fragment`, records its
 *   bytes as Payload and stops; a first fragment (MF, offset 0) is decoded further,
 *   its transport checksum is "unverified" (it covers bytes of later fragments).
 * - Fragment_Offset is the field's value in 8-byte units, as tshark 4 shows it.
 * - A bogus version keeps only `Version` (a fault); version 6 under EtherType 0x0800
 *   is then decoded as IPv6, as Wireshark does.
 * - Malformed or cut headers keep the fields tshark would show (docs/decoders-l3.md).
 */
import type { Frame } from "./frame.ts";
import type { Layer } from "./record.ts";
import { dispatch, ETHERTYPE, IP_PROTO, register } from "./registry.ts";
import { LAYER } from "./record.ts";
import { hex, ipv4 } from "./format.ts";
import { resetIpContext, setIpContext, verifyPlain } from "./checksum.ts";
import { datagramKey, LAYER_FRAGMENT, LAYER_REASSEMBLY, switchToDatagram } from "./reassembly.ts";
import { decodeIpsecHeader, decodeIpv6, extensionName } from "./ipv6.ts";
import { u16, u32 } from "./bytes.ts";

/** Field offsets from the start of the header. */
const OFF = {
  VER_IHL: 0,
  TOS: 1,
  TOTAL_LENGTH: 2,
  ID: 4,
  FLAGS_FRAG: 6,
  TTL: 8,
  PROTOCOL: 9,
  CHECKSUM: 10,
  SRC: 12,
  DST: 16,
  OPTIONS: 20,
} as const;
export const IPV4_HEADER_LEN = 20;
export const ETHERTYPE_IPV4 = 0x0800;
export const IP_PROTO_IPV4 = 4;
const IP_PROTO_ESP = 50;
const IP_PROTO_AH = 51;
const FLAG_RESERVED = 0x8000;
const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;
const FRAG_MASK = 0x1fff;

/** Option type numbers (whole type octet). */
const OPT = {
  EOL: 0,
  NOP: 1,
  RECORD_ROUTE: 7,
  TIMESTAMP: 68,
  LSRR: 131,
  SSRR: 137,
  ROUTER_ALERT: 148,
  TRACEROUTE: 82,
} as const;
/** RFC 1393 traceroute option: type, length, ID, outbound and return hop counts, originator. */
const TRACEROUTE_LEN = 12;

const OPTION_NAMES: Record<number, string> = {
  0: "End of Options List",
  1: "No-Operation",
  7: "Record Route",
  25: "Quick-Start",
  68: "Timestamp",
  82: "Traceroute",
  130: "Security",
  131: "Loose Source Route",
  133: "Extended Security",
  134: "Commercial IP Security",
  136: "Stream ID",
  137: "Strict Source Route",
  148: "Router Alert",
};

/** Shared empty list for headers without options (never mutated). */
// Not frozen: a frozen value sends JSON.stringify off its fast path (docs/capture-files.md).
const NO_OPTIONS: readonly unknown[] = [];

/** Offset of the final destination named by a source route option, -1 none (set by decodeIpv4Options). */
let routeFinalDst = -1;

/** Decodes the options in bytes[off..end) (the header's option area, fully captured). */
export function decodeIpv4Options(f: Frame, off: number, end: number, layer: string): unknown[] {
  routeFinalDst = -1;
  const b = f.bytes;
  const out: unknown[] = [];
  let i = off;
  while (i < end) {
    const type = b[i];
    if (type === OPT.EOL) {
      out.push({ Type: type, Name: OPTION_NAMES[type] });
      break;
    }
    if (type === OPT.NOP) {
      out.push({ Type: type, Name: OPTION_NAMES[type] });
      i++;
      continue;
    }
    if (i + 2 > end) {
      f.fault(layer, `option ${type} has no length`, i);
      break;
    }
    const len = b[i + 1];
    if (len < 2 || i + len > end) {
      f.fault(layer, `option ${type} length ${len} is invalid`, i + 1);
      break;
    }
    const o: Record<string, unknown> = {
      Type: type,
      Name: OPTION_NAMES[type] ?? "Unknown",
      Length: len,
    };
    const dataOff = i + 2;
    const optEnd = i + len;
    // An option whose length its type does not allow ends the option walk (as in tshark).
    let stop = false;
    switch (type) {
      case OPT.RECORD_ROUTE:
      case OPT.LSRR:
      case OPT.SSRR: {
        if (len < 3) {
          f.fault(layer, `option ${type} length ${len} is invalid`, i + 1);
          stop = true;
          break;
        }
        if ((len - 3) % 4 !== 0) {
          f.fault(layer, `option ${type} length ${len} is not 3 + 4n`, i + 1);
        }
        const ptr = b[dataOff];
        o.Pointer = ptr;
        const route: string[] = [];
        let last = -1;
        for (let a = dataOff + 1; a + 4 <= optEnd; a += 4) {
          route.push(ipv4(b, a));
          last = a;
        }
        o.Route = route;
        // A source route not yet exhausted ends at its last entry: that is the final
        // destination (pseudo-header, RFC 791/9293; Wireshark shows it as ip.dst).
        if (type !== OPT.RECORD_ROUTE && ptr <= len && last >= 0) routeFinalDst = last;
        break;
      }
      case OPT.TIMESTAMP: {
        if (len < 4) {
          f.fault(layer, `option ${type} length ${len} is invalid`, i + 1);
          stop = true;
          break;
        }
        o.Pointer = b[dataOff];
        o.Overflow = b[dataOff + 1] >> 4;
        const flag = b[dataOff + 1] & 0x0f;
        o.Flag = flag;
        const entries: unknown[] = [];
        const step = flag === 0 ? 4 : 8;
        for (let a = dataOff + 2; a + step <= optEnd; a += step) {
          if (flag === 0) entries.push({ Timestamp: u32(b, a) });
          else entries.push({ Address: ipv4(b, a), Timestamp: u32(b, a + 4) });
        }
        o.Entries = entries;
        break;
      }
      case OPT.ROUTER_ALERT:
        if (len === 4) o.Value = (b[dataOff] << 8) | b[dataOff + 1];
        else {
          f.fault(layer, `router alert length ${len} is not 4`, i + 1);
          stop = true;
        }
        break;
      case OPT.TRACEROUTE:
        if (len !== TRACEROUTE_LEN) {
          f.fault(layer, `traceroute option length ${len} is not ${TRACEROUTE_LEN}`, i + 1);
          stop = true;
        } else o.Data = hex(b, dataOff, optEnd);
        break;
      default:
        if (len > 2) o.Data = hex(b, dataOff, optEnd);
    }
    out.push(o);
    if (stop) break;
    i = optEnd;
  }
  return out;
}

const UNREADABLE = -2;

/**
 * Walks the options in bytes[off..end) by their type and length bytes only, reading
 * below `lim`. Returns the offset of a source route's final destination, -1 when
 * there is none, UNREADABLE when the walk needed a byte at or past `lim`.
 */
function scanRouteFinalDst(b: Uint8Array, off: number, end: number, lim: number): number {
  let i = off;
  let found = -1;
  while (i < end) {
    if (i >= lim) return UNREADABLE;
    const type = b[i];
    if (type === OPT.EOL) break;
    if (type === OPT.NOP) {
      i++;
      continue;
    }
    if (i + 1 >= lim) return UNREADABLE;
    const len = b[i + 1];
    if (len < 2) break;
    if (type === OPT.LSRR || type === OPT.SSRR) {
      if (i + len > lim || i + len > end) return UNREADABLE;
      const last = i + 3 + Math.floor((len - 3) / 4) * 4 - 4;
      if (len >= 7 && b[i + 2] <= len) found = last;
    }
    i += len;
  }
  return found;
}

/**
 * The fields of a header cut after `n` bytes (n < 20), each one present when all its
 * bytes are (tshark shows a cut header the same way). Not on the fast path.
 */
function partialIpv4(b: Uint8Array, off: number, n: number): Layer {
  const a: Layer = { Version: b[off] >> 4, Header_Length: (b[off] & 0x0f) * 4 };
  if (n > OFF.TOS) {
    a.DSCP = b[off + OFF.TOS] >> 2;
    a.ECN = b[off + OFF.TOS] & 3;
  }
  if (n >= OFF.ID) {
    const tl = u16(b, off + OFF.TOTAL_LENGTH);
    a.Total_Length = tl;
    if (tl !== 0 && tl < (b[off] & 0x0f) * 4) return a; // bogus: nothing more (tshark alike)
  }
  if (n >= OFF.FLAGS_FRAG) a.Identification = u16(b, off + OFF.ID);
  if (n >= OFF.TTL) {
    const ff = u16(b, off + OFF.FLAGS_FRAG);
    a.Flags = {
      Reserved: (ff & FLAG_RESERVED) !== 0,
      DF: (ff & FLAG_DF) !== 0,
      MF: (ff & FLAG_MF) !== 0,
    };
    a.Fragment_Offset = ff & FRAG_MASK;
  }
  if (n > OFF.TTL) a.TTL = b[off + OFF.TTL];
  if (n > OFF.PROTOCOL) a.Protocol = b[off + OFF.PROTOCOL];
  if (n >= OFF.SRC) {
    a.Checksum = u16(b, off + OFF.CHECKSUM);
    a.Checksum_Status = "unverified";
  }
  if (n >= OFF.DST) a.Source_Address = ipv4(b, off + OFF.SRC);
  return a;
}

/** Decodes an IPv4 header at `off`; `end` is where the parent's data ends on the wire. */
export function decodeIpv4(f: Frame, off: number, end: number): void {
  const name = LAYER.IPV4;
  if (!f.has(off, 1)) {
    f.truncated(name, off);
    return;
  }
  const b = f.bytes;
  const version = b[off] >> 4;
  if (version !== 4) {
    // Like Wireshark: nothing after a bogus version is trusted; version 6 is decoded
    // as IPv6 after this stub layer, anything else is left as Payload.
    f.layer(name, { Version: version });
    f.fault(name, `IP version ${version} is not 4`, off);
    if (version === 6) f.call(decodeIpv6, off, end);
    else f.rest(off, end);
    return;
  }
  const hlen = (b[off] & 0x0f) * 4;
  if (hlen >= IPV4_HEADER_LEN && !f.has(off, IPV4_HEADER_LEN)) {
    f.layer(name, partialIpv4(b, off, f.capEnd - off));
    f.truncated(name, off);
    return;
  }
  if (hlen < IPV4_HEADER_LEN) {
    f.layer(name, { Version: version, Header_Length: hlen });
    f.fault(name, `header length ${hlen} is below 20`, off);
    return;
  }
  const tos = b[off + OFF.TOS];
  const totalLength = u16(b, off + OFF.TOTAL_LENGTH);
  if (totalLength < hlen && totalLength !== 0) {
    f.layer(name, {
      Version: version,
      Header_Length: hlen,
      DSCP: tos >> 2,
      ECN: tos & 3,
      Total_Length: totalLength,
    });
    f.fault(
      name,
      `total length ${totalLength} is below header length ${hlen}`,
      off + OFF.TOTAL_LENGTH,
    );
    return;
  }
  // Where the packet ends on the wire.
  let pktEnd = off + totalLength;
  if (totalLength === 0) {
    // TCP segmentation offload: the frame gives the length (Wireshark reports that length too).
    pktEnd = end;
    f.fault(name, "total length 0 (assumed TCP segmentation offload)", off + OFF.TOTAL_LENGTH);
  } else if (pktEnd > end) {
    f.fault(
      name,
      `total length ${totalLength} exceeds the frame (${end - off} bytes)`,
      off + OFF.TOTAL_LENGTH,
    );
    pktEnd = end;
  }
  const ff = u16(b, off + OFF.FLAGS_FRAG);
  const fragOffset = ff & FRAG_MASK;
  const proto = b[off + OFF.PROTOCOL];
  const attrs: Record<string, unknown> = {
    Version: version,
    Header_Length: hlen,
    DSCP: tos >> 2,
    ECN: tos & 3,
    Total_Length: totalLength === 0 ? pktEnd - off : totalLength,
    Identification: u16(b, off + OFF.ID),
    Flags: {
      Reserved: (ff & FLAG_RESERVED) !== 0,
      DF: (ff & FLAG_DF) !== 0,
      MF: (ff & FLAG_MF) !== 0,
    },
    Fragment_Offset: fragOffset,
    TTL: b[off + OFF.TTL],
    Protocol: proto,
    Checksum: u16(b, off + OFF.CHECKSUM),
    Checksum_Status: "unverified",
    Source_Address: ipv4(b, off + OFF.SRC),
    Destination_Address: ipv4(b, off + OFF.DST),
    Options: NO_OPTIONS,
  };
  f.layer(name, attrs);
  if (off + hlen > pktEnd || !f.has(off, hlen)) {
    // Options cut short. A source route among the unreadable ones could name another
    // final destination: like Wireshark, the destination is kept only when walking
    // the options' type/length bytes never leaves the readable bytes.
    const lim = Math.min(pktEnd, f.capEnd);
    const fin = scanRouteFinalDst(b, off + OFF.OPTIONS, off + hlen, lim);
    if (fin === UNREADABLE) delete attrs.Destination_Address;
    else if (fin >= 0) attrs.Destination_Address = ipv4(b, fin);
    if (off + hlen > pktEnd) f.fault(name, `header length ${hlen} exceeds the packet`, off);
    else f.truncated(name, off + IPV4_HEADER_LEN);
    return;
  }
  attrs.Checksum_Status = verifyPlain(b, off, off + hlen, f.capEnd);
  let dstOff = off + OFF.DST;
  if (hlen > IPV4_HEADER_LEN) {
    attrs.Options = decodeIpv4Options(f, off + OFF.OPTIONS, off + hlen, name);
    if (routeFinalDst >= 0) {
      // Source routed: the header holds the current hop, the option the final destination.
      dstOff = routeFinalDst;
      attrs.Current_Route = attrs.Destination_Address;
      attrs.Destination_Address = ipv4(b, dstOff);
    }
  }

  const s = f.sum;
  s.newIp();
  s.ipVersion = 4;
  s.srcAddrOff = off + OFF.SRC;
  s.dstAddrOff = dstOff;
  s.ipProto = proto;
  s.ipBytes = pktEnd - off;
  const fragmented = (ff & FLAG_MF) !== 0 || fragOffset !== 0;
  // The flow tracker skips non-first fragments (no ports); a first fragment has them.
  if (fragOffset !== 0) s.fragment = true;
  setIpContext(f, fragmented, dstOff);
  let base = off;
  let whole = false;
  // Like Wireshark: only a fragment with all its bytes and a good header checksum is held.
  if (
    fragmented && f.reassembly !== null && pktEnd <= f.capEnd && pktEnd > off + hlen &&
    attrs.Checksum_Status !== "bad"
  ) {
    const note: Layer = {
      Identification: attrs.Identification,
      Offset: fragOffset * 8,
      Length: pktEnd - off - hlen,
      More_Fragments: (ff & FLAG_MF) !== 0,
    };
    const key = datagramKey(
      b,
      4,
      s.vlanId,
      off + OFF.SRC,
      dstOff,
      attrs.Identification as number,
      proto,
    );
    const r = f.reassembly.add(
      f,
      name,
      key,
      fragOffset * 8,
      off + hlen,
      pktEnd - off - hlen,
      (ff & FLAG_MF) !== 0,
      false,
      note,
    );
    if (r.kind === "held") {
      f.layer(LAYER_FRAGMENT, note);
      s.fragment = true;
      f.rest(off + hlen, pktEnd);
      return;
    }
    if (r.kind === "complete") {
      f.layer(LAYER_REASSEMBLY, {
        Identification: attrs.Identification,
        Fragment_Count: r.fragments.length,
        Length: r.payload.length,
        Fragments: r.fragments,
      });
      s.heldWireBytes = r.heldWireBytes;
      const hl = switchToDatagram(f, off, off + hlen, r.payload);
      resetIpContext(f, dstOff - off);
      base = 0;
      whole = true;
      pktEnd = hl + r.payload.length;
    }
  }
  if (!whole && fragOffset !== 0) {
    // Not the first fragment: the bytes continue an upper-layer header we have not seen.
    f.rest(off + hlen, pktEnd);
    return;
  }
  let p = base + hlen;
  let nh = proto;
  if (nh === IP_PROTO_AH || nh === IP_PROTO_ESP) {
    // IPsec headers are listed like IPv6 extension headers (same objects).
    const exts: unknown[] = [];
    attrs.Extension_Headers = exts;
    // Each AH consumes at least 8 bytes, so this ends.
    while (nh === IP_PROTO_AH || nh === IP_PROTO_ESP) {
      const h: Record<string, unknown> = { Header: extensionName(nh), Header_Type: nh };
      exts.push(h);
      s.ipProto = nh;
      const n = decodeIpsecHeader(f, name, nh, h, p, pktEnd);
      if (n < 0) return;
      nh = h.Next_Header as number;
      p += n;
    }
    s.ipProto = nh;
  }
  dispatch(IP_PROTO, nh, f, p, pktEnd);
}

register(ETHERTYPE, ETHERTYPE_IPV4, decodeIpv4);
