/**
 * Live capture on one interface through an AF_PACKET socket (ffi/libc.ts).
 *
 * Setup order (no frame of another interface, none before the filter):
 * 1. socket(AF_PACKET, SOCK_RAW, 0): protocol 0 receives nothing yet;
 * 2. TPACKET_V3 + PACKET_RX_RING + one mmap (ENOMEM: halve the ring and retry; no ring at
 *    all: recvmmsg batches, with a warning);
 * 3. SO_ATTACH_FILTER (self-traffic program and/or snap length), PACKET_IGNORE_OUTGOING
 *    on loopback, PACKET_ADD_MEMBERSHIP promiscuous;
 * 4. bind(ETH_P_ALL, ifindex): from here frames of that interface only, already filtered;
 * 5. --user: seal Deno's cache files (seal.ts), then drop root.
 *
 * Setting NETMON_LIVE_RECVMMSG=1 in the environment skips the ring (tests, benchmarks).
 */
import type { FrameSink, PacketSource, SourceControl, SourceStats } from "./source.ts";
import { LINKTYPE_ETHERNET } from "../decode/meta.ts";
import type { Settings } from "../config/settings.ts";
import type { Logger } from "../log/mod.ts";
import { RuntimeFailure, UsageError } from "../errors.ts";
import { libc, SysError } from "../../ffi/libc.ts";
import {
  ARPHRD_ETHER,
  ARPHRD_LOOPBACK,
  PACKET_IGNORE_OUTGOING,
  SOL_PACKET,
} from "../../ffi/constants.ts";
import { findLink, type LinkInfo } from "./interfaces.ts";
import {
  addPromiscMembership,
  attachFilter,
  bindPacket,
  dropPrivileges,
  KernelStats,
  lookupUser,
  openPacketSocket,
  setIntOption,
  snapProgram,
} from "./packet_socket.ts";
import {
  mapRing,
  mapShrinking,
  type ReaderTarget,
  ringGeometry,
  RingReader,
  RingSetupError,
  setTpacketV3,
} from "./ring.ts";
import { MmsgReader, prepareRecvSocket } from "./recvmmsg.ts";
import { sealTrustedFiles } from "./seal.ts";

export interface LiveOptions {
  settings: Settings;
  log: Logger;
  /** Classic BPF program to attach (self-traffic exclusion), or null. */
  bpf: Uint8Array | null;
}

/** Largest snap length (libpcap's MAXIMUM_SNAPLEN); below it a BPF return limits copies. */
const MAX_SNAPLEN = 262144;
/** Smallest ring tried before falling back to recvmmsg. */
const MIN_RING_BYTES = 1024 * 1024;

interface Reader {
  run(sink: FrameSink, ctl: SourceControl): Promise<void>;
}

class LiveSource implements PacketSource {
  readonly linkType = LINKTYPE_ETHERNET;
  readonly mode: "ring" | "recvmmsg";
  #fd: number;
  readonly #reader: Reader;
  readonly #ring: RingReader | null;
  readonly #stats = new KernelStats();

  constructor(fd: number, reader: RingReader | MmsgReader) {
    this.#fd = fd;
    this.#reader = reader;
    this.#ring = reader instanceof RingReader ? reader : null;
    this.mode = this.#ring !== null ? "ring" : "recvmmsg";
  }

  run(sink: FrameSink, ctl: SourceControl): Promise<void> {
    if (this.#fd < 0) return Promise.reject(new Error("live source is closed"));
    return this.#reader.run(sink, ctl);
  }

  stats(): SourceStats {
    return this.#stats.read(this.#fd).snapshot();
  }

  close(): void {
    if (this.#fd < 0) return;
    this.#stats.read(this.#fd); // keep the last counts for stats() after close
    this.#ring?.unmap();
    libc().close(this.#fd);
    this.#fd = -1;
  }
}

/**
 * Opens a live capture on `settings.interface`.
 *
 * @example
 * ```ts
 * const src = await openLive({ settings, log, bpf: null });
 * await src.run((view, bytes, off, meta) => {}, ctl);
 * src.close();
 * ```
 */
export function openLive(opts: LiveOptions): Promise<PacketSource> {
  try {
    return Promise.resolve(openLiveSync(opts));
  } catch (e) {
    return Promise.reject(e);
  }
}

function openLiveSync(opts: LiveOptions): LiveSource {
  const s = opts.settings;
  const link = findLink(s.interface);
  if (link.type !== ARPHRD_ETHER && link.type !== ARPHRD_LOOPBACK) {
    throw new UsageError(
      `interface '${link.name}' has link type ${link.type}; live capture supports Ethernet and loopback`,
    );
  }
  const user = s.user !== "" ? lookupUser(s.user) : null;
  const fd = openPacketSocket(link.name);
  let reader: RingReader | MmsgReader | null = null;
  try {
    const target: ReaderTarget = {
      ifName: link.name,
      ifIndex: link.index,
      snaplen: s.snaplen,
      skipOutgoing: false,
    };
    reader = setupReader(fd, link, target, s, opts.log);
    const prog = snapProgram(opts.bpf, s.snaplen, MAX_SNAPLEN);
    if (prog !== null) attachFilter(fd, prog);
    if (link.type === ARPHRD_LOOPBACK) {
      // Loopback shows each frame twice (outgoing, then incoming); keep one, like libpcap.
      if (setIntOption(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1) < 0) target.skipOutgoing = true;
    }
    if (s.promisc && link.type !== ARPHRD_LOOPBACK) addPromiscMembership(fd, link.index);
    bindPacket(fd, link.index);
    if (user !== null) {
      // Nothing writable that root trusts may stay with the unprivileged process.
      const sealed = sealTrustedFiles(s.user);
      if (sealed.length > 0) opts.log.debug(`--user: sealed ${sealed.join(", ")}`);
      dropPrivileges(s.user, user);
    }
    return new LiveSource(fd, reader);
  } catch (e) {
    if (reader instanceof RingReader) reader.unmap();
    libc().close(fd);
    if (e instanceof UsageError) throw e;
    if (e instanceof SysError) {
      throw new RuntimeFailure(`live capture on '${link.name}': ${e.message}`);
    }
    throw e;
  }
}

/** The ring (shrunk on ENOMEM), else the recvmmsg fallback with a warning. */
function setupReader(
  fd: number,
  link: LinkInfo,
  target: ReaderTarget,
  s: Settings,
  log: Logger,
): RingReader | MmsgReader {
  const bufferBytes = s.bufferMb * 1024 * 1024;
  let why = "";
  if (Deno.env.get("NETMON_LIVE_RECVMMSG") === "1") {
    why = "NETMON_LIVE_RECVMMSG=1";
  } else {
    try {
      setTpacketV3(fd);
      const want = ringGeometry(s.snaplen, bufferBytes);
      const { value: ptr, geometry: g } = mapShrinking(want, MIN_RING_BYTES, (g) => mapRing(fd, g));
      const size = g.blockSize * g.blockNr;
      if (g.blockNr < want.blockNr) {
        log.warn(
          `${link.name}: not enough memory for a ${s.bufferMb} MiB ring; using ${
            size / 1048576
          } MiB`,
        );
      }
      log.debug(`${link.name}: TPACKET_V3 ring of ${g.blockNr} blocks of ${g.blockSize} bytes`);
      return new RingReader(fd, ptr, g, target);
    } catch (e) {
      if (!(e instanceof RingSetupError)) throw e;
      why = e.message;
    }
  }
  log.warn(`${link.name}: no TPACKET_V3 ring (${why}); reading with recvmmsg batches (slower)`);
  prepareRecvSocket(fd, bufferBytes);
  return new MmsgReader(fd, target);
}
