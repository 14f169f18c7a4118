/**
 * What a packet source knows about a frame besides its bytes: the one record type that
 * capture sources fill and decoders, flows and filters read. A leaf module (no imports),
 * so a decode worker loads the decoders without any capture source.
 */

/** Linux packet types (linux/if_packet.h PACKET_HOST ...). */
export const PACKET_TYPE_NAMES = [
  "host",
  "broadcast",
  "multicast",
  "otherhost",
  "outgoing",
] as const;
export type PacketTypeName = (typeof PACKET_TYPE_NAMES)[number];

/** Per-frame metadata; one object reused by each source. */
export interface FrameMeta {
  /** Interface name, or what the file knows ("" when nothing). */
  ifName: string;
  /** Interface index, or -1 when unknown (files: IDB index). */
  ifIndex: number;
  /** Timestamp: whole seconds since the epoch and nanoseconds within it. */
  sec: number;
  nsec: number;
  /**
   * The whole seconds as decimal text when they do not fit a double exactly (beyond
   * 2^53: pcapng with coarse ticks or a large if_tsoffset); "" otherwise.
   */
  secText: string;
  /** Length on the wire and bytes captured. */
  wireLen: number;
  capLen: number;
  /** PACKET_* type (0..4) or -1 when unknown. */
  pktType: number;
  /** VLAN TCI the kernel stripped (tp_vlan_tci), -1 when none. */
  vlanTci: number;
  /** TPID for the stripped tag (0x8100 or 0x88a8). */
  vlanTpid: number;
  /** Kernel marked checksums as not ready yet (TP_STATUS_CSUMNOTREADY). */
  csumNotReady: boolean;
  /** Data link type of the bytes (1 = Ethernet, 113 = Linux SLL, 276 = SLL2). */
  linkType: number;
}

export function newFrameMeta(): FrameMeta {
  return {
    ifName: "",
    ifIndex: -1,
    sec: 0,
    nsec: 0,
    secText: "",
    wireLen: 0,
    capLen: 0,
    pktType: -1,
    vlanTci: -1,
    vlanTpid: 0x8100,
    csumNotReady: false,
    linkType: 1,
  };
}

/** Link types netmon decodes. */
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_LINUX_SLL2 = 276;
