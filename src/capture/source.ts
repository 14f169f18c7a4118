/**
 * What every packet source (live ring, recvmmsg fallback, pcap/pcapng file) hands
 * the pipeline: the frame's bytes in place plus a reused {@link FrameMeta}.
 * Sources call the sink synchronously, one frame at a time, and never keep a
 * reference to the meta object between calls.
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
    wireLen: 0,
    capLen: 0,
    pktType: -1,
    vlanTci: -1,
    vlanTpid: 0x8100,
    csumNotReady: false,
    linkType: 1,
  };
}

/**
 * Receives frames. `view` and `bytes` cover the same buffer; the frame is
 * bytes[off .. off + meta.capLen). The buffer is only valid during the call.
 */
export type FrameSink = (view: DataView, bytes: Uint8Array, off: number, meta: FrameMeta) => void;

/** Link types netmon decodes. */
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_LINUX_SLL2 = 276;

/** What a packet source gets from the pipeline besides the sink. */
export interface SourceControl {
  /** Aborted when the pipeline wants the source to stop (SIGINT, -c reached). */
  readonly signal: AbortSignal;
  /**
   * File sources await this between chunks of frames: it resolves when the stages
   * behind can take more (lossless replay). Live sources never wait: what the
   * stages cannot take is dropped and counted there.
   */
  ready(): Promise<void>;
}

/** Kernel counters of a live source (PACKET_STATISTICS, accumulated). */
export interface SourceStats {
  packets: number;
  drops: number;
  freezes: number;
}

/** A packet source: a capture file or a live socket. */
export interface PacketSource {
  /** Reads frames into `sink` until the end of the file, the abort signal, or an error. */
  run(sink: FrameSink, ctl: SourceControl): Promise<void>;
  /** Kernel statistics (live only). */
  stats(): SourceStats | null;
  /** Link type of the frames, for the pcap writer. */
  readonly linkType: number;
  close(): void;
}
