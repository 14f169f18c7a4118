/**
 * Link Layer Discovery Protocol (IEEE 802.1AB), EtherType 0x88cc.
 *
 * TLV header: 7-bit type, 9-bit length (of the value). The LLDPDU must start with
 * Chassis ID, Port ID and TTL in that order; as in Wireshark (packet-lldp.c) a PDU
 * that does not, or a TLV too short for its own fields, is recorded as a fault and
 * not decoded further. Decoding stops at
 * the End of LLDPDU TLV (type 0) or at the end of the frame.
 *
 * IDs are shown by subtype: MAC in colon form, network addresses as IPv4/IPv6
 * text, the "component" subtypes as hex, the others as text. Organisation-specific
 * TLVs are kept as {OUI, Subtype, Data (hex)} plus decoded fields for the common
 * IEEE 802.1 and 802.3 subtypes. The required attributes are always present (null
 * when the TLV is absent).
 */
import type { Frame } from "./frame.ts";
import { hex, ipv4, ipv6, mac } from "./format.ts";
import { asciiz } from "./l2_text.ts";
import { ETHERTYPE, register } from "./registry.ts";
import { LAYER } from "./record.ts";
import type { Layer } from "./record.ts";
import { ouiText } from "./llc.ts";

const TLV_HEADER_LEN = 2;
const TLV_TYPE_SHIFT = 9;
const TLV_LENGTH_MASK = 0x01ff;
export const ETHERTYPE_LLDP = 0x88cc;
/** Keep at most this many entries in each list attribute; more is recorded as a fault. */
const MAX_ITEMS = 64;

const TLV = {
  END: 0,
  CHASSIS_ID: 1,
  PORT_ID: 2,
  TTL: 3,
  PORT_DESCRIPTION: 4,
  SYSTEM_NAME: 5,
  SYSTEM_DESCRIPTION: 6,
  SYSTEM_CAPABILITIES: 7,
  MANAGEMENT_ADDRESS: 8,
  ORGANIZATION_SPECIFIC: 127,
} as const;

const TTL_LEN = 2;

const MANDATORY: readonly number[] = [TLV.CHASSIS_ID, TLV.PORT_ID, TLV.TTL];

/** Chassis ID subtypes (802.1AB 8.5.2.2). */
const CHASSIS = {
  COMPONENT: 1,
  ALIAS: 2,
  PORT_COMPONENT: 3,
  MAC: 4,
  NETWORK: 5,
  INTERFACE_NAME: 6,
  LOCAL: 7,
} as const;
/** Port ID subtypes (802.1AB 8.5.3.2). */
const PORT = { MAC: 3, NETWORK: 4 } as const;
/** IANA address family numbers. */
const AFI = { IPV4: 1, IPV6: 2, MAC: 6 } as const;
const MAC_LEN = 6;
const IPV4_LEN = 4;
const IPV6_LEN = 16;
/** Longest ID value (subtype byte + 255) Wireshark accepts. */
const MAX_ID_LEN = 256;

export const CAPABILITY_NAMES = [
  "Other",
  "Repeater",
  "Bridge",
  "WLAN_Access_Point",
  "Router",
  "Telephone",
  "DOCSIS_Cable_Device",
  "Station_Only",
  "C_VLAN_Component",
  "S_VLAN_Component",
  "Two_Port_MAC_Relay",
] as const;

/** System Capabilities value offsets. */
const CAP_OFF = { SUPPORTED: 0, ENABLED: 2 } as const;
const CAP_LEN = 4;
/** Management Address TLV: string length, subtype, address, then interface and OID. */
const MGMT_IF_LEN = 5;

const OUI_8021 = 0x0080c2;
const OUI_8023 = 0x00120f;
const ORG_HEADER_LEN = 4;

/** Formats an address of IANA family `afi` in b[off..off+len). */
function familyAddress(b: Uint8Array, afi: number, off: number, len: number): string {
  if (afi === AFI.IPV4 && len === IPV4_LEN) return ipv4(b, off);
  if (afi === AFI.IPV6 && len === IPV6_LEN) return ipv6(b, off);
  if (afi === AFI.MAC && len === MAC_LEN) return mac(b, off);
  return hex(b, off, off + len);
}

/**
 * Formats a Chassis ID (`port` false) or Port ID value at d..e (subtype byte first).
 * Returns null when the value is invalid for its subtype (Wireshark stops there).
 */
function idValue(b: Uint8Array, d: number, e: number, port: boolean): string | null {
  const sub = b[d];
  const len = e - d; // includes the subtype byte
  const macSub = port ? PORT.MAC : CHASSIS.MAC;
  const netSub = port ? PORT.NETWORK : CHASSIS.NETWORK;
  if (sub === macSub) return len === 1 + MAC_LEN ? mac(b, d + 1) : null;
  if (sub === netSub) {
    if (len < 2) return hex(b, d + 1, e);
    const afi = b[d + 1];
    if (afi === AFI.IPV4) return len === 2 + IPV4_LEN ? ipv4(b, d + 2) : null;
    if (afi === AFI.IPV6) return len === 2 + IPV6_LEN ? ipv6(b, d + 2) : null;
    return hex(b, d + 2, e);
  }
  if (len > MAX_ID_LEN) return null;
  // As Wireshark's fields: a Chassis ID that is not text (port component, reserved
  // subtypes) is bytes, shown as hex; every other Port ID is text.
  const chassisBytes = !port &&
    (sub === CHASSIS.PORT_COMPONENT || sub === 0 || sub > CHASSIS.LOCAL);
  if (chassisBytes) return hex(b, d + 1, e);
  return asciiz(b, d + 1, e);
}

function capabilities(v: number): Layer {
  const o: Layer = {};
  for (let i = 0; i < CAPABILITY_NAMES.length; i++) o[CAPABILITY_NAMES[i]] = (v & (1 << i)) !== 0;
  return o;
}

/**
 * Management Address TLV value at d..e: the entry and where its content ends (the OID
 * end), or null when the content does not fit the TLV.
 */
function managementAddress(f: Frame, d: number, e: number): [Layer, number] | null {
  const b = f.bytes;
  const strLen = b[d]; // subtype + address
  if (strLen < 1 || d + 1 + strLen + MGMT_IF_LEN + 1 > e) return null;
  const afi = b[d + 1];
  const a = d + 2;
  const aEnd = d + 1 + strLen;
  const ifOff = aEnd;
  const oidLen = b[ifOff + MGMT_IF_LEN];
  const oidOff = ifOff + MGMT_IF_LEN + 1;
  if (oidOff + oidLen > e) return null;
  const m: Layer = {
    Address: familyAddress(b, afi, a, aEnd - a),
    Address_Subtype: afi,
    Interface_Subtype: b[ifOff],
    Interface_Number: f.view.getUint32(ifOff + 1),
  };
  if (oidLen > 0) m.OID = hex(b, oidOff, oidOff + oidLen);
  return [m, oidOff + oidLen];
}

/** Adds decoded fields of common IEEE 802.1 / 802.3 organisation TLVs to `o`. */
function orgFields(f: Frame, o: Layer, oui: number, sub: number, d: number, e: number): void {
  const b = f.bytes;
  const v = f.view;
  const n = e - d;
  if (oui === OUI_8021) {
    if (sub === 1 && n >= 2) o.Port_VLAN_ID = v.getUint16(d);
    else if (sub === 2 && n >= 3) {
      o.PPVID_Flags = b[d];
      o.PPVID = v.getUint16(d + 1);
    } else if (sub === 3 && n >= 3) {
      o.VLAN_ID = v.getUint16(d);
      const nl = b[d + 2];
      if (d + 3 + nl <= e) o.VLAN_Name = asciiz(b, d + 3, d + 3 + nl);
    } else if (sub === 4 && n >= 1) {
      const pl = b[d];
      if (d + 1 + pl <= e) o.Protocol_Identity = hex(b, d + 1, d + 1 + pl);
    } else if (sub === 7 && n >= 5) {
      o.Aggregation_Status = b[d];
      o.Aggregated_Port_ID = v.getUint32(d + 1);
    }
  } else if (oui === OUI_8023) {
    if (sub === 1 && n >= 5) {
      o.Autonegotiation_Supported = (b[d] & 0x01) !== 0;
      o.Autonegotiation_Enabled = (b[d] & 0x02) !== 0;
      o.PMD_Capabilities = v.getUint16(d + 1);
      o.MAU_Type = v.getUint16(d + 3);
    } else if (sub === 2 && n >= 3) {
      o.MDI_Power_Support = b[d];
      o.PSE_Power_Pair = b[d + 1];
      o.Power_Class = b[d + 2];
    } else if (sub === 3 && n >= 5) {
      o.Aggregation_Status = b[d];
      o.Aggregated_Port_ID = v.getUint32(d + 1);
    } else if (sub === 4 && n >= 2) o.Maximum_Frame_Size = v.getUint16(d);
  }
}

/** Decodes an LLDPDU at `off` ending at `end`. */
export function decodeLldp(f: Frame, off: number, end: number): void {
  const lldp: Layer = f.layer(LAYER.LLDP, {
    Chassis_ID: null,
    Chassis_ID_Subtype: null,
    Port_ID: null,
    Port_ID_Subtype: null,
    TTL: null,
    Port_Description: null,
    System_Name: null,
    System_Description: null,
    System_Capabilities: null,
    Management_Addresses: null,
  });
  const v = f.view;
  const b = f.bytes;
  let mgmt: Layer[] | null = null;
  let org: Layer[] | null = null;
  let other: Layer[] | null = null;
  let index = 0;
  let p = off;
  while (p < end) {
    if (end - p < TLV_HEADER_LEN) {
      f.fault(LAYER.LLDP, "trailing byte shorter than a TLV header", p);
      return;
    }
    if (!f.has(p, TLV_HEADER_LEN)) {
      f.truncated(LAYER.LLDP, p);
      return;
    }
    const h = v.getUint16(p);
    const type = h >>> TLV_TYPE_SHIFT;
    const len = h & TLV_LENGTH_MASK;
    const d = p + TLV_HEADER_LEN;
    const e = d + len;
    if (e > end) {
      f.fault(LAYER.LLDP, `TLV ${type} length ${len} exceeds the frame`, p);
      return;
    }
    if (e > f.capEnd) {
      f.truncated(LAYER.LLDP, p);
      return;
    }
    // The first three TLVs are mandatory and ordered (802.1AB 8.2).
    if (index < MANDATORY.length && type !== MANDATORY[index]) {
      f.fault(LAYER.LLDP, `TLV ${index + 1} has type ${type}, expected ${MANDATORY[index]}`, p);
      return;
    }
    index++;
    switch (type) {
      case TLV.END:
        return;
      case TLV.CHASSIS_ID:
      case TLV.PORT_ID: {
        const port = type === TLV.PORT_ID;
        // A repeated ID TLV is checked like the first (Wireshark stops at an invalid one)
        // but the first one stands.
        const first = index <= MANDATORY.length;
        if (first && len >= 2) lldp[port ? "Port_ID_Subtype" : "Chassis_ID_Subtype"] = b[d];
        const id = len >= 2 ? idValue(b, d, e, port) : null;
        if (id === null) {
          f.fault(LAYER.LLDP, `invalid ${port ? "Port" : "Chassis"} ID length ${len}`, p);
          return;
        }
        if (first) lldp[port ? "Port_ID" : "Chassis_ID"] = id;
        break;
      }
      case TLV.TTL:
        // Wireshark reads two bytes and moves on past them whatever a longer length says;
        // a shorter one is malformed. A repeated TTL TLV is checked, the first one stands.
        if (len < TTL_LEN) {
          f.fault(LAYER.LLDP, `TTL length ${len} below 2`, p);
          return;
        }
        lldp.TTL ??= v.getUint16(d);
        if (len !== TTL_LEN) f.fault(LAYER.LLDP, `TTL length ${len}, expected 2`, p);
        p = d + TTL_LEN;
        continue;
      case TLV.PORT_DESCRIPTION:
        lldp.Port_Description ??= asciiz(b, d, e);
        break;
      case TLV.SYSTEM_NAME:
        lldp.System_Name ??= asciiz(b, d, e);
        break;
      case TLV.SYSTEM_DESCRIPTION:
        lldp.System_Description ??= asciiz(b, d, e);
        break;
      case TLV.SYSTEM_CAPABILITIES:
        if (len < CAP_LEN) {
          f.fault(LAYER.LLDP, `System Capabilities length ${len} below 4`, p);
          return;
        }
        lldp.System_Capabilities ??= capabilities(v.getUint16(d + CAP_OFF.SUPPORTED));
        lldp.Enabled_Capabilities ??= capabilities(v.getUint16(d + CAP_OFF.ENABLED));
        // Like TTL: Wireshark reads the 4 bytes and goes on after them.
        if (len !== CAP_LEN) {
          f.fault(LAYER.LLDP, `System Capabilities length ${len}, expected 4`, p);
          p = d + CAP_LEN;
          continue;
        }
        break;
      case TLV.MANAGEMENT_ADDRESS: {
        const parsed = managementAddress(f, d, e);
        if (parsed === null) {
          f.fault(LAYER.LLDP, `invalid Management Address TLV length ${len}`, p);
          return;
        }
        const [m, contentEnd] = parsed;
        if (mgmt === null) lldp.Management_Addresses = mgmt = [];
        if (mgmt.length < MAX_ITEMS) mgmt.push(m);
        // Wireshark goes on after the content (the OID), whatever the TLV length says.
        if (contentEnd !== e) {
          f.fault(LAYER.LLDP, `Management Address TLV length ${len}, content ${contentEnd - d}`, p);
          p = contentEnd;
          continue;
        }
        break;
      }
      case TLV.ORGANIZATION_SPECIFIC: {
        if (len < ORG_HEADER_LEN) {
          f.fault(LAYER.LLDP, `organisation-specific TLV length ${len} below 4`, p);
          return;
        }
        if (org === null) lldp.Organization_Specific = org = [];
        if (org.length >= MAX_ITEMS) break;
        const oui = (b[d] << 16) | (b[d + 1] << 8) | b[d + 2];
        const sub = b[d + 3];
        const o: Layer = { OUI: ouiText(oui), Subtype: sub, Data: hex(b, d + 4, e) };
        orgFields(f, o, oui, sub, d + ORG_HEADER_LEN, e);
        org.push(o);
        break;
      }
      default:
        if (other === null) lldp.Other_TLVs = other = [];
        if (other.length < MAX_ITEMS) other.push({ Type: type, Length: len });
    }
    p = e;
  }
  if (index < MANDATORY.length && p >= end) {
    f.fault(LAYER.LLDP, "LLDPDU ends before Chassis ID, Port ID and TTL", p);
  }
}

register(ETHERTYPE, ETHERTYPE_LLDP, decodeLldp);
