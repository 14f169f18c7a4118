/**
 * What filters may name: every layer key of a record, its attributes and the
 * kind of value each holds. Built from the record table of issue 2 plus the
 * extra attributes the decoders in src/decode emit; tests/filter/schema_test.ts
 * decodes every fixture and fails when a record carries a name missing here.
 *
 * Pseudo-attributes ("either direction"): `Address`, `Port`, ... match when the
 * Source_ or the Destination_ attribute matches; see {@link LayerSchema.either}.
 */
import { CAPABILITY_NAMES as CDP_CAPABILITY_NAMES } from "../decode/cdp.ts";
import { CAPABILITY_NAMES as LLDP_CAPABILITY_NAMES } from "../decode/lldp.ts";
import { PACKET_TYPE_NAMES } from "../decode/meta.ts";
import { PROCESS_LAYERS } from "./schema_process.ts";
import { TUNNEL_SCHEMA } from "./schema_tunnel.ts";

/** How the value of one attribute is matched (see docs/filters.md). */
export type ValueKind =
  /** JSON number in the record (or a decimal string when > 2^53); filter: number, "A-B", "0x..". */
  | { readonly kind: "number"; readonly max?: number }
  /** Exact string. */
  | { readonly kind: "string" }
  /** One of a fixed set of strings. */
  | { readonly kind: "enum"; readonly values: readonly string[] }
  /** Dotted quad; filter: address or CIDR. */
  | { readonly kind: "ipv4" }
  /** RFC 5952 text; filter: any IPv6 text or CIDR, compared on canonical form. */
  | { readonly kind: "ipv6" }
  /** IPv4 or IPv6 (flow records, ARP protocol addresses). */
  | { readonly kind: "ip" }
  /** Lowercase colon MAC; filter: any case, `:`/`-`/`.`/no separator. */
  | { readonly kind: "mac" }
  | { readonly kind: "bool" }
  /** Object of booleans with these names (TCP.Flags, IPv4.Flags). */
  | { readonly kind: "flags"; readonly names: readonly string[] }
  /** Lists and objects (options, extension headers, TLVs): matched structurally. */
  | { readonly kind: "json" };

export interface LayerSchema {
  /** Record type whose records carry this layer ("any": both, e.g. Process). */
  readonly record: "packet" | "flow" | "any";
  readonly attrs: Readonly<Record<string, ValueKind>>;
  /** Pseudo-attributes: name -> the two attributes it matches either of. */
  readonly either?: Readonly<Record<string, readonly [string, string]>>;
  /** The record holds a list of these objects (Decode_Errors): any element may match. */
  readonly list?: boolean;
}

const NUM: ValueKind = { kind: "number" };
const U8: ValueKind = { kind: "number", max: 0xff };
const U16: ValueKind = { kind: "number", max: 0xffff };
const U32: ValueKind = { kind: "number", max: 0xffffffff };
const STR: ValueKind = { kind: "string" };
const IPV4: ValueKind = { kind: "ipv4" };
const IPV6: ValueKind = { kind: "ipv6" };
const IP: ValueKind = { kind: "ip" };
const MAC: ValueKind = { kind: "mac" };
const BOOL: ValueKind = { kind: "bool" };
const JSON_: ValueKind = { kind: "json" };
const CHECKSUM_STATUS: ValueKind = {
  kind: "enum",
  values: ["good", "bad", "unverified", "absent"],
};

export const TCP_FLAG_NAMES = [
  "CWR",
  "ECE",
  "URG",
  "ACK",
  "PSH",
  "RST",
  "SYN",
  "FIN",
  "AE",
] as const;
export const IPV4_FLAG_NAMES = ["Reserved", "DF", "MF"] as const;

const TAG: LayerSchema = {
  record: "packet",
  attrs: {
    Priority: { kind: "number", max: 7 },
    DEI: { kind: "number", max: 1 },
    VLAN_ID: { kind: "number", max: 4095 },
    EtherType: U16,
    Length: U16,
    Restored: BOOL,
  },
};

/** Attributes ICMP (RFC 792, 1256, 4884, 8335) and ICMPv6 share. */
const ICMP_COMMON: Record<string, ValueKind> = {
  Type: U8,
  Code: U8,
  Type_Name: STR,
  Checksum: U16,
  Checksum_Status: CHECKSUM_STATUS,
  Identifier: U16,
  Sequence_Number: U16,
  Pointer: U32,
  Original_Datagram_Length: NUM,
  Extensions: JSON_,
  Quoted: JSON_,
  Local: BOOL,
  State: U8,
  Active: BOOL,
  IPv4: BOOL,
  IPv6: BOOL,
};

const STP_FLAG_NAMES = [
  "Topology_Change_Ack",
  "Agreement",
  "Forwarding",
  "Learning",
  "Proposal",
  "Topology_Change",
] as const;
const PACKET_TYPE: ValueKind = { kind: "enum", values: PACKET_TYPE_NAMES };

/** Every layer key a filter may use, with its attributes. */
export const SCHEMA: Readonly<Record<string, LayerSchema>> = {
  AF_Packet: {
    record: "packet",
    attrs: {
      Interface_Name: STR,
      Interface_Index: NUM,
      Timestamp: NUM,
      Length: NUM,
      Captured_Length: NUM,
      Packet_Type: PACKET_TYPE,
    },
  },
  /** Linux cooked capture header (SLL and SLL2 files). */
  SLL: {
    record: "packet",
    attrs: {
      Packet_Type: STR,
      ARPHRD_Type: U16,
      Address_Length: U16,
      Address: MAC,
      Protocol: U16,
      Interface_Index: U32,
    },
  },
  Ethernet: {
    record: "packet",
    attrs: { Source_Address: MAC, Destination_Address: MAC, EtherType: U16, Length: U16 },
    either: { Address: ["Source_Address", "Destination_Address"] },
  },
  "802.1Q": TAG,
  "802.1ad": TAG,
  /** Cisco Inter-Switch Link header (the Ethernet frame inside is the next layer). */
  ISL: {
    record: "packet",
    attrs: {
      Destination_Address: MAC,
      Source_Address: MAC,
      Length: U16,
      Type: U8,
      User: U8,
      HSA: STR,
      VLAN_ID: { kind: "number", max: 0x7fff },
      BPDU: BOOL,
      Index: U16,
    },
    either: { Address: ["Source_Address", "Destination_Address"] },
  },
  LLC: {
    record: "packet",
    attrs: {
      DSAP: U8,
      SSAP: U8,
      Control: U16,
      Frame_Type: { kind: "enum", values: ["I", "S", "U"] },
    },
  },
  /** OUI as lowercase colon text ("00:00:0c"). */
  SNAP: { record: "packet", attrs: { OUI: STR, Protocol_ID: U16 } },
  STP: {
    record: "packet",
    attrs: {
      Protocol_ID: U16,
      Protocol_Version: U8,
      BPDU_Type: U8,
      Flags: { kind: "flags", names: STP_FLAG_NAMES },
      Port_Role: { kind: "enum", values: ["Unknown", "Alternate or Backup", "Root", "Designated"] },
      Root_ID: STR,
      Root_Path_Cost: U32,
      Bridge_ID: STR,
      Port_ID: U16,
      Message_Age: NUM,
      Max_Age: NUM,
      Hello_Time: NUM,
      Forward_Delay: NUM,
      Version_1_Length: U8,
      MST: JSON_,
      Originating_VLAN: U16,
    },
  },
  ARP: {
    record: "packet",
    attrs: {
      Hardware_Type: U16,
      Protocol_Type: U16,
      Hardware_Size: U8,
      Protocol_Size: U8,
      Operation: U16,
      Sender_Hardware_Address: MAC,
      Sender_Protocol_Address: IP,
      Target_Hardware_Address: MAC,
      Target_Protocol_Address: IP,
    },
    either: {
      Hardware_Address: ["Sender_Hardware_Address", "Target_Hardware_Address"],
      Protocol_Address: ["Sender_Protocol_Address", "Target_Protocol_Address"],
    },
  },
  IPv4: {
    record: "packet",
    attrs: {
      Version: U8,
      Header_Length: U8,
      DSCP: U8,
      ECN: U8,
      Total_Length: U16,
      Identification: U16,
      Flags: { kind: "flags", names: IPV4_FLAG_NAMES },
      Fragment_Offset: U16,
      TTL: U8,
      Protocol: U8,
      Checksum: U16,
      Checksum_Status: CHECKSUM_STATUS,
      Source_Address: IPV4,
      Destination_Address: IPV4,
      Options: JSON_,
    },
    either: { Address: ["Source_Address", "Destination_Address"] },
  },
  IPv6: {
    record: "packet",
    attrs: {
      Version: U8,
      Traffic_Class: U8,
      DSCP: U8,
      ECN: U8,
      Flow_Label: NUM,
      Payload_Length: U32,
      Next_Header: U8,
      Hop_Limit: U8,
      Source_Address: IPV6,
      Destination_Address: IPV6,
      Extension_Headers: JSON_,
    },
    either: { Address: ["Source_Address", "Destination_Address"] },
  },
  ICMP: {
    record: "packet",
    attrs: {
      ...ICMP_COMMON,
      Version: U8,
      Originate_Timestamp: U32,
      Receive_Timestamp: U32,
      Transmit_Timestamp: U32,
      Address_Mask: IPV4,
      Next_Hop_MTU: U16,
      Gateway_Address: IPV4,
      Number_Of_Addresses: U8,
      Address_Entry_Size: U8,
      Lifetime: U16,
      Entries: JSON_,
    },
  },
  ICMPv6: {
    record: "packet",
    attrs: {
      ...ICMP_COMMON,
      MTU: U32,
      MLD_Version: U8,
      Maximum_Response_Delay: NUM,
      Multicast_Address: IPV6,
      Suppress_Router_Processing: BOOL,
      QRV: U8,
      QQIC: NUM,
      Number_Of_Sources: U16,
      Sources: JSON_,
      Number_Of_Records: U16,
      Records: JSON_,
      Cur_Hop_Limit: U8,
      Flags: JSON_,
      Router_Lifetime: U16,
      Reachable_Time: U32,
      Retrans_Timer: U32,
      Target_Address: IPV6,
      Destination_Address: IPV6,
      Options: JSON_,
    },
  },
  IGMP: {
    record: "packet",
    attrs: {
      Version: U8,
      Type: U8,
      Type_Name: STR,
      Max_Response_Time: NUM,
      Checksum: U16,
      Checksum_Status: CHECKSUM_STATUS,
      Group_Address: IPV4,
      Hops: U8,
      Code: U8,
      Identifier: U32,
      Access_Key: STR,
      Suppress_Router_Processing: BOOL,
      QRV: U8,
      QQIC: NUM,
      Number_Of_Sources: U16,
      Sources: JSON_,
      Number_Of_Group_Records: U16,
      Group_Records: JSON_,
    },
  },
  TCP: {
    record: "packet",
    attrs: {
      Source_Port: U16,
      Destination_Port: U16,
      Sequence_Number: U32,
      Acknowledgment_Number: U32,
      Header_Length: U8,
      Flags: { kind: "flags", names: TCP_FLAG_NAMES },
      Reserved: U8,
      Window: U16,
      Checksum: U16,
      Checksum_Status: CHECKSUM_STATUS,
      Urgent_Pointer: U16,
      Options: JSON_,
      Payload_Length: NUM,
    },
    either: { Port: ["Source_Port", "Destination_Port"] },
  },
  UDP: {
    record: "packet",
    attrs: {
      Source_Port: U16,
      Destination_Port: U16,
      Length: U16,
      Checksum: U16,
      Checksum_Status: CHECKSUM_STATUS,
      Payload_Length: NUM,
    },
    either: { Port: ["Source_Port", "Destination_Port"] },
  },
  CDP: {
    record: "packet",
    attrs: {
      Version: U8,
      TTL: U8,
      Checksum: U16,
      Checksum_Status: CHECKSUM_STATUS,
      Device_ID: STR,
      Port_ID: STR,
      Platform: STR,
      Software_Version: STR,
      Addresses: JSON_,
      Management_Addresses: JSON_,
      Capabilities: { kind: "flags", names: CDP_CAPABILITY_NAMES },
      VTP_Management_Domain: STR,
      Native_VLAN: { kind: "number", max: 4095 },
      Duplex: { kind: "enum", values: ["Full", "Half"] },
      VoIP_VLAN: U16,
      Power_Consumption: U16,
      MTU: U32,
      Trust_Bitmap: U8,
      Untrusted_Port_CoS: U8,
      System_Name: STR,
      Location: STR,
      Other_TLVs: JSON_,
    },
  },
  LLDP: {
    record: "packet",
    attrs: {
      Chassis_ID: STR,
      Chassis_ID_Subtype: U8,
      Port_ID: STR,
      Port_ID_Subtype: U8,
      TTL: U16,
      Port_Description: STR,
      System_Name: STR,
      System_Description: STR,
      System_Capabilities: { kind: "flags", names: LLDP_CAPABILITY_NAMES },
      Enabled_Capabilities: { kind: "flags", names: LLDP_CAPABILITY_NAMES },
      Management_Addresses: JSON_,
      Organization_Specific: JSON_,
      Other_TLVs: JSON_,
    },
  },
  ...TUNNEL_SCHEMA,
  Payload: {
    record: "packet",
    attrs: { Length: NUM, Captured_Length: NUM, Unknown_Protocol: STR },
  },
  Decode_Errors: {
    record: "packet",
    list: true,
    attrs: { Layer: STR, Problem: STR, Offset: NUM },
  },
  Flow: {
    record: "flow",
    attrs: {
      Flow_ID: NUM,
      Community_ID: STR,
      Interface_Name: STR,
      IP_Version: { kind: "number", max: 6 },
      Protocol: STR,
      Protocol_Number: U8,
      VLAN_ID: { kind: "number", max: 4095 },
      Source_Address: IP,
      Source_Port: U16,
      Destination_Address: IP,
      Destination_Port: U16,
      ICMP_Type: U8,
      ICMP_Code_Or_Counterpart: U8,
      ICMP_ID: U16,
      Start: NUM,
      End: NUM,
      Duration: NUM,
      Originator_Packets: NUM,
      Originator_Bytes: NUM,
      Originator_Payload_Bytes: NUM,
      Originator_Wire_Bytes: NUM,
      Responder_Packets: NUM,
      Responder_Bytes: NUM,
      Responder_Payload_Bytes: NUM,
      Responder_Wire_Bytes: NUM,
      State: {
        kind: "enum",
        values: [
          "S0",
          "S1",
          "SF",
          "REJ",
          "S2",
          "S3",
          "RSTO",
          "RSTR",
          "RSTOS0",
          "RSTRH",
          "SH",
          "SHR",
          "OTH",
        ],
      },
      History: STR,
      End_Reason: {
        kind: "enum",
        values: ["fin", "rst", "idle_timeout", "active_timeout", "shutdown", "evicted"],
      },
      Interim: BOOL,
    },
    either: {
      Address: ["Source_Address", "Destination_Address"],
      Port: ["Source_Port", "Destination_Port"],
    },
  },
  ...PROCESS_LAYERS,
};

/** Top-level record keys that hold a single value rather than a layer object. */
export const SCALARS: Readonly<Record<string, ValueKind>> = {
  Community_ID: STR,
};

/** Splits "IPv4_2" into ["IPv4", 2]; a plain key is occurrence 1. Null when not a known layer. */
export function layerOf(key: string): { name: string; occurrence: number } | null {
  if (Object.hasOwn(SCHEMA, key)) return { name: key, occurrence: 1 };
  const m = /^(.+)_([2-9]|[1-9][0-9])$/.exec(key);
  if (m !== null && Object.hasOwn(SCHEMA, m[1]) && !SCHEMA[m[1]].list && m[1] !== "Flow") {
    return { name: m[1], occurrence: Number(m[2]) };
  }
  return null;
}

/** Names valid for attributes of `layer`: real ones first, then the either-direction ones. */
export function attributeNames(layer: LayerSchema): string[] {
  return [...Object.keys(layer.attrs), ...Object.keys(layer.either ?? {})];
}
