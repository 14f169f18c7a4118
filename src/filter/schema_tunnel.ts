/**
 * Filter-schema layers of the tunnel decoders and of IP reassembly (issue 15), spread
 * into SCHEMA by src/filter/schema.ts. `Tunnel` is the summary every tunnel adds:
 * `{"Tunnel": {"VNI": 42}}`, `{"Tunnel": {"Type": "GRE", "Outer_Address": "10.0.0.0/8"}}`.
 */
import { TUNNEL_TYPES } from "../decode/tunnel.ts";
import type { LayerSchema, ValueKind } from "./schema.ts";

const NUM: ValueKind = { kind: "number" };
const U8: ValueKind = { kind: "number", max: 0xff };
const U16: ValueKind = { kind: "number", max: 0xffff };
const U24: ValueKind = { kind: "number", max: 0xffffff };
const U32: ValueKind = { kind: "number", max: 0xffffffff };
const STR: ValueKind = { kind: "string" };
const IP: ValueKind = { kind: "ip" };
const MAC: ValueKind = { kind: "mac" };
const BOOL: ValueKind = { kind: "bool" };
const JSON_: ValueKind = { kind: "json" };
const CHECKSUM_STATUS: ValueKind = {
  kind: "enum",
  values: ["good", "bad", "unverified", "absent"],
};
const GRE_FLAGS = [
  "Checksum",
  "Routing",
  "Key",
  "Sequence_Number",
  "Strict_Source_Route",
  "Acknowledgment",
] as const;

const packet = (
  attrs: Record<string, ValueKind>,
  extra: Partial<LayerSchema> = {},
): LayerSchema => ({
  record: "packet",
  attrs,
  ...extra,
});

const PPPOE = packet({
  Version: U8,
  Type: U8,
  Code: U8,
  Session_ID: U16,
  Payload_Length: U16,
  Tags: JSON_,
});
const CONTROL = packet({
  Code: U8,
  Identifier: U8,
  Length: U16,
  Options: JSON_,
  Magic_Number: U32,
});

export const TUNNEL_SCHEMA: Readonly<Record<string, LayerSchema>> = {
  Tunnel: packet({
    Type: { kind: "enum", values: TUNNEL_TYPES },
    VNI: U24,
    Key: U32,
    Label: { kind: "number", max: 0xfffff },
    TEID: U32,
    Session_ID: U32,
    Tunnel_ID: U16,
    Service_Path_ID: U24,
    Outer_Source_Address: IP,
    Outer_Destination_Address: IP,
  }, { either: { Outer_Address: ["Outer_Source_Address", "Outer_Destination_Address"] } }),
  VXLAN: packet({ Flags: U16, Group_Policy_ID: U16, VNI: U24, Reserved: U8 }),
  VXLAN_GPE: packet({ Flags: U8, Version: U8, Next_Protocol: U8, VNI: U24, Reserved: U8 }),
  Geneve: packet({
    Version: U8,
    Options_Length: U16,
    OAM: BOOL,
    Critical: BOOL,
    Protocol_Type: U16,
    VNI: U24,
    Reserved: U8,
    Options: JSON_,
  }),
  GRE: packet({
    Flags_And_Version: U16,
    Flags: { kind: "flags", names: GRE_FLAGS },
    Recursion_Control: U8,
    Version: U8,
    Protocol_Type: U16,
    Checksum: U16,
    Checksum_Status: CHECKSUM_STATUS,
    Offset: U16,
    Key: U32,
    VSID: U24,
    Flow_ID: U8,
    Payload_Length: U16,
    Call_ID: U16,
    Sequence_Number: U32,
    Acknowledgment_Number: U32,
    Routing: JSON_,
    WCCP_Redirect: JSON_,
  }),
  ERSPAN: packet({
    Type: { kind: "enum", values: ["I", "II", "III", "unknown"] },
    Version: U8,
    VLAN: { kind: "number", max: 4095 },
    COS: U8,
    Encapsulation_Type: U8,
    BSO: U8,
    Truncated: U8,
    Session_ID: { kind: "number", max: 1023 },
    Reserved: U16,
    Index: U32,
    Timestamp: U32,
    SGT: U16,
    P: U8,
    Frame_Type: U8,
    Hardware_ID: U8,
    Direction: U8,
    Granularity: U8,
    Optional_Subheader: BOOL,
    Platform_Specific: STR,
  }),
  MPLS: packet({
    Stack: JSON_,
    Payload_Type: STR,
    Control_Word_Sequence_Number: U16,
    PW_ACH: JSON_,
  }),
  PPPoE_Discovery: PPPOE,
  PPPoE_Session: PPPOE,
  PPP: packet({ Address: U8, Control: U8, Protocol: U16 }),
  LCP: CONTROL,
  IPCP: CONTROL,
  IPV6CP: CONTROL,
  L2TP: packet({
    Flags: U16,
    Type: U8,
    Length_Bit: BOOL,
    Sequence_Bit: BOOL,
    Offset_Bit: BOOL,
    Priority: BOOL,
    Version: U8,
    Length: U16,
    Tunnel_ID: U16,
    Session_ID: U16,
    Ns: U16,
    Nr: U16,
    Offset_Size: U16,
    AVPs: JSON_,
  }),
  GTP: packet({
    Flags: U8,
    Version: U8,
    Protocol_Type: U8,
    Extension_Header_Present: BOOL,
    Sequence_Number_Present: BOOL,
    N_PDU_Number_Present: BOOL,
    Message_Type: U8,
    Length: U16,
    TEID: U32,
    Sequence_Number: U16,
    N_PDU_Number: U8,
    Next_Extension_Header_Type: U8,
    Extension_Headers: JSON_,
  }),
  Teredo: packet({
    Client_ID_Length: U8,
    Auth_Value_Length: U8,
    Client_ID: STR,
    Auth_Value: STR,
    Nonce: STR,
    Confirmation: U8,
    Origin_Port: U16,
    Origin_Address: IP,
  }),
  NSH: packet({
    Version: U8,
    OAM: U8,
    C: U8,
    TTL: U8,
    Length: U8,
    MD_Type: U8,
    Next_Protocol: U8,
    Service_Path_ID: U24,
    Service_Index: U8,
    Context_Headers: JSON_,
    Metadata: JSON_,
  }),
  MACsec: packet({
    TCI: U8,
    Version: U8,
    End_Station: BOOL,
    SCI_Present: BOOL,
    Single_Copy_Broadcast: BOOL,
    Encrypted: BOOL,
    Changed_Text: BOOL,
    Association_Number: U8,
    Short_Length: U8,
    Packet_Number: U32,
    SCI_System_Identifier: MAC,
    SCI_Port_Identifier: U16,
    EtherType: U16,
    ICV: STR,
  }),
  PIM: packet({
    Version: U8,
    Type: U8,
    Reserved: U8,
    Checksum: U16,
    Checksum_Status: CHECKSUM_STATUS,
    Border: BOOL,
    Null_Register: BOOL,
  }),
  Arista: packet({
    Subtype: U16,
    Version: U16,
    Timestamp_Seconds: U32,
    Timestamp_Nanoseconds: U32,
    EtherType: U16,
  }),
  /** A fragment held for reassembly (the datagram is not complete yet). */
  Fragment: packet({
    Identification: U32,
    Offset: U16,
    Length: U16,
    More_Fragments: BOOL,
    Fragments_Held: NUM,
    Discarded: BOOL,
  }),
  /** The frame completed a datagram: its upper layers are the whole datagram's. */
  Reassembly: packet({
    Identification: U32,
    Fragment_Count: NUM,
    Length: NUM,
    Fragments: JSON_,
  }),
};
