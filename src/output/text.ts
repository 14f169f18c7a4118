/**
 * One human line per record, in the spirit of tcpdump:
 *
 * ```
 * 09:21:03.720289 eth0 In Ethernet/IPv4/TCP 192.168.1.11.33779 > 209.87.249.18.53: Flags [S], seq 603899916, win 64240, length 0, frame 74
 * 03:00:34.141848 Ethernet/LLC/SNAP/CDP 00:18:ba:98:68:8f > 01:00:0c:cc:cc:cc: CDP device S1 port FastEthernet0/13, frame 388
 * 14:02:11.000000 flow TCP 10.0.0.1.40000 > 10.0.0.2.80: SF ShADadFf, 5 pkts 420 B > 4 pkts 1200 B, 0.120000 s, end fin
 * ```
 *
 * Time is the local time of day with microseconds (like tcpdump), then the
 * interface and direction when the source knows them, the protocol chain (layer
 * keys in decode order), the innermost addresses (IP with ports, else the link-layer
 * addresses), a few fields of the last layers, unknown protocol and decode errors as
 * `[...]`, and the frame length. Works on any record: missing attributes are left out.
 *
 * @example
 * ```ts
 * formatRecordLine({ Flow: { Protocol: "UDP", Source_Address: "10.0.0.1" } });
 * ```
 */
import type { PacketRecord } from "../decode/record.ts";

type Attrs = Record<string, unknown>;

/** Top-level keys that are not protocol layers. */
const NOT_LAYERS = new Set([
  "AF_Packet",
  "Decode_Errors",
  "Payload",
  "Community_ID",
  "Netmon",
  "Flow",
]);

const DIRECTION: Record<string, string> = {
  host: "In",
  broadcast: "B",
  multicast: "M",
  otherhost: "P",
  outgoing: "Out",
};

/** tcpdump's TCP flag letters (ACK is "."). */
const TCP_FLAGS: [string, string][] = [
  ["SYN", "S"],
  ["FIN", "F"],
  ["RST", "R"],
  ["PSH", "P"],
  ["URG", "U"],
  ["ECE", "E"],
  ["CWR", "W"],
  ["AE", "e"],
  ["ACK", "."],
];

/** The local time zone offset (minutes) of the last hour seen, to avoid a Date per line. */
let tzHour = -1;
let tzOffsetS = 0;

function two(n: number): string {
  return n < 10 ? "0" + n : String(n);
}

/** `HH:MM:SS.uuuuuu` local time of day from a "seconds.nanoseconds" text. */
export function timeOfDay(ts: string): string {
  const dot = ts.indexOf(".");
  const secText = dot < 0 ? ts : ts.slice(0, dot);
  let sec = Number(secText);
  const frac = dot < 0 ? "000000" : (ts.slice(dot + 1) + "000000").slice(0, 6);
  if (!Number.isFinite(sec)) return ts;
  if (!Number.isSafeInteger(sec) && /^-?\d+$/.test(secText)) {
    // Beyond 2^53 s (a pcapng with coarse ticks): the time of day from the exact digits.
    sec = Number(BigInt(secText) % 86400n);
  }
  const hour = Math.floor(sec / 3600);
  if (hour !== tzHour) {
    tzHour = hour;
    // Past the range of Date (±8.64e15 ms) the time zone is unknown: UTC.
    tzOffsetS = -(new Date(sec * 1000).getTimezoneOffset() || 0) * 60;
  }
  const day = (((sec + tzOffsetS) % 86400) + 86400) % 86400;
  return two(Math.floor(day / 3600)) + ":" + two(Math.floor((day % 3600) / 60)) + ":" +
    two(day % 60) + "." + frac;
}

function str(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/** The layer key without its `_2` suffix. */
function base(key: string): string {
  const u = key.lastIndexOf("_");
  return u > 0 && /^\d+$/.test(key.slice(u + 1)) ? key.slice(0, u) : key;
}

/** Formats a record (packet or flow) as one line without a newline. */
export function formatRecordLine(rec: PacketRecord): string {
  const flow = rec.Flow as Attrs | undefined;
  if (flow !== undefined && typeof flow === "object") return formatFlow(flow);

  const parts: string[] = [];
  const af = rec.AF_Packet as Attrs | undefined;
  if (af !== undefined) {
    parts.push(typeof af.Timestamp === "string" ? timeOfDay(af.Timestamp) : "-");
    if (typeof af.Interface_Name === "string" && af.Interface_Name !== "") {
      parts.push(af.Interface_Name);
    }
    const dir = typeof af.Packet_Type === "string" ? DIRECTION[af.Packet_Type] : undefined;
    if (dir !== undefined) parts.push(dir);
  }

  // Protocol chain and the innermost layer of each kind.
  const chain: string[] = [];
  const last: Record<string, Attrs> = {};
  let vlans = "";
  let ipKey = "";
  for (const key in rec) {
    if (NOT_LAYERS.has(key)) continue;
    const attrs = rec[key];
    if (attrs === null || typeof attrs !== "object") continue;
    chain.push(key);
    const b = base(key);
    last[b] = attrs as Attrs;
    if (b === "IPv4" || b === "IPv6") ipKey = b;
    if (b === "802.1Q" || b === "802.1ad") {
      const a = attrs as Attrs;
      vlans += `vlan ${str(a.VLAN_ID)}, p ${str(a.Priority)}, `;
    }
  }
  parts.push(chain.length > 0 ? chain.join("/") : "-");

  let detail = vlans;
  const l4 = last.TCP ?? last.UDP;
  if (ipKey !== "") {
    const ip = last[ipKey];
    const sp = l4 !== undefined ? "." + str(l4.Source_Port) : "";
    const dp = l4 !== undefined ? "." + str(l4.Destination_Port) : "";
    parts.push(`${str(ip.Source_Address)}${sp} > ${str(ip.Destination_Address)}${dp}:`);
  } else if (last.Ethernet !== undefined) {
    const e = last.Ethernet;
    parts.push(`${str(e.Source_Address)} > ${str(e.Destination_Address)}:`);
  } else if (last.SLL !== undefined) {
    parts.push(`${str(last.SLL.Address)}:`);
  }
  detail += details(last, ipKey);

  const payload = rec.Payload as Attrs | undefined;
  if (payload !== undefined && typeof payload.Unknown_Protocol === "string") {
    detail += (detail.endsWith(", ") || detail === "" ? "" : " ") + `[${payload.Unknown_Protocol}]`;
  }
  const errs = rec.Decode_Errors;
  if (Array.isArray(errs) && errs.length > 0) {
    const e = errs[0] as Attrs;
    const more = errs.length > 1 ? ` +${errs.length - 1}` : "";
    detail += (detail === "" ? "" : " ") + `[|${str(e.Layer)}: ${str(e.Problem)}${more}]`;
  }
  if (detail.endsWith(", ")) detail = detail.slice(0, -2);
  if (detail !== "") parts.push(detail + ",");
  if (af !== undefined) {
    const cap = af.Captured_Length !== af.Length ? ` (captured ${str(af.Captured_Length)})` : "";
    parts.push(`frame ${str(af.Length)}${cap}`);
  }
  return parts.join(" ");
}

/** The interesting fields of the innermost protocol(s). */
function details(last: Record<string, Attrs>, ipKey: string): string {
  const tcp = last.TCP;
  if (tcp !== undefined) {
    const fl = (tcp.Flags ?? {}) as Attrs;
    let letters = "";
    for (const [name, letter] of TCP_FLAGS) if (fl[name] === true) letters += letter;
    let s = `Flags [${letters}], seq ${str(tcp.Sequence_Number)}`;
    if (fl.ACK === true) s += `, ack ${str(tcp.Acknowledgment_Number)}`;
    s += `, win ${str(tcp.Window)}`;
    if (tcp.Checksum_Status === "bad") s += ", bad cksum";
    return s + `, length ${str(tcp.Payload_Length)}`;
  }
  const udp = last.UDP;
  if (udp !== undefined) {
    const bad = udp.Checksum_Status === "bad" ? ", bad cksum" : "";
    return `UDP${bad}, length ${str(udp.Payload_Length)}`;
  }
  for (const name of ["ICMPv6", "ICMP"]) {
    const icmp = last[name];
    if (icmp !== undefined) {
      const bad = icmp.Checksum_Status === "bad" ? ", bad cksum" : "";
      // tcpdump style: "ICMP echo request, id 1, seq 2"; the numbers when the type has no name.
      const what = typeof icmp.Type_Name === "string"
        ? icmp.Type_Name.toLowerCase()
        : `type ${str(icmp.Type)} code ${str(icmp.Code)}`;
      const id = icmp.Identifier !== undefined ? `, id ${str(icmp.Identifier)}` : "";
      const seq = icmp.Sequence_Number !== undefined ? `, seq ${str(icmp.Sequence_Number)}` : "";
      return `${name} ${what}${id}${seq}${bad}`;
    }
  }
  const igmp = last.IGMP;
  if (igmp !== undefined) {
    return `IGMP v${str(igmp.Version)} type 0x${Number(igmp.Type).toString(16)}` +
      (igmp.Group_Address !== undefined ? ` group ${str(igmp.Group_Address)}` : "");
  }
  if (ipKey !== "") {
    const ip = last[ipKey];
    const proto = ipKey === "IPv4" ? ip.Protocol : ip.Next_Header;
    return `${ipKey} proto ${str(proto)}, length ${str(ip.Total_Length ?? ip.Payload_Length)}`;
  }
  const arp = last.ARP;
  if (arp !== undefined) {
    if (arp.Operation === 1) {
      return `ARP Request who-has ${str(arp.Target_Protocol_Address)} tell ${
        str(arp.Sender_Protocol_Address)
      }`;
    }
    if (arp.Operation === 2) {
      return `ARP Reply ${str(arp.Sender_Protocol_Address)} is-at ${
        str(arp.Sender_Hardware_Address)
      }`;
    }
    return `ARP op ${str(arp.Operation)}`;
  }
  const stp = last.STP;
  if (stp !== undefined) {
    return `STP v${str(stp.Protocol_Version)} type ${str(stp.BPDU_Type)} root ${
      str(stp.Root_ID)
    } cost ${str(stp.Root_Path_Cost)} bridge ${str(stp.Bridge_ID)} port 0x${
      Number(stp.Port_ID).toString(16)
    }`;
  }
  const lldp = last.LLDP;
  if (lldp !== undefined) {
    return `LLDP chassis ${str(lldp.Chassis_ID)} port ${str(lldp.Port_ID)} ttl ${str(lldp.TTL)}`;
  }
  const cdp = last.CDP;
  if (cdp !== undefined) {
    return `CDPv${str(cdp.Version)} device ${str(cdp.Device_ID)} port ${str(cdp.Port_ID)}`;
  }
  const snap = last.SNAP;
  if (snap !== undefined) return `SNAP ${str(snap.OUI)} 0x${Number(snap.Protocol_ID).toString(16)}`;
  const llc = last.LLC;
  if (llc !== undefined) {
    return `LLC dsap 0x${Number(llc.DSAP).toString(16)} ssap 0x${Number(llc.SSAP).toString(16)}`;
  }
  return "";
}

function formatFlow(f: Attrs): string {
  const time = typeof f.End === "string" ? timeOfDay(f.End) : "-";
  const port = (p: unknown) => (p === null || p === undefined ? "" : "." + str(p));
  let s = `${time} flow ${str(f.Protocol)} ${str(f.Source_Address)}${port(f.Source_Port)} > ` +
    `${str(f.Destination_Address)}${port(f.Destination_Port)}:`;
  if (f.VLAN_ID !== null && f.VLAN_ID !== undefined) s += ` vlan ${str(f.VLAN_ID)},`;
  if (f.ICMP_Type !== undefined) s += ` type ${str(f.ICMP_Type)},`;
  if (f.State !== undefined) s += ` ${str(f.State)}`;
  if (f.History) s += ` ${str(f.History)}`;
  s += `, ${str(f.Originator_Packets)} pkts ${str(f.Originator_Bytes)} B > ` +
    `${str(f.Responder_Packets)} pkts ${str(f.Responder_Bytes)} B`;
  if (typeof f.Duration === "number") s += `, ${f.Duration.toFixed(6)} s`;
  if (f.End_Reason !== undefined) s += `, end ${str(f.End_Reason)}`;
  if (f.Interim === true) s += " (interim)";
  return s;
}
