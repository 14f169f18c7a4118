/**
 * IPv6 (RFC 8200) and its extension headers, listed in `Extension_Headers`:
 * Hop-by-Hop Options (incl. Jumbo Payload, RFC 2675), Routing (type 0, type 2,
 * type 3 RPL kept as bytes, type 4 Segment Routing with its segment list, RFC 8754),
 * Fragment, Destination Options, Authentication Header (RFC 4302) and the
 * first 8 bytes of ESP (RFC 4303: SPI and sequence number; the rest is encrypted
 * and recorded as Payload).
 *
 * - Payload_Length bounds the payload (link padding is not payload); past the frame
 *   it is a fault and decoding goes on with what the frame has. Payload_Length 0
 *   without a Jumbo Payload option means an empty payload (as Wireshark 4.0 reads it).
 * - A Fragment header with a non-zero offset ends the decode (Payload); a first
 *   fragment is decoded further with its transport checksum "unverified".
 * - Upper-layer checksums use the final destination of a routing header
 *   (RFC 8200 8.1) in the pseudo-header.
 * - Malformed or cut headers keep the fields tshark would show (docs/decoders-l3.md).
 */
import type { Frame } from "./frame.ts";
import type { Layer } from "./record.ts";
import { dispatch, ETHERTYPE, IP_PROTO, register } from "./registry.ts";
import { LAYER } from "./record.ts";
import { hex, ipv6 } from "./format.ts";
import { resetIpContext, setIpContext } from "./checksum.ts";
import { datagramKey, LAYER_FRAGMENT, LAYER_REASSEMBLY, switchToDatagram } from "./reassembly.ts";
import { need, u16, u32 } from "./bytes.ts";

/** Fixed header field offsets. */
const OFF = {
  VER_TC_FLOW: 0,
  PAYLOAD_LENGTH: 4,
  NEXT_HEADER: 6,
  HOP_LIMIT: 7,
  SRC: 8,
  DST: 24,
} as const;
export const IPV6_HEADER_LEN = 40;
export const ETHERTYPE_IPV6 = 0x86dd;
export const IP_PROTO_IPV6 = 41;

/** Extension header numbers (IANA "IPv6 Extension Header Types"). */
export const EXT = {
  HOP_BY_HOP: 0,
  ROUTING: 43,
  FRAGMENT: 44,
  ESP: 50,
  AH: 51,
  NO_NEXT: 59,
  DEST_OPTS: 60,
} as const;

const EXT_NAMES: Record<number, string> = {
  0: "Hop-by-Hop Options",
  43: "Routing",
  44: "Fragment",
  50: "Encapsulating Security Payload",
  51: "Authentication Header",
  60: "Destination Options",
};

/** Option types in Hop-by-Hop / Destination Options headers. */
const OPT = {
  PAD1: 0,
  PADN: 1,
  TUNNEL_ENCAP_LIMIT: 4,
  ROUTER_ALERT: 5,
  JUMBO: 0xc2,
  HOME_ADDRESS: 0xc9,
} as const;
const OPTION_NAMES: Record<number, string> = {
  0x00: "Pad1",
  0x01: "PadN",
  0x04: "Tunnel Encapsulation Limit",
  0x05: "Router Alert",
  0x07: "CALIPSO",
  0x08: "SMF_DPD",
  0x26: "Quick-Start",
  0x31: "IOAM",
  0x63: "RPL Option",
  0x6d: "MPL Option",
  0x8b: "ILNP Nonce",
  0x8c: "Line-Identification",
  0xc2: "Jumbo Payload",
  0xc9: "Home Address",
  0xee: "IP_DFF",
};

/** Routing header field offsets (from the start of the extension header). */
const RT = { TYPE: 2, SEGLEFT: 3, DATA: 8, SRH_LAST_ENTRY: 4, SRH_FLAGS: 5, SRH_TAG: 6 } as const;
const FRAG = { OFFSET_FLAGS: 2, ID: 4, LEN: 8 } as const;
const AH = { LENGTH: 1, SPI: 4, SEQ: 8, ICV: 12 } as const;
const ESP = { SPI: 0, SEQ: 4, LEN: 8 } as const;

/** Set by decodeOptions when an option runs past the packet: the decode ends there. */
let optionsAbort = false;

/** Decodes the TLV options of a Hop-by-Hop / Destination Options header in bytes[off..end). */
function decodeOptions(
  f: Frame,
  off: number,
  end: number,
  layer: string,
  jumbo: { value: number },
  lim = end,
  pktLim = lim,
): unknown[] {
  optionsAbort = false;
  const b = f.bytes;
  const out: unknown[] = [];
  let i = off;
  // `lim` < `end` when the header is cut short: options stop at the last whole one.
  while (i < end) {
    if (i >= lim) break;
    const type = b[i];
    if (type === OPT.PAD1) {
      out.push({ Type: type, Name: OPTION_NAMES[type] });
      i++;
      continue;
    }
    // Listed as soon as its type is read (as Wireshark does), even if the rest is missing.
    const o: Record<string, unknown> = { Type: type, Name: OPTION_NAMES[type] ?? "Unknown" };
    out.push(o);
    if (i + 2 > end) {
      f.fault(layer, `option ${type} has no length`, i);
      break;
    }
    if (i + 2 > lim) break;
    const len = b[i + 1];
    const data = i + 2;
    const optEnd = data + len;
    o.Length = len;
    if (optEnd > end) {
      f.fault(layer, `option ${type} length ${len} exceeds its header`, i + 1);
      // Past the packet's readable bytes too: Wireshark gives up on the whole packet.
      if (optEnd > pktLim) optionsAbort = true;
      break;
    }
    if (optEnd > lim) break;
    switch (type) {
      case OPT.PADN:
        break;
      case OPT.JUMBO:
        if (len === 4) {
          o.Payload_Length = u32(b, data);
          jumbo.value = u32(b, data);
        } else f.fault(layer, `jumbo payload option length ${len} is not 4`, i + 1);
        break;
      case OPT.ROUTER_ALERT:
        if (len === 2) o.Value = u16(b, data);
        else f.fault(layer, `router alert option length ${len} is not 2`, i + 1);
        break;
      case OPT.TUNNEL_ENCAP_LIMIT:
        if (len === 1) o.Value = b[data];
        break;
      case OPT.HOME_ADDRESS:
        if (len === 16) o.Address = ipv6(b, data);
        break;
      default:
        if (len > 0) o.Data = hex(b, data, optEnd);
    }
    i = optEnd;
  }
  return out;
}

/** Routing header body; returns the offset of the final destination for the pseudo-header, or -1. */
function decodeRouting(
  f: Frame,
  h: Record<string, unknown>,
  off: number,
  hEnd: number,
  layer: string,
  partial = false,
): number {
  const b = f.bytes;
  if (hEnd < off + 4) return -1;
  const type = b[off + RT.TYPE];
  const segLeft = b[off + RT.SEGLEFT];
  h.Routing_Type = type;
  h.Segments_Left = segLeft;
  let finalDst = -1;
  if (type === 0 || type === 2) {
    const addrs: string[] = [];
    let last = -1;
    for (let a = off + RT.DATA; a + 16 <= hEnd; a += 16) {
      addrs.push(ipv6(b, a));
      last = a;
    }
    if (type === 0) h.Addresses = addrs;
    else if (addrs.length > 0) h.Home_Address = addrs[0];
    if (segLeft > addrs.length && !partial) {
      f.fault(
        layer,
        `segments left ${segLeft} exceeds ${addrs.length} addresses`,
        off + RT.SEGLEFT,
      );
    }
    if (segLeft > 0) finalDst = last;
  } else if (type === 4) {
    if (hEnd < off + RT.DATA) return -1;
    const lastEntry = b[off + RT.SRH_LAST_ENTRY];
    h.Last_Entry = lastEntry;
    h.Flags = b[off + RT.SRH_FLAGS];
    h.Tag = u16(b, off + RT.SRH_TAG);
    const segs: string[] = [];
    let a = off + RT.DATA;
    for (let n = 0; n <= lastEntry && a + 16 <= hEnd; n++, a += 16) segs.push(ipv6(b, a));
    h.Segments = segs;
    if (partial) return -1;
    if (segs.length <= lastEntry) {
      f.fault(
        layer,
        `segment list needs ${lastEntry + 1} entries, has ${segs.length}`,
        off + RT.SRH_LAST_ENTRY,
      );
    }
    if (a < hEnd) h.TLVs = hex(b, a, hEnd);
    if (segLeft > 0 && segs.length > 0) finalDst = off + RT.DATA;
  } else if (hEnd > off + 4 && !partial) {
    h.Data = hex(b, off + 4, hEnd);
  }
  return partial ? -1 : finalDst;
}

/**
 * Decodes an IPsec header (AH or ESP) at `p` into `h` for IPv4, where they follow
 * the header like IPv6 extension headers do. Returns the AH length (the caller goes
 * on with `h.Next_Header`), or -1 when decoding ends here: after ESP (the rest is
 * encrypted and recorded as Payload) or when the header is cut short.
 */
export function decodeIpsecHeader(
  f: Frame,
  layer: string,
  type: number,
  h: Record<string, unknown>,
  p: number,
  end: number,
): number {
  const b = f.bytes;
  if (type === EXT.ESP) {
    if (!need(f, layer, p, end, ESP.LEN, "ESP header")) return -1;
    h.SPI = u32(b, p + ESP.SPI);
    h.Sequence_Number = u32(b, p + ESP.SEQ);
    f.rest(p + ESP.LEN, end);
    return -1;
  }
  if (!need(f, layer, p, end, 2, "Authentication Header")) return -1;
  const hlen = (b[p + AH.LENGTH] + 2) * 4;
  h.Next_Header = b[p];
  h.Length = hlen;
  if (!need(f, layer, p, end, Math.max(hlen, AH.ICV), "Authentication Header")) return -1;
  h.SPI = u32(b, p + AH.SPI);
  h.Sequence_Number = u32(b, p + AH.SEQ);
  if (hlen > AH.ICV) h.ICV = hex(b, p + AH.ICV, p + hlen);
  return hlen;
}

/** Names of extension headers by number. */
export function extensionName(type: number): string {
  return EXT_NAMES[type] ?? "Unknown";
}

/** The fields of a header cut after `n` bytes (0 < n < 40), as tshark shows them. */
function partialIpv6(b: Uint8Array, off: number, n: number): Layer {
  const a: Layer = { Version: b[off] >> 4 };
  if (n >= 4) {
    // Traffic class and flow label are read as one 32-bit word (tshark alike).
    a.Traffic_Class = ((b[off] & 0x0f) << 4) | (b[off + 1] >> 4);
    a.DSCP = ((b[off] & 0x0f) << 2) | (b[off + 1] >> 6);
    a.ECN = (b[off + 1] >> 4) & 3;
    a.Flow_Label = ((b[off + 1] & 0x0f) << 16) | u16(b, off + 2);
  }
  // The payload length shows only with the next header read (tshark alike).
  if (n > OFF.NEXT_HEADER) {
    a.Payload_Length = u16(b, off + OFF.PAYLOAD_LENGTH);
    a.Next_Header = b[off + OFF.NEXT_HEADER];
  }
  if (n > OFF.HOP_LIMIT) a.Hop_Limit = b[off + OFF.HOP_LIMIT];
  if (n >= OFF.DST) a.Source_Address = ipv6(b, off + OFF.SRC);
  return a;
}

/** Jumbo Payload length seen by decodeOptions (-1 none); reused, decoders do not interleave. */
const JUMBO = { value: -1 };

/** Fields of an extension header at `p` whose bytes stop at `lim` before its end `hEnd`. */
function partialExtension(
  f: Frame,
  h: Record<string, unknown>,
  type: number,
  p: number,
  hEnd: number,
  lim: number,
  layer: string,
): void {
  const b = f.bytes;
  switch (type) {
    case EXT.HOP_BY_HOP:
    case EXT.DEST_OPTS:
      h.Options = decodeOptions(f, p + 2, hEnd, layer, JUMBO, lim);
      JUMBO.value = -1;
      break;
    case EXT.ROUTING:
      decodeRouting(f, h, p, lim, layer, true);
      break;
    // A fragment header is read whole or not at all (tshark alike).
    case EXT.AH:
      if (lim >= p + AH.SEQ) h.SPI = u32(b, p + AH.SPI);
      if (lim >= p + AH.ICV) h.Sequence_Number = u32(b, p + AH.SEQ);
      break;
  }
}

/** Decodes an IPv6 packet at `off`; `end` is where the parent's data ends on the wire. */
export function decodeIpv6(f: Frame, off: number, end: number): void {
  const name = LAYER.IPV6;
  if (!f.has(off, 1)) {
    f.truncated(name, off);
    return;
  }
  let b = f.bytes;
  const version = b[off] >> 4;
  if (version !== 6) {
    // Like Wireshark: nothing after a bogus version is trusted; the bytes are Payload.
    f.layer(name, { Version: version });
    f.fault(name, `IP version ${version} is not 6`, off);
    f.rest(off, end);
    return;
  }
  if (!f.has(off, IPV6_HEADER_LEN)) {
    f.layer(name, partialIpv6(b, off, f.capEnd - off));
    f.truncated(name, off);
    return;
  }
  const plen = u16(b, off + OFF.PAYLOAD_LENGTH);
  let nh = b[off + OFF.NEXT_HEADER];
  const exts: unknown[] = [];
  const attrs: Record<string, unknown> = {
    Version: version,
    Traffic_Class: ((b[off] & 0x0f) << 4) | (b[off + 1] >> 4),
    DSCP: ((b[off] & 0x0f) << 2) | (b[off + 1] >> 6),
    ECN: (b[off + 1] >> 4) & 3,
    Flow_Label: ((b[off + 1] & 0x0f) << 16) | u16(b, off + 2),
    Payload_Length: plen,
    Next_Header: nh,
    Hop_Limit: b[off + OFF.HOP_LIMIT],
    Source_Address: ipv6(b, off + OFF.SRC),
    Destination_Address: ipv6(b, off + OFF.DST),
    Extension_Headers: exts,
  };
  f.layer(name, attrs);
  // Payload length 0 before a Hop-by-Hop header may announce a jumbogram: bound by the
  // frame until the Jumbo Payload option is seen.
  const maybeJumbo = plen === 0 && nh === EXT.HOP_BY_HOP;
  let pktEnd = maybeJumbo ? end : off + IPV6_HEADER_LEN + plen;
  if (pktEnd > end) {
    f.fault(
      name,
      `payload length ${plen} exceeds the frame (${end - off - IPV6_HEADER_LEN} bytes)`,
      off + OFF.PAYLOAD_LENGTH,
    );
    pktEnd = end;
  }
  const s = f.sum;
  s.newIp();
  s.ipVersion = 6;
  s.srcAddrOff = off + OFF.SRC;
  s.dstAddrOff = off + OFF.DST;
  s.ipBytes = pktEnd - off;
  let pseudoDst = off + OFF.DST;
  let fragmented = false;
  let reassembled = false;
  let p = off + IPV6_HEADER_LEN;
  const jumbo = JUMBO;
  jumbo.value = -1;
  // Each extension header consumes at least 8 bytes, so this ends.
  while (
    nh === EXT.HOP_BY_HOP || nh === EXT.ROUTING || nh === EXT.FRAGMENT || nh === EXT.DEST_OPTS ||
    nh === EXT.AH || nh === EXT.ESP
  ) {
    const type = nh;
    // The protocol as far as the chain was read: a header cut short ends it there.
    s.ipProto = type;
    const h: Record<string, unknown> = { Header: EXT_NAMES[type], Header_Type: type };
    exts.push(h); // listed even when cut short, as far as it could be read
    if (type === EXT.ESP) {
      if (!need(f, name, p, pktEnd, ESP.LEN, "ESP header")) {
        s.ipProto = type;
        return;
      }
      h.SPI = u32(b, p + ESP.SPI);
      h.Sequence_Number = u32(b, p + ESP.SEQ);
      s.ipProto = type;
      f.rest(p + ESP.LEN, pktEnd);
      return;
    }
    if (!need(f, name, p, pktEnd, 2, `${EXT_NAMES[type]} header`)) return;
    const hlen = type === EXT.FRAGMENT
      ? FRAG.LEN
      : type === EXT.AH
      ? (b[p + AH.LENGTH] + 2) * 4
      : (b[p + 1] + 1) * 8;
    const hEnd = p + hlen;
    h.Next_Header = b[p];
    h.Length = hlen;
    if (hEnd > pktEnd || hEnd > f.capEnd) {
      // Cut short: the fields that fit, then the fault or truncation.
      partialExtension(f, h, type, p, hEnd, Math.min(pktEnd, f.capEnd), name);
      need(f, name, p, pktEnd, hlen, `${EXT_NAMES[type]} header`);
      return;
    }
    nh = b[p];
    switch (type) {
      case EXT.HOP_BY_HOP:
      case EXT.DEST_OPTS:
        h.Options = decodeOptions(f, p + 2, hEnd, name, jumbo, hEnd, Math.min(pktEnd, f.capEnd));
        if (optionsAbort) return;
        if (type === EXT.HOP_BY_HOP && jumbo.value >= 0) {
          if (plen !== 0) f.fault(name, "jumbo payload option with a non-zero payload length", p);
          else {
            pktEnd = off + IPV6_HEADER_LEN + jumbo.value;
            if (pktEnd > end) {
              f.fault(name, `jumbo payload length ${jumbo.value} exceeds the frame`, p);
              pktEnd = end;
            }
            s.ipBytes = pktEnd - off;
          }
          jumbo.value = -1;
        } else if (type === EXT.HOP_BY_HOP && maybeJumbo && p === off + IPV6_HEADER_LEN) {
          f.fault(
            name,
            "payload length 0 without a jumbo payload option",
            off + OFF.PAYLOAD_LENGTH,
          );
        }
        break;
      case EXT.ROUTING: {
        const d = decodeRouting(f, h, p, hEnd, name);
        if (d >= 0) pseudoDst = d;
        break;
      }
      case EXT.FRAGMENT: {
        const of = u16(b, p + FRAG.OFFSET_FLAGS);
        const fragOff = of >> 3;
        const more = (of & 1) !== 0;
        const id = u32(b, p + FRAG.ID);
        h.Fragment_Offset = fragOff;
        h.More_Fragments = more;
        h.Identification = id;
        if (
          (fragOff !== 0 || more) && f.reassembly !== null && pktEnd <= f.capEnd &&
          pktEnd > hEnd
        ) {
          const note: Layer = {
            Identification: id,
            Offset: fragOff * 8,
            Length: pktEnd - hEnd,
            More_Fragments: more,
          };
          const key = datagramKey(b, 6, s.vlanId, off + OFF.SRC, off + OFF.DST, id, -1);
          const r = f.reassembly.add(
            f,
            name,
            key,
            fragOff * 8,
            hEnd,
            pktEnd - hEnd,
            more,
            true,
            note,
          );
          if (r.kind === "held") {
            f.layer(LAYER_FRAGMENT, note);
            s.fragment = true;
            s.ipProto = nh;
            setIpContext(f, true, pseudoDst);
            f.rest(hEnd, pktEnd);
            return;
          }
          if (r.kind === "complete") {
            f.layer(LAYER_REASSEMBLY, {
              Identification: id,
              Fragment_Count: r.fragments.length,
              Length: r.payload.length,
              Fragments: r.fragments,
            });
            s.heldWireBytes = r.heldWireBytes;
            // The unfragmentable part (up to this header) is kept; the walk goes on in
            // the reassembled payload with the fragment header's next header.
            const hl = switchToDatagram(f, off, p, r.payload);
            pseudoDst -= off;
            resetIpContext(f, pseudoDst);
            reassembled = true;
            b = f.bytes;
            off = 0;
            pktEnd = hl + r.payload.length;
            p = hl;
            continue;
          }
        }
        if ((fragOff !== 0 || more) && !reassembled) fragmented = true;
        // With reassembly on, a fragment it could not take (not all captured) is not
        // decoded further, even the first one (Wireshark 4.0's IPv6 alike).
        if (fragOff !== 0 || (more && f.reassembly !== null)) {
          s.fragment = true;
          s.ipProto = nh;
          setIpContext(f, true, pseudoDst);
          f.rest(hEnd, pktEnd);
          return;
        }
        break;
      }
      case EXT.AH:
        h.SPI = u32(b, p + AH.SPI);
        if (hlen >= AH.ICV) h.Sequence_Number = u32(b, p + AH.SEQ);
        if (hlen > AH.ICV) h.ICV = hex(b, p + AH.ICV, hEnd);
        break;
    }
    p = hEnd;
  }
  s.ipProto = nh;
  setIpContext(f, fragmented, pseudoDst);
  if (nh === EXT.NO_NEXT) {
    f.rest(p, pktEnd);
    return;
  }
  dispatch(IP_PROTO, nh, f, p, pktEnd);
}

register(ETHERTYPE, ETHERTYPE_IPV6, decodeIpv6);
