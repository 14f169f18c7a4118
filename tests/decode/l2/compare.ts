/**
 * The layer-2 comparison with tshark: which tshark field matches which record
 * attribute (Ethernet, ISL-inner Ethernet, 802.1Q/802.1ad, LLC, SNAP, STP incl. MST,
 * ARP, CDP, LLDP), and a function listing every disagreement for a capture file.
 */
import { tsharkFields } from "../../helpers/tshark.ts";
import { asciiz } from "../../../src/decode/l2_text.ts";
import type { PacketRecord } from "../../../src/decode/record.ts";

type Rec = Record<string, unknown>;

/** One compared quantity: a tshark field and how to read the same thing from a record. */
interface Check {
  field: string;
  /** tshark cell (all occurrences joined by ",") -> normalised text, "" when absent. */
  fromTshark?: (cell: string) => string;
  /** Like fromTshark, when the normalisation depends on the record. */
  fromTsharkRec?: (cell: string, rec: PacketRecord) => string;
  /**
   * A TLV that may occur more than once: tshark lists every occurrence joined by ","
   * (strings may contain commas too), netmon keeps the first; the record's value must
   * then be the start of the list.
   */
  repeated?: boolean;
  /** record -> normalised text, "" when absent. */
  fromRecord: (rec: PacketRecord) => string;
}

const num = (cell: string) =>
  cell === "" ? "" : cell.split(",").map((c) => String(Number(c))).join(",");
const str = (v: unknown) => v === undefined || v === null ? "" : String(v);

/** All occurrences of a layer: `name`, `name_2`, ... in record order. */
function layers(rec: PacketRecord, name: string): Rec[] {
  const out: Rec[] = [];
  for (const [k, v] of Object.entries(rec)) {
    if (k === name || k.startsWith(name + "_")) out.push(v as Rec);
  }
  return out;
}

function first(rec: PacketRecord, name: string): Rec | undefined {
  return rec[name] as Rec | undefined;
}

/** Values of attribute `attr` across all occurrences of layer `name`, joined by ",". */
function all(rec: PacketRecord, name: string, attr: string, fmt = str): string {
  return layers(rec, name).filter((l) => l[attr] !== undefined).map((l) => fmt(l[attr])).join(",");
}

function attr(rec: PacketRecord, name: string, a: string, fmt = str): string {
  const l = first(rec, name);
  return l === undefined || l[a] === undefined || l[a] === null ? "" : fmt(l[a]);
}

/** Tag values of the 802.1Q layers (tshark "vlan") and of the 802.1ad ones (tshark "ieee8021ad"). */
const tag = (name: string, a: string): (rec: PacketRecord) => string => (rec) => all(rec, name, a);

const STP_FLAG_BITS: Record<string, number> = {
  Topology_Change_Ack: 0x80,
  Agreement: 0x40,
  Forwarding: 0x20,
  Learning: 0x10,
  Proposal: 0x02,
  Topology_Change: 0x01,
};
const PORT_ROLES = ["Unknown", "Alternate or Backup", "Root", "Designated"];

/** STP.Flags object (+ Port_Role) back to the flags byte; config BPDUs only know TCA and TC. */
function stpFlagsByte(stp: Rec): number {
  const flags = stp.Flags as Record<string, boolean>;
  let v = 0;
  for (const [k, bit] of Object.entries(STP_FLAG_BITS)) if (flags[k]) v |= bit;
  if (typeof stp.Port_Role === "string") v |= PORT_ROLES.indexOf(stp.Port_Role) << 2;
  return v;
}

/** Bridge ID text "prio/ext/mac" -> one of its parts. */
const idPart = (i: number) => (v: unknown) => {
  const p = String(v).split("/");
  return i === 2 ? p.slice(2).join("/") : String(Number(p[i]));
};

/** tshark's hex (with or without colons) read as netmon reads ASCII text fields. */
function asciiOfHex(c: string): string {
  const h = c.replaceAll(":", "");
  const bytes = new Uint8Array(h.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return asciiz(bytes, 0, bytes.length);
}

/** The SNAP PID fields tshark uses per OUI (Cisco's is llc.cisco_pid, EtherType OUIs llc.type). */
const PID_FIELDS = [
  "llc.pid",
  "llc.type",
  "llc.cisco_pid",
  "llc.nortel_pid",
  "llc.foundry_pid",
  "llc.extreme_pid",
  "llc.force10_pid",
  "llc.hpteam_pid",
  "llc.wlccp_pid",
  "llc.iana_pid",
  "llc.apple_atalk_pid",
  "llc.apple_awdl_pid",
  "llc.cimetrics_pid",
  "llc.bluetooth_pid",
];

/** tshark -T fields escapes \b \t \n \f \r C-style (other control characters stay raw). */
const TSHARK_ESCAPES: Record<string, string> = {
  "\b": "\\b",
  "\t": "\\t",
  "\n": "\\n",
  "\f": "\\f",
  "\r": "\\r",
};
function escapeLikeTshark(s: string): string {
  return s.replace(/[\b\t\n\f\r]/g, (c) => TSHARK_ESCAPES[c]);
}

/** A text attribute, escaped as tshark prints it. */
const textAttr = (name: string, a: string) => (r: PacketRecord) =>
  attr(r, name, a, (v) => escapeLikeTshark(String(v)));

const CHECKS: Check[] = [
  // Every Ethernet header (bridged over SNAP, inside ISL) is an occurrence of eth.*.
  { field: "eth.src", fromRecord: (r) => all(r, "Ethernet", "Source_Address") },
  { field: "eth.dst", fromRecord: (r) => all(r, "Ethernet", "Destination_Address") },
  { field: "eth.len", fromTshark: num, fromRecord: (r) => all(r, "Ethernet", "Length") },
  { field: "eth.type", fromTshark: num, fromRecord: (r) => all(r, "Ethernet", "EtherType") },
  { field: "vlan.id", fromTshark: num, fromRecord: tag("802.1Q", "VLAN_ID") },
  { field: "vlan.priority", fromTshark: num, fromRecord: tag("802.1Q", "Priority") },
  { field: "vlan.dei", fromTshark: num, fromRecord: tag("802.1Q", "DEI") },
  { field: "vlan.etype", fromTshark: num, fromRecord: tag("802.1Q", "EtherType") },
  { field: "vlan.len", fromTshark: num, fromRecord: tag("802.1Q", "Length") },
  { field: "ieee8021ad.id", fromTshark: num, fromRecord: tag("802.1ad", "VLAN_ID") },
  { field: "ieee8021ad.priority", fromTshark: num, fromRecord: tag("802.1ad", "Priority") },
  { field: "ieee8021ad.dei", fromTshark: num, fromRecord: tag("802.1ad", "DEI") },
  { field: "llc.dsap", fromTshark: num, fromRecord: (r) => all(r, "LLC", "DSAP") },
  { field: "llc.ssap", fromTshark: num, fromRecord: (r) => all(r, "LLC", "SSAP") },
  { field: "llc.control", fromTshark: num, fromRecord: (r) => all(r, "LLC", "Control") },
  {
    field: "llc.oui",
    fromTshark: num,
    fromRecord: (r) =>
      all(r, "SNAP", "OUI", (v) => String(parseInt(String(v).replaceAll(":", ""), 16))),
  },
  { field: "stp.protocol", fromTshark: num, fromRecord: (r) => attr(r, "STP", "Protocol_ID") },
  { field: "stp.version", fromTshark: num, fromRecord: (r) => attr(r, "STP", "Protocol_Version") },
  { field: "stp.type", fromTshark: num, fromRecord: (r) => attr(r, "STP", "BPDU_Type") },
  {
    field: "stp.flags",
    fromTshark: num,
    fromRecord: (r) => {
      const stp = first(r, "STP");
      return stp?.Flags === undefined ? "" : String(stpFlagsByte(stp));
    },
    // configuration BPDUs define (and netmon keeps) only TCA and TC
    fromTsharkRec: (cell, r) => {
      const v = Number(cell);
      return cell === "" ? "" : String(first(r, "STP")?.BPDU_Type === 0 ? v & 0x81 : v);
    },
  },
  {
    field: "stp.root.prio",
    fromTshark: num,
    fromRecord: (r) => attr(r, "STP", "Root_ID", idPart(0)),
  },
  {
    field: "stp.root.ext",
    fromTshark: num,
    fromRecord: (r) => attr(r, "STP", "Root_ID", idPart(1)),
  },
  { field: "stp.root.hw", fromRecord: (r) => attr(r, "STP", "Root_ID", idPart(2)) },
  { field: "stp.root.cost", fromTshark: num, fromRecord: (r) => attr(r, "STP", "Root_Path_Cost") },
  {
    field: "stp.bridge.prio",
    fromTshark: num,
    fromRecord: (r) => attr(r, "STP", "Bridge_ID", idPart(0)),
  },
  {
    field: "stp.bridge.ext",
    fromTshark: num,
    fromRecord: (r) => attr(r, "STP", "Bridge_ID", idPart(1)),
  },
  { field: "stp.bridge.hw", fromRecord: (r) => attr(r, "STP", "Bridge_ID", idPart(2)) },
  { field: "stp.port", fromTshark: num, fromRecord: (r) => attr(r, "STP", "Port_ID") },
  { field: "stp.msg_age", fromTshark: num, fromRecord: (r) => attr(r, "STP", "Message_Age") },
  { field: "stp.max_age", fromTshark: num, fromRecord: (r) => attr(r, "STP", "Max_Age") },
  { field: "stp.hello", fromTshark: num, fromRecord: (r) => attr(r, "STP", "Hello_Time") },
  { field: "stp.forward", fromTshark: num, fromRecord: (r) => attr(r, "STP", "Forward_Delay") },
  {
    field: "stp.version_1_length",
    fromTshark: num,
    fromRecord: (r) => attr(r, "STP", "Version_1_Length"),
  },
  {
    field: "stp.pvst.origvlan",
    fromTshark: num,
    fromRecord: (r) => attr(r, "STP", "Originating_VLAN"),
  },
  {
    field: "mstp.config_name",
    fromRecord: (r) => {
      const name = (first(r, "STP")?.MST as Rec | undefined)?.Config_Name;
      return name === undefined ? "" : escapeLikeTshark(String(name));
    },
  },
  {
    field: "mstp.cist_bridge.hw",
    fromRecord: (r) => {
      const mst = first(r, "STP")?.MST as Rec | undefined;
      return mst === undefined ? "" : idPart(2)(mst.CIST_Bridge_ID);
    },
  },
  {
    field: "mstp.cist_internal_root_path_cost",
    fromTshark: num,
    fromRecord: (r) => str((first(r, "STP")?.MST as Rec | undefined)?.CIST_Internal_Root_Path_Cost),
  },
  {
    field: "mstp.msti.msti_id",
    fromTshark: num,
    fromRecord: (r) => msti(r, "MSTID"),
  },
  {
    field: "mstp.msti.flags",
    fromTshark: num,
    fromRecord: mstiFlags,
  },
  { field: "mstp.msti.root.hw", fromRecord: (r) => msti(r, "Regional_Root_ID", idPart(2)) },
  {
    field: "mstp.msti.root_cost",
    fromTshark: num,
    fromRecord: (r) => msti(r, "Internal_Root_Path_Cost"),
  },
  {
    field: "mstp.msti.remaining_hops",
    fromTshark: num,
    fromRecord: (r) => msti(r, "Remaining_Hops"),
  },
  { field: "arp.hw.type", fromTshark: num, fromRecord: (r) => attr(r, "ARP", "Hardware_Type") },
  { field: "arp.proto.type", fromTshark: num, fromRecord: (r) => attr(r, "ARP", "Protocol_Type") },
  { field: "arp.hw.size", fromTshark: num, fromRecord: (r) => attr(r, "ARP", "Hardware_Size") },
  { field: "arp.proto.size", fromTshark: num, fromRecord: (r) => attr(r, "ARP", "Protocol_Size") },
  { field: "arp.opcode", fromTshark: num, fromRecord: (r) => attr(r, "ARP", "Operation") },
  {
    field: "arp.src.hw_mac|arp.src.hw",
    fromRecord: (r) => attr(r, "ARP", "Sender_Hardware_Address"),
  },
  {
    field: "arp.src.proto_ipv4|arp.src.proto",
    fromRecord: (r) => attr(r, "ARP", "Sender_Protocol_Address"),
  },
  {
    field: "arp.dst.hw_mac|arp.dst.hw",
    fromRecord: (r) => attr(r, "ARP", "Target_Hardware_Address"),
  },
  {
    field: "arp.dst.proto_ipv4|arp.dst.proto",
    fromRecord: (r) => attr(r, "ARP", "Target_Protocol_Address"),
  },
  { field: "cdp.version", fromTshark: num, fromRecord: (r) => attr(r, "CDP", "Version") },
  { field: "cdp.ttl", fromTshark: num, fromRecord: (r) => attr(r, "CDP", "TTL") },
  { field: "cdp.checksum", fromTshark: num, fromRecord: (r) => attr(r, "CDP", "Checksum") },
  {
    field: "cdp.checksum.status",
    // Wireshark: 0 bad, 1 good, 2 unverified
    // a PDU cut by the snap length: tshark shows no checksum, netmon says "unverified"
    fromTsharkRec: (c, r) =>
      c === ""
        ? (first(r, "CDP")?.Checksum === null ? "unverified" : "")
        : ["bad", "good", "unverified"][Number(c)] ?? c,
    fromRecord: (r) => attr(r, "CDP", "Checksum_Status"),
  },
  { field: "cdp.deviceid", repeated: true, fromRecord: textAttr("CDP", "Device_ID") },
  { field: "cdp.portid", repeated: true, fromRecord: textAttr("CDP", "Port_ID") },
  { field: "cdp.platform", repeated: true, fromRecord: textAttr("CDP", "Platform") },
  { field: "cdp.native_vlan", fromTshark: num, fromRecord: (r) => attr(r, "CDP", "Native_VLAN") },
  {
    field: "lldp.chassis.subtype",
    repeated: true,
    fromTshark: num,
    fromRecord: (r) => attr(r, "LLDP", "Chassis_ID_Subtype"),
  },
  {
    field: "lldp.chassis.id.mac|lldp.chassis.id.ip4|lldp.chassis.id.ip6|lldp.chassis.id",
    repeated: true,
    // text subtypes are bytes in tshark (lldp.chassis.id): read them as netmon reads text
    fromTsharkRec: (c, r) =>
      [1, 2, 6, 7].includes(Number(first(r, "LLDP")?.Chassis_ID_Subtype)) ? asciiOfHex(c) : c,
    fromRecord: (r) => attr(r, "LLDP", "Chassis_ID"),
  },
  {
    field: "lldp.port.subtype",
    repeated: true,
    fromTshark: num,
    fromRecord: (r) => attr(r, "LLDP", "Port_ID_Subtype"),
  },
  {
    field: "lldp.port.id.mac|lldp.port.id.ip4|lldp.port.id.ip6|lldp.port.id",
    repeated: true,
    fromRecord: textAttr("LLDP", "Port_ID"),
  },
  {
    field: "lldp.time_to_live",
    repeated: true,
    fromTshark: num,
    fromRecord: (r) => attr(r, "LLDP", "TTL"),
  },
  { field: "lldp.tlv.system.name", repeated: true, fromRecord: textAttr("LLDP", "System_Name") },
  {
    field: "lldp.port.desc",
    repeated: true,
    fromRecord: textAttr("LLDP", "Port_Description"),
  },
  {
    field: "lldp.tlv.system.desc",
    repeated: true,
    fromRecord: textAttr("LLDP", "System_Description"),
  },
  {
    field: "lldp.tlv.system_cap",
    // netmon names the 11 defined bits; others are not kept
    fromTshark: (c) => c === "" ? "" : String(Number(c) & 0x7ff),
    fromRecord: (r) => attr(r, "LLDP", "System_Capabilities", capBits),
  },
  {
    field: "lldp.tlv.enable_system_cap",
    // netmon names the 11 defined bits; others are not kept
    fromTshark: (c) => c === "" ? "" : String(Number(c) & 0x7ff),
    fromRecord: (r) => attr(r, "LLDP", "Enabled_Capabilities", capBits),
  },
];

function msti(rec: PacketRecord, a: string, fmt = str): string {
  const mst = first(rec, "STP")?.MST as Rec | undefined;
  if (mst === undefined) return "";
  return ((mst.MSTIs ?? []) as Rec[]).map((m) => fmt(m[a])).join(",");
}

function mstiFlags(rec: PacketRecord): string {
  const mst = first(rec, "STP")?.MST as Rec | undefined;
  if (mst === undefined) return "";
  return ((mst.MSTIs ?? []) as Rec[]).map((m) => String(stpFlagsByte(m))).join(",");
}

function capBits(v: unknown): string {
  let n = 0;
  Object.values(v as Record<string, boolean>).forEach((b, i) => {
    if (b) n |= 1 << i;
  });
  return String(n);
}

/** Field list for tshark: alternatives "a|b" are all requested, the first non-empty wins. */
function tsharkFieldList(): string[] {
  const out: string[] = [];
  for (const c of CHECKS) out.push(...c.field.split("|"));
  out.push(...PID_FIELDS);
  return out;
}

/**
 * Compares netmon's records of `file` with tshark's fields; returns the mismatches as
 * "frame N field: tshark=<..> netmon=<..>" lines (empty when everything agrees).
 */
export function compareWithTshark(file: string, recs: PacketRecord[]): string[] {
  const fields = tsharkFieldList();
  const rows = tsharkFields(file, fields);
  const problems: string[] = [];
  if (rows.length !== recs.length) {
    problems.push(`frame count: tshark=${rows.length} netmon=${recs.length}`);
  }
  for (let i = 0; i < Math.min(rows.length, recs.length); i++) {
    const cells = new Map<string, string>();
    fields.forEach((f, j) => cells.set(f, rows[i][j] ?? ""));
    const rec = recs[i];
    for (const c of CHECKS) {
      const raw = c.field.split("|").map((f) => cells.get(f) ?? "").find((v) => v !== "") ?? "";
      const want = c.fromTsharkRec
        ? c.fromTsharkRec(raw, rec)
        : c.fromTshark
        ? c.fromTshark(raw)
        : raw;
      const got = c.fromRecord(rec);
      const firstOfList = c.repeated === true && want.startsWith(got + ",");
      if (want !== got && !firstOfList) {
        problems.push(`frame ${i + 1} ${c.field}: tshark=${want} netmon=${got}`);
      }
    }
    // SNAP Protocol_ID: tshark names the field after the OUI.
    const pidRaw = PID_FIELDS.map((f) => cells.get(f) ?? "").filter((v) => v !== "");
    const snap = layers(rec, "SNAP");
    // llc.type also appears for EtherType-in-LLC (jumbo); only compare when SNAP is present.
    // Wireshark shows no PID for an EtherType OUI in a frame that is not UI/I.
    const llc = first(rec, "LLC");
    const control = Number(llc?.Control);
    const information = (control & 1) === 0 || control === 3;
    const quiet = pidRaw.length === 0 && !information &&
      ["00:00:00", "00:00:f8"].includes(String(snap[0]?.OUI));
    if (snap.length > 0 && !quiet) {
      const want = num(pidRaw[0] ?? "");
      const got = snap.map((l) => String(l.Protocol_ID)).join(",");
      if (want !== got) {
        problems.push(`frame ${i + 1} SNAP pid: tshark=${want} netmon=${got}`);
      }
    }
  }
  return problems;
}
