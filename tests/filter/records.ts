/** Hand-made packet records for the filter tests (match_test.ts, alloc_probe.ts). */
import type { PacketRecord } from "../../src/decode/record.ts";

/** A TCP SYN record from `src` to `dst` (IPv6 when `src` has a colon). */
export function tcp(
  src: string,
  dst: string,
  sport: number,
  dport: number,
  extra: Record<string, unknown> = {},
): PacketRecord {
  const v6 = src.includes(":");
  return {
    AF_Packet: {
      Interface_Name: "eth0",
      Interface_Index: 2,
      Timestamp: "1700000000.500000000",
      Length: 60,
      Packet_Type: "host",
    },
    Ethernet: {
      Source_Address: "00:1b:21:3c:9d:f8",
      Destination_Address: "ff:ff:ff:ff:ff:ff",
      EtherType: v6 ? 0x86dd : 0x0800,
    },
    [v6 ? "IPv6" : "IPv4"]: {
      Source_Address: src,
      Destination_Address: dst,
      TTL: 64,
      Flags: { Reserved: false, DF: true, MF: false },
      Checksum_Status: "good",
    },
    TCP: {
      Source_Port: sport,
      Destination_Port: dport,
      Flags: {
        CWR: false,
        ECE: false,
        URG: false,
        ACK: false,
        PSH: false,
        RST: false,
        SYN: true,
        FIN: false,
        AE: false,
      },
      Options: [{ Kind: 2, Name: "MSS", Length: 4, Value: 1460 }, {
        Kind: 4,
        Name: "SACK_Permitted",
        Length: 2,
      }],
      ...extra,
    },
  };
}

/**
 * The filter and records of the allocation check: IPv6 and IPv4 CIDRs, a port range,
 * flags and a MAC address, on records that match in different ways (2 of 3 match).
 */
export const ALLOC_FILTER =
  '[{"IPv6": {"Address": ["fd00::/8", "2001:db8::/32"]}, "TCP": {"Port": "1-1024", "Flags": {"SYN": true}}}, {"IPv4": {"Address": "192.168.0.0/16"}, "Ethernet": {"Source_Address": "00:1b:21:3c:9d:f8"}}]';

export function allocRecords(): PacketRecord[] {
  return [
    tcp("10.1.2.3", "192.168.0.9", 40000, 443),
    tcp("2001:db8::1", "fd12:3456::9", 40000, 53),
    tcp("10.0.0.1", "10.0.0.2", 5, 6),
  ];
}
