/**
 * Spanning Tree BPDUs: 802.1D configuration and TCN, 802.1w RST, 802.1s/802.1Q MST
 * (with MSTI configuration messages), and Cisco PVST+/Rapid-PVST+ (SNAP 00000c:010b,
 * followed by TLVs carrying the originating VLAN).
 *
 * Semantics follow Wireshark's packet-bpdu.c: the BPDU type selects the layout
 * (0x00 configuration, 0x02 RST/MST, 0x80 TCN); an MST extension is present when
 * the version is >= 3, the Version 1 Length is 0 and the BPDU is at least 102
 * bytes; bridge identifiers are split 4/12 bits into priority and system id
 * extension. Frames to the GARP group addresses (01:80:c2:00:00:0d, 01:80:c2:00:00:2x)
 * are GARP, not STP, and end as a Payload.
 */
import type { Frame } from "./frame.ts";
import { hex, mac } from "./format.ts";
import { asciiz } from "./l2_text.ts";
import { ETHERTYPE, LLC_SAP, register, SNAP } from "./registry.ts";
import { LAYER } from "./record.ts";
import type { Layer } from "./record.ts";
import { shortHeader, snapKey } from "./llc.ts";

/** Offsets in a BPDU (IEEE 802.1Q-2018 clause 14). */
const OFF = {
  PROTOCOL_ID: 0,
  VERSION: 2,
  TYPE: 3,
  FLAGS: 4,
  ROOT_ID: 5,
  ROOT_PATH_COST: 13,
  BRIDGE_ID: 17,
  PORT_ID: 25,
  MESSAGE_AGE: 27,
  MAX_AGE: 29,
  HELLO_TIME: 31,
  FORWARD_DELAY: 33,
  VERSION_1_LENGTH: 35,
  VERSION_3_LENGTH: 36,
  MST_CONFIG_FORMAT_SELECTOR: 38,
  MST_CONFIG_NAME: 39,
  MST_CONFIG_REVISION: 71,
  MST_CONFIG_DIGEST: 73,
  CIST_INTERNAL_ROOT_PATH_COST: 89,
  CIST_BRIDGE_ID: 93,
  CIST_REMAINING_HOPS: 101,
  MSTI: 102,
  /** Cisco PVST+ TLVs follow the configuration / RST BPDU here. */
  PVST_TLV: 36,
} as const;
/** MSTI configuration message (802.1s). */
const MSTI_OFF = {
  FLAGS: 0,
  REGIONAL_ROOT: 1,
  INTERNAL_ROOT_PATH_COST: 9,
  BRIDGE_PRIORITY: 13,
  PORT_PRIORITY: 14,
  REMAINING_HOPS: 15,
} as const;
/** Cisco pre-standard MST layout (Wireshark's "alternative" MSTI format). */
const ALT_OFF = { CIST_BRIDGE_ID: 89, CIST_INTERNAL_ROOT_PATH_COST: 97 } as const;
const ALT_MSTI_OFF = {
  MSTID: 0,
  FLAGS: 2,
  REGIONAL_ROOT: 3,
  INTERNAL_ROOT_PATH_COST: 11,
  BRIDGE_ID: 15,
  PORT_ID: 23,
  REMAINING_HOPS: 25,
} as const;

export const BPDU_HEADER_LEN = 4;
export const RST_BPDU_LEN = 36;
export const MST_MIN_LEN = 102;
const MST_BPDU_SIZE = 38;
const VERSION_3_STATIC_LEN = 64;
const MSTI_LEN = 16;
const ALT_MSTI_LEN = 26;
const MST_CONFIG_NAME_LEN = 32;
const MST_CONFIG_DIGEST_LEN = 16;
const PVST_TLV_HEADER_LEN = 4;
const PVST_TLV_ORIG_VLAN = 0;
/** Timers are in units of 1/256 s. */
const TIMER_UNIT = 256;
/** At most this many PVST TLVs / MSTIs are kept per BPDU (each consumes bytes anyway). */
const MAX_ITEMS = 64;

export const BPDU_TYPE_CONFIG = 0x00;
export const BPDU_TYPE_RST = 0x02;
export const BPDU_TYPE_TCN = 0x80;
export const SAP_STP = 0x42;
export const OUI_CISCO = 0x00000c;
export const PID_PVST = 0x010b;
/** Cisco root-link-query BPDUs (BackboneFast), dissected as BPDUs by Wireshark. */
export const PID_RLQ_REQUEST = 0x0108;
export const PID_RLQ_RESPONSE = 0x0109;
/** Cisco "VLAN Bridge" BPDUs, also dissected as BPDUs by Wireshark. */
export const PID_VLAN_BRIDGE = 0x010c;
/** EtherType 0x8181, registered for BPDUs in Wireshark. */
export const ETHERTYPE_STP = 0x8181;
export const OUI_IEEE_802_1 = 0x0080c2;
export const PID_802_1_BPDU = 0x000e;

const FLAG = {
  TCA: 0x80,
  AGREEMENT: 0x40,
  FORWARDING: 0x20,
  LEARNING: 0x10,
  ROLE_MASK: 0x0c,
  ROLE_SHIFT: 2,
  PROPOSAL: 0x02,
  TC: 0x01,
} as const;
const PORT_ROLES = ["Unknown", "Alternate or Backup", "Root", "Designated"] as const;

/** Bridge identifier text: `priority/system-id-extension/mac`, e.g. `32768/1/00:19:06:ea:b8:80`. */
export function bridgeId(f: Frame, off: number): string {
  const p = f.view.getUint16(off);
  return (p & 0xf000) + "/" + (p & 0x0fff) + "/" + mac(f.bytes, off + 2);
}

function configFlags(v: number): Layer {
  return { Topology_Change_Ack: (v & FLAG.TCA) !== 0, Topology_Change: (v & FLAG.TC) !== 0 };
}

function rstFlags(v: number): Layer {
  return {
    Topology_Change_Ack: (v & FLAG.TCA) !== 0,
    Agreement: (v & FLAG.AGREEMENT) !== 0,
    Forwarding: (v & FLAG.FORWARDING) !== 0,
    Learning: (v & FLAG.LEARNING) !== 0,
    Proposal: (v & FLAG.PROPOSAL) !== 0,
    Topology_Change: (v & FLAG.TC) !== 0,
  };
}

function portRole(v: number): string {
  return PORT_ROLES[(v & FLAG.ROLE_MASK) >>> FLAG.ROLE_SHIFT];
}

/** True for the GARP group addresses Wireshark hands to GMRP/GVRP instead of STP. */
function isGarpDestination(f: Frame): boolean {
  const eth = f.rec[LAYER.ETHERNET] as Layer | undefined;
  const dst = eth?.Destination_Address;
  if (typeof dst !== "string" || !dst.startsWith("01:80:c2:00:00:")) return false;
  const last = dst.slice(15);
  return last === "0d" || last[0] === "2";
}

/** Wireshark reads flags, root ID, root path cost and port ID before showing any field. */
const EARLY_READ_END = OFF.PORT_ID + 2;
const TIMERS = [
  ["Message_Age", OFF.MESSAGE_AGE],
  ["Max_Age", OFF.MAX_AGE],
  ["Hello_Time", OFF.HELLO_TIME],
  ["Forward_Delay", OFF.FORWARD_DELAY],
] as const;

function decodeBpdu(f: Frame, off: number, end: number, pvst: boolean): void {
  if (isGarpDestination(f)) {
    f.rest(off, end, "GARP");
    return;
  }
  const avail = f.limit(end) - off;
  if (avail < BPDU_HEADER_LEN) {
    shortHeader(f, LAYER.STP, off, end, BPDU_HEADER_LEN);
    return;
  }
  const v = f.view;
  const b = f.bytes;
  const version = b[off + OFF.VERSION];
  const type = b[off + OFF.TYPE];
  const known = type === BPDU_TYPE_CONFIG || type === BPDU_TYPE_RST;
  if (known && avail < EARLY_READ_END) {
    // Like Wireshark, which shows no field of such a BPDU: the layer, empty, and why.
    f.layer(LAYER.STP, {});
    shortHeader(f, LAYER.STP, off, end, EARLY_READ_END);
    return;
  }
  const stp: Layer = f.layer(LAYER.STP, {
    Protocol_ID: v.getUint16(off + OFF.PROTOCOL_ID),
    Protocol_Version: version,
    BPDU_Type: type,
  });
  if (type === BPDU_TYPE_TCN) return;
  if (!known) {
    f.fault(LAYER.STP, `unknown BPDU type 0x${type.toString(16).padStart(2, "0")}`, off + OFF.TYPE);
    f.rest(off + BPDU_HEADER_LEN, end);
    return;
  }
  const flags = b[off + OFF.FLAGS];
  const rst = type === BPDU_TYPE_RST;
  stp.Flags = rst ? rstFlags(flags) : configFlags(flags);
  if (rst) stp.Port_Role = portRole(flags);
  stp.Root_ID = bridgeId(f, off + OFF.ROOT_ID);
  stp.Root_Path_Cost = v.getUint32(off + OFF.ROOT_PATH_COST);
  stp.Bridge_ID = bridgeId(f, off + OFF.BRIDGE_ID);
  stp.Port_ID = v.getUint16(off + OFF.PORT_ID);
  for (const [name, at] of TIMERS) {
    if (avail < at + 2) {
      shortHeader(f, LAYER.STP, off, end, at + 2);
      return;
    }
    stp[name] = v.getUint16(off + at) / TIMER_UNIT;
  }
  if (!rst) {
    if (pvst) decodePvstTlvs(f, stp, off, end);
    return;
  }
  if (avail < RST_BPDU_LEN) {
    shortHeader(f, LAYER.STP, off, end, RST_BPDU_LEN);
    return;
  }
  const v1len = b[off + OFF.VERSION_1_LENGTH];
  stp.Version_1_Length = v1len;
  if (version >= 3 && v1len === 0 && end - off >= MST_MIN_LEN) {
    decodeMst(f, stp, off, end);
  } else if (pvst) decodePvstTlvs(f, stp, off, end);
}

/** The MST extension (CIST fields and the MSTI configuration messages). */
function decodeMst(f: Frame, stp: Layer, off: number, end: number): void {
  const v = f.view;
  const b = f.bytes;
  const avail = f.limit(end) - off;
  if (avail < OFF.MST_CONFIG_FORMAT_SELECTOR + 1) {
    f.truncated(LAYER.STP, off + OFF.VERSION_3_LENGTH);
    return;
  }
  const v3len = v.getUint16(off + OFF.VERSION_3_LENGTH);
  const selector = b[off + OFF.MST_CONFIG_FORMAT_SELECTOR];
  let alt = false;
  let mstiBytes: number;
  if (v3len !== 0) {
    // Cisco's C3550 sent the length in messages when it is below the static part.
    mstiBytes = v3len >= VERSION_3_STATIC_LEN ? v3len - VERSION_3_STATIC_LEN : v3len * MSTI_LEN;
  } else if (end - off === selector + MST_BPDU_SIZE + 1) {
    alt = true; // pre-standard Cisco layout: the selector byte holds the length
    mstiBytes = selector - VERSION_3_STATIC_LEN;
  } else mstiBytes = 0;
  const mst: Layer = { Version_3_Length: v3len, Config_Format_Selector: selector };
  stp.MST = mst;
  // The fixed part field by field, so a cut BPDU keeps what it has (as in Wireshark).
  // With a Version 3 Length of 0 and no pre-standard layout, where the CIST cost and
  // bridge are is unknown: Wireshark shows neither, nor do we.
  const cist = v3len !== 0 || alt;
  const cost = alt ? ALT_OFF.CIST_INTERNAL_ROOT_PATH_COST : OFF.CIST_INTERNAL_ROOT_PATH_COST;
  const bridge = alt ? ALT_OFF.CIST_BRIDGE_ID : OFF.CIST_BRIDGE_ID;
  const fields: [string, number, number, (at: number) => unknown][] = [
    [
      "Config_Name",
      OFF.MST_CONFIG_NAME,
      MST_CONFIG_NAME_LEN,
      (at) => asciiz(b, at, at + MST_CONFIG_NAME_LEN),
    ],
    ["Config_Revision", OFF.MST_CONFIG_REVISION, 2, (at) => v.getUint16(at)],
    [
      "Config_Digest",
      OFF.MST_CONFIG_DIGEST,
      MST_CONFIG_DIGEST_LEN,
      (at) => hex(b, at, at + MST_CONFIG_DIGEST_LEN),
    ],
  ];
  if (cist) {
    const costField: [string, number, number, (at: number) => unknown] = [
      "CIST_Internal_Root_Path_Cost",
      cost,
      4,
      (at) => v.getUint32(at),
    ];
    const bridgeField: [string, number, number, (at: number) => unknown] = [
      "CIST_Bridge_ID",
      bridge,
      8,
      (at) => bridgeId(f, at),
    ];
    fields.push(...(alt ? [bridgeField, costField] : [costField, bridgeField]));
  }
  fields.push(["CIST_Remaining_Hops", OFF.CIST_REMAINING_HOPS, 1, (at) => b[at]]);
  for (const [name, at, len, read] of fields) {
    if (avail < at + len) {
      shortHeader(f, LAYER.STP, off, end, at + len);
      return;
    }
    mst[name] = read(off + at);
  }
  mst.MSTIs = [] as Layer[];
  const list = mst.MSTIs as Layer[];
  const size = alt ? ALT_MSTI_LEN : MSTI_LEN;
  // An MST (version 3) BPDU ends where its Version 3 Length says (Wireshark).
  const version = b[off + OFF.VERSION];
  const bpduEnd = version === 3 ? Math.min(end, off + OFF.MSTI + mstiBytes) : end;
  let p = off + OFF.MSTI;
  for (let left = mstiBytes; left > 0; left -= size, p += size) {
    if (p + size > bpduEnd) {
      f.fault(LAYER.STP, "MSTI beyond the end of the BPDU", p);
      return;
    }
    if (!f.has(p, size)) {
      f.truncated(LAYER.STP, p);
      return;
    }
    if (list.length >= MAX_ITEMS) {
      f.fault(LAYER.STP, `more than ${MAX_ITEMS} MSTIs`, p);
      return;
    }
    list.push(alt ? altMsti(f, p) : msti(f, p));
  }
}

function msti(f: Frame, p: number): Layer {
  const b = f.bytes;
  const flags = b[p + MSTI_OFF.FLAGS];
  const rr = f.view.getUint16(p + MSTI_OFF.REGIONAL_ROOT);
  return {
    MSTID: rr & 0x0fff,
    Flags: rstFlags(flags),
    Port_Role: portRole(flags),
    Regional_Root_ID: bridgeId(f, p + MSTI_OFF.REGIONAL_ROOT),
    Internal_Root_Path_Cost: f.view.getUint32(p + MSTI_OFF.INTERNAL_ROOT_PATH_COST),
    Bridge_Priority: b[p + MSTI_OFF.BRIDGE_PRIORITY] >>> 4,
    Port_Priority: b[p + MSTI_OFF.PORT_PRIORITY] >>> 4,
    Remaining_Hops: b[p + MSTI_OFF.REMAINING_HOPS],
  };
}

function altMsti(f: Frame, p: number): Layer {
  const flags = f.bytes[p + ALT_MSTI_OFF.FLAGS];
  return {
    MSTID: f.view.getUint16(p + ALT_MSTI_OFF.MSTID),
    Flags: rstFlags(flags),
    Port_Role: portRole(flags),
    Regional_Root_ID: bridgeId(f, p + ALT_MSTI_OFF.REGIONAL_ROOT),
    Internal_Root_Path_Cost: f.view.getUint32(p + ALT_MSTI_OFF.INTERNAL_ROOT_PATH_COST),
    Bridge_ID: bridgeId(f, p + ALT_MSTI_OFF.BRIDGE_ID),
    Port_ID: f.view.getUint16(p + ALT_MSTI_OFF.PORT_ID),
    Remaining_Hops: f.bytes[p + ALT_MSTI_OFF.REMAINING_HOPS],
  };
}

/** Cisco (R)PVST+ TLVs after the BPDU: type 0 length 2 is the originating VLAN. */
function decodePvstTlvs(f: Frame, stp: Layer, off: number, end: number): void {
  let p = off + OFF.PVST_TLV;
  let count = 0;
  while (end - p >= PVST_TLV_HEADER_LEN) {
    if (!f.has(p, PVST_TLV_HEADER_LEN)) {
      f.truncated(LAYER.STP, p);
      return;
    }
    const type = f.view.getUint16(p);
    const len = f.view.getUint16(p + 2);
    if (end - p - PVST_TLV_HEADER_LEN < len) {
      f.fault(LAYER.STP, `PVST+ TLV length ${len} exceeds the BPDU`, p + 2);
      return;
    }
    p += PVST_TLV_HEADER_LEN;
    if (type === PVST_TLV_ORIG_VLAN && len === 2) {
      if (!f.has(p, 2)) {
        f.truncated(LAYER.STP, p);
        return;
      }
      stp.Originating_VLAN = f.view.getUint16(p);
    }
    p += len;
    if (++count >= MAX_ITEMS) return;
  }
  if (stp.Originating_VLAN === undefined) {
    f.fault(LAYER.STP, "PVST+ BPDU without originating VLAN TLV", off + OFF.PVST_TLV);
  }
}

/** STP over LLC SAP 0x42 and over SNAP 0080c2:000e. */
export function decodeStp(f: Frame, off: number, end: number): void {
  decodeBpdu(f, off, end, false);
}

/** Cisco PVST+ / Rapid-PVST+ over SNAP 00000c:010b. */
export function decodePvst(f: Frame, off: number, end: number): void {
  decodeBpdu(f, off, end, true);
}

register(LLC_SAP, SAP_STP, decodeStp);
register(ETHERTYPE, ETHERTYPE_STP, decodeStp);
register(SNAP, snapKey(OUI_CISCO, PID_RLQ_REQUEST), decodeStp);
register(SNAP, snapKey(OUI_CISCO, PID_RLQ_RESPONSE), decodeStp);
register(SNAP, snapKey(OUI_CISCO, PID_VLAN_BRIDGE), decodeStp);
register(SNAP, snapKey(OUI_IEEE_802_1, PID_802_1_BPDU), decodeStp);
register(SNAP, snapKey(OUI_CISCO, PID_PVST), decodePvst);
