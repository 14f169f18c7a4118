/**
 * Known frames from the fixture captures, deconstructed to full records (smoltcp
 * style: the bytes sit next to the `tshark -x` dump they came from). These pin the
 * record schema of each layer-2 layer: keys, key order, value formats. The values
 * themselves are cross-checked against tshark in tshark_diff_test.ts.
 */
import assert from "node:assert/strict";
import { decodeBytes, fromDump } from "./frames.ts";

function l2(dump: string, wireLen?: number): Record<string, unknown> {
  const bytes = fromDump(dump);
  const rec = decodeBytes(bytes, wireLen ?? bytes.length);
  delete rec.AF_Packet;
  return rec;
}

// 802.1D_spanning_tree.pcap frame 1: 802.3, LLC 42/42 UI, configuration BPDU
const STP_CONFIG = `
0000  01 80 c2 00 00 00 00 19 06 ea b8 85 00 26 42 42   .............&BB
0010  03 00 00 00 00 00 80 01 00 19 06 ea b8 80 00 00   ................
0020  00 00 80 01 00 19 06 ea b8 80 80 05 00 00 14 00   ................
0030  02 00 0f 00 00 00 00 00 00 00 00 00               ............
`;

Deno.test("decodeEthernet() on an 802.3 frame gives Length, LLC and a configuration BPDU", () => {
  assert.deepEqual(l2(STP_CONFIG), {
    Ethernet: {
      Source_Address: "00:19:06:ea:b8:85",
      Destination_Address: "01:80:c2:00:00:00",
      Length: 38,
    },
    LLC: { DSAP: 0x42, SSAP: 0x42, Control: 0x03, Frame_Type: "U" },
    STP: {
      Protocol_ID: 0,
      Protocol_Version: 0,
      BPDU_Type: 0,
      Flags: { Topology_Change_Ack: false, Topology_Change: false },
      Root_ID: "32768/1/00:19:06:ea:b8:80",
      Root_Path_Cost: 0,
      Bridge_ID: "32768/1/00:19:06:ea:b8:80",
      Port_ID: 0x8005,
      Message_Age: 0,
      Max_Age: 20,
      Hello_Time: 2,
      Forward_Delay: 15,
    },
  });
});

// rpvstp-trunk-native-vid5.pcap frame 3: 802.1Q (length 50), LLC/SNAP 00000c:010b, RST + TLV
const PVST_RST = `
0000  01 00 0c cc cc cd 00 1f 6d 96 ec 04 81 00 e0 01   ........m.......
0010  00 32 aa aa 03 00 00 0c 01 0b 00 00 02 02 0e 80   .2..............
0020  01 00 1f 6d 96 ec 00 00 00 00 00 80 01 00 1f 6d   ...m...........m
0030  96 ec 00 80 04 00 00 14 00 02 00 0f 00 00 00 00   ................
0040  00 02 00 01                                       ....
`;

Deno.test("a Rapid-PVST+ BPDU in an 802.1Q tag gives tag, LLC, SNAP and STP with its VLAN", () => {
  const rec = l2(PVST_RST);
  assert.deepEqual(Object.keys(rec), ["Ethernet", "802.1Q", "LLC", "SNAP", "STP"]);
  assert.deepEqual(rec["802.1Q"], { Priority: 7, DEI: 0, VLAN_ID: 1, Length: 50 });
  assert.deepEqual(rec.SNAP, { OUI: "00:00:0c", Protocol_ID: 0x010b });
  const stp = rec.STP as Record<string, unknown>;
  assert.deepEqual(stp.Flags, {
    Topology_Change_Ack: false,
    Agreement: false,
    Forwarding: false,
    Learning: false,
    Proposal: true,
    Topology_Change: false,
  });
  assert.equal(stp.Port_Role, "Designated");
  assert.equal(stp.Version_1_Length, 0);
  assert.equal(stp.Originating_VLAN, 1);
});

// MSTP_Intra-Region_BPDUs.pcap frame 1: 802.1Q (length 137), MST BPDU with two MSTIs
const MST = `
0000  01 80 c2 00 00 00 00 1e f7 05 a8 92 81 00 e0 00   ................
0010  00 89 42 42 03 00 00 03 02 38 00 00 00 1f 27 b4   ..BB.....8....'.
0020  7d 80 00 03 0d 40 80 00 00 16 46 b5 8c 80 80 12   }....@....F.....
0030  01 00 14 00 02 00 0f 00 00 00 60 00 42 72 65 77   ..........\`.Brew
0040  65 72 79 00 00 00 00 00 00 00 00 00 00 00 00 00   ery.............
0050  00 00 00 00 00 00 00 00 00 00 00 00 00 00 93 57   ...............W
0060  eb b7 a8 d7 4d d5 fe f4 f2 ba b5 05 31 aa 00 03   ....M.......1...
0070  0d 40 80 00 00 1e f7 05 a8 80 14 fc 60 01 00 1e   .@..........\`...
0080  f7 05 a8 80 00 00 00 00 60 80 14 f8 80 02 00 16   ........\`.......
0090  46 b5 8c 80 00 03 0d 40 80 80 14                  F......@...
`;

Deno.test("an MST BPDU keeps the CIST fields and one record per MSTI", () => {
  const stp = l2(MST).STP as Record<string, unknown>;
  assert.equal(stp.Root_ID, "0/0/00:1f:27:b4:7d:80");
  assert.equal(stp.Root_Path_Cost, 200000);
  assert.equal(stp.Message_Age, 1);
  assert.deepEqual(stp.MST, {
    Version_3_Length: 96,
    Config_Format_Selector: 0,
    Config_Name: "Brewery",
    Config_Revision: 0,
    Config_Digest: "9357ebb7a8d74dd5fef4f2bab50531aa",
    CIST_Internal_Root_Path_Cost: 200000,
    CIST_Bridge_ID: "32768/0/00:1e:f7:05:a8:80",
    CIST_Remaining_Hops: 20,
    MSTIs: [
      {
        MSTID: 1,
        Flags: {
          Topology_Change_Ack: true,
          Agreement: true,
          Forwarding: true,
          Learning: true,
          Proposal: false,
          Topology_Change: false,
        },
        Port_Role: "Designated",
        Regional_Root_ID: "24576/1/00:1e:f7:05:a8:80",
        Internal_Root_Path_Cost: 0,
        Bridge_Priority: 6,
        Port_Priority: 8,
        Remaining_Hops: 20,
      },
      {
        MSTID: 2,
        Flags: {
          Topology_Change_Ack: true,
          Agreement: true,
          Forwarding: true,
          Learning: true,
          Proposal: false,
          Topology_Change: false,
        },
        Port_Role: "Root",
        Regional_Root_ID: "32768/2/00:16:46:b5:8c:80",
        Internal_Root_Path_Cost: 200000,
        Bridge_Priority: 8,
        Port_Priority: 8,
        Remaining_Hops: 20,
      },
    ],
  });
});

// 802.1ad_QinQ.pcap frame 1: 802.1ad S-tag 200, 802.1Q C-tag 2001, ARP request
const QINQ_ARP = `
0000  ff ff ff ff ff ff 00 20 d2 5a fb 3f 88 a8 00 c8   ....... .Z.?....
0010  81 00 07 d1 08 06 00 01 08 00 06 04 00 01 00 20   ............... 
0020  d2 5a fb 3f ac 15 4f 61 00 00 00 00 00 00 ac 15   .Z.?..Oa........
0030  4f 64 00 00 00 00 00 00 00 00 00 00 00 00 00 00   Od..............
`;

Deno.test("stacked 802.1ad and 802.1Q tags are both kept in order before ARP", () => {
  assert.deepEqual(l2(QINQ_ARP), {
    Ethernet: {
      Source_Address: "00:20:d2:5a:fb:3f",
      Destination_Address: "ff:ff:ff:ff:ff:ff",
      EtherType: 0x88a8,
    },
    "802.1ad": { Priority: 0, DEI: 0, VLAN_ID: 200, EtherType: 0x8100 },
    "802.1Q": { Priority: 0, DEI: 0, VLAN_ID: 2001, EtherType: 0x0806 },
    ARP: {
      Hardware_Type: 1,
      Protocol_Type: 0x0800,
      Hardware_Size: 6,
      Protocol_Size: 4,
      Operation: 1,
      Sender_Hardware_Address: "00:20:d2:5a:fb:3f",
      Sender_Protocol_Address: "172.21.79.97",
      Target_Hardware_Address: "00:00:00:00:00:00",
      Target_Protocol_Address: "172.21.79.100",
    },
  });
});

// DTP.pcap frame 1: LLC/SNAP 00000c:2004 (DTP, not decoded by netmon)
const DTP = `
0000  01 00 0c cc cc cc 00 19 06 ea b8 85 00 25 aa aa   .............%..
0010  03 00 00 0c 20 04 01 00 01 00 08 4c 61 62 00 00   .... ......Lab..
0020  02 00 05 04 00 03 00 05 40 00 04 00 0a 00 19 06   ........@.......
0030  ea b8 85 00 00 00 00 00 00 00 00 00               ............
`;

Deno.test("an unknown SNAP protocol ends cleanly after SNAP with the rest as Payload", () => {
  const rec = l2(DTP);
  assert.deepEqual(Object.keys(rec), ["Ethernet", "LLC", "SNAP", "Payload"]);
  // 802.3 length 0x25 = 37: LLC 3 + SNAP 5 leave 29 bytes; the 9 bytes of padding are not counted
  assert.deepEqual(rec.Payload, {
    Length: 29,
    Captured_Length: 29,
    Unknown_Protocol: "SNAP 00000c:2004",
  });
  assert.equal(rec.Decode_Errors, undefined);
});

// lldp-app-priority.pcap frame 1
const LLDP = `
0000  01 80 c2 00 00 0e 00 00 00 00 00 00 88 cc 02 07   ................
0010  04 00 00 00 02 00 02 04 0d 05 6c 65 61 66 30 62   ..........leaf0b
0020  2d 65 74 68 31 30 06 02 00 78 08 29 42 69 67 20   -eth10...x.)Big 
0030  43 6c 6f 75 64 20 46 61 62 72 69 63 20 53 77 69   Cloud Fabric Swi
0040  74 63 68 20 50 6f 72 74 20 6c 65 61 66 30 62 2d   tch Port leaf0b-
0050  65 74 68 31 30 0a 06 6c 65 61 66 30 62 0c 11 35   eth10..leaf0b..5
0060  63 3a 31 36 3a 63 37 3a 30 30 3a 30 30 3a 30 31   c:16:c7:00:00:01
0070  fe 05 00 26 e1 01 01 fe 09 00 26 e1 02 6c 65 61   ...&......&..lea
0080  66 30 fe 05 00 26 e1 03 01 fe 10 00 26 e1 04 00   f0...&......&...
0090  00 5c 16 c7 0b ba 1b 00 00 00 00 fe 06 00 80 c2   .\\..............
00a0  0b 01 10 fe 08 00 80 c2 0c 00 84 0c bc 00 00      ...............
`;

Deno.test("decodeLldp() gives the mandatory and optional TLVs and keeps organisation TLVs as hex", () => {
  assert.deepEqual(l2(LLDP).LLDP, {
    Chassis_ID: "00:00:00:02:00:02",
    Chassis_ID_Subtype: 4,
    Port_ID: "leaf0b-eth10",
    Port_ID_Subtype: 5,
    TTL: 120,
    Port_Description: "Big Cloud Fabric Switch Port leaf0b-eth10",
    System_Name: "leaf0b",
    System_Description: "5c:16:c7:00:00:01",
    System_Capabilities: null,
    Management_Addresses: null,
    Organization_Specific: [
      { OUI: "00:26:e1", Subtype: 1, Data: "01" },
      { OUI: "00:26:e1", Subtype: 2, Data: "6c65616630" },
      { OUI: "00:26:e1", Subtype: 3, Data: "01" },
      { OUI: "00:26:e1", Subtype: 4, Data: "00005c16c70bba1b00000000" },
      { OUI: "00:80:c2", Subtype: 11, Data: "0110" },
      { OUI: "00:80:c2", Subtype: 12, Data: "00840cbc" },
    ],
  });
});

// 3560_CDP.pcap frame 1 (400 bytes)
const CDP = `
0000  01 00 0c cc cc cc 00 19 06 ea b8 85 01 82 aa aa   ................
0010  03 00 00 0c 20 00 02 b4 b0 bd 00 01 00 0a 53 77   .... .........Sw
0020  69 74 63 68 00 05 00 c4 43 69 73 63 6f 20 49 4f   itch....Cisco IO
0030  53 20 53 6f 66 74 77 61 72 65 2c 20 43 33 35 36   S Software, C356
0040  30 20 53 6f 66 74 77 61 72 65 20 28 43 33 35 36   0 Software (C356
0050  30 2d 41 44 56 49 50 53 45 52 56 49 43 45 53 4b   0-ADVIPSERVICESK
0060  39 2d 4d 29 2c 20 56 65 72 73 69 6f 6e 20 31 32   9-M), Version 12
0070  2e 32 28 32 35 29 53 45 42 34 2c 20 52 45 4c 45   .2(25)SEB4, RELE
0080  41 53 45 20 53 4f 46 54 57 41 52 45 20 28 66 63   ASE SOFTWARE (fc
0090  31 29 0a 43 6f 70 79 72 69 67 68 74 20 28 63 29   1).Copyright (c)
00a0  20 31 39 38 36 2d 32 30 30 35 20 62 79 20 43 69    1986-2005 by Ci
00b0  73 63 6f 20 53 79 73 74 65 6d 73 2c 20 49 6e 63   sco Systems, Inc
00c0  2e 0a 43 6f 6d 70 69 6c 65 64 20 54 75 65 20 33   ..Compiled Tue 3
00d0  30 2d 41 75 67 2d 30 35 20 31 37 3a 35 36 20 62   0-Aug-05 17:56 b
00e0  79 20 79 65 6e 61 6e 68 00 06 00 18 63 69 73 63   y yenanh....cisc
00f0  6f 20 57 53 2d 43 33 35 36 30 47 2d 32 34 50 53   o WS-C3560G-24PS
0100  00 02 00 11 00 00 00 01 01 01 cc 00 04 c0 a8 00   ................
0110  01 00 03 00 16 47 69 67 61 62 69 74 45 74 68 65   .....GigabitEthe
0120  72 6e 65 74 30 2f 35 00 04 00 08 00 00 00 28 00   rnet0/5.......(.
0130  08 00 24 00 00 0c 01 12 00 00 00 00 ff ff ff ff   ..$.............
0140  01 02 21 ff 00 00 00 00 00 00 00 19 06 ea b8 80   ..!.............
0150  ff 00 00 00 09 00 07 4c 61 62 00 0a 00 06 00 01   .......Lab......
0160  00 0b 00 05 01 00 12 00 05 00 00 13 00 05 00 00   ................
0170  16 00 11 00 00 00 01 01 01 cc 00 04 c0 a8 00 01   ................
0180  00 1a 00 10 00 00 00 01 00 00 00 00 ff ff ff ff   ................
`;

Deno.test("decodeCdp() reads the header, verifies the checksum and picks the TLVs", () => {
  const cdp = l2(CDP).CDP as Record<string, unknown>;
  assert.equal(cdp.Version, 2);
  assert.equal(cdp.TTL, 180);
  assert.equal(cdp.Checksum, 0xb0bd);
  assert.equal(cdp.Checksum_Status, "good");
  assert.equal(cdp.Device_ID, "Switch");
  assert.equal(cdp.Port_ID, "GigabitEthernet0/5");
  assert.equal(cdp.Platform, "cisco WS-C3560G-24PS");
  assert.match(
    String(cdp.Software_Version),
    /^Cisco IOS Software.*\nCopyright.*\nCompiled .* by yenanh$/,
  );
  assert.deepEqual(cdp.Addresses, ["192.168.0.1"]);
  assert.deepEqual(cdp.Management_Addresses, ["192.168.0.1"]);
  assert.equal((cdp.Capabilities as Record<string, boolean>).Switch, true);
  assert.equal((cdp.Capabilities as Record<string, boolean>).Router, false);
  assert.equal(cdp.Native_VLAN, 1);
  assert.equal(cdp.Duplex, "Full");
  assert.equal(cdp.VTP_Management_Domain, "Lab");
});

Deno.test("a CDP PDU cut by the snap length keeps only version and TTL, as Wireshark does", () => {
  const bytes = fromDump(CDP);
  const rec = decodeBytes(bytes.subarray(0, 0x100), bytes.length);
  const cdp = rec.CDP as Record<string, unknown>;
  assert.equal(cdp.Version, 2);
  assert.equal(cdp.TTL, 180);
  assert.equal(cdp.Checksum, null);
  assert.equal(cdp.Checksum_Status, "unverified");
  assert.equal(cdp.Device_ID, null);
  // the CDP header starts at 0x16 (14 Ethernet + 3 LLC + 5 SNAP); the checksum at 0x18
  assert.deepEqual(rec.Decode_Errors, [{ Layer: "CDP", Problem: "truncated", Offset: 0x18 }]);
});
