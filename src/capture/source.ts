/**
 * What every packet source (live ring, recvmmsg fallback, pcap/pcapng file) hands
 * the pipeline: the frame's bytes in place plus a reused {@link FrameMeta}.
 * Sources call the sink synchronously, one frame at a time, and never keep a
 * reference to the meta object between calls.
 */

import type { FrameMeta } from "../decode/meta.ts";

/**
 * Receives frames. `view` and `bytes` cover the same buffer; the frame is
 * bytes[off .. off + meta.capLen). The buffer is only valid during the call.
 */
export type FrameSink = (view: DataView, bytes: Uint8Array, off: number, meta: FrameMeta) => void;

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
