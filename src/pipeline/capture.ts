/**
 * The capture pipeline: source -> decode -> self-traffic guard -> filters -> flows ->
 * outputs (stdout, pcap file, shipper). Every stage between the source and the
 * shipper is synchronous per frame; the shipper's queue is bounded and counts drops.
 *
 * Output rule: `--json` prints JSON lines, `-w` writes pcap, `--server`/`--spool`
 * ship records. With none of these, human lines go to stdout (like tcpdump).
 */
import { decodeFrame, type Frame, newDecoder } from "../decode/mod.ts";
import type { PacketRecord } from "../decode/record.ts";
import type { PacketSource, SourceControl } from "../capture/source.ts";
import type { FrameMeta } from "../decode/meta.ts";
import { openCaptureFile } from "../capture/file.ts";
import { openLive } from "../capture/live.ts";
import { createPcapWriter, type FrameWriter } from "../capture/pcap_writer.ts";
import { compileFilterSet } from "../filter/mod.ts";
import { buildSelfExclusion, isSelfStub, type SelfExclusion } from "../filter/self.ts";
import { FlowTracker } from "../flow/mod.ts";
import { createShipper, prepareSpoolForUser, type Shipper } from "../submit/mod.ts";
import type { Settings } from "../config/settings.ts";
import { createLogger, type Logger } from "../log/mod.ts";
import { jsonPrinter, type RecordPrinter, textPrinter } from "../output/stdout.ts";
import { RuntimeFailure, UsageError } from "../errors.ts";
import { openResolver } from "../attribution/mod.ts";
import { escapeControl } from "../output/escape.ts";

export interface CaptureJob {
  settings: Settings;
  /** Capture file to read instead of a live interface. */
  readFile?: string;
  /** pcap file for the frames that pass. */
  writeFile?: string;
  /** Stop after this many frames passed the filters (0: no limit). */
  count: number;
  /** Stop after this many seconds (0: no limit). */
  durationS?: number;
  /** JSON lines on stdout. */
  json: boolean;
  /** The user named a spool directory (spool even without a server). */
  spoolGiven: boolean;
  /** For tests: where status and summary lines go (default stderr). */
  logger?: Logger;
}

/** Counters of one run, for the status line and the exit summary. */
export interface CaptureCounters {
  /** Frames the source handed over. */
  frames: number;
  /** Frames that passed the filters (what "captured" means in the summary). */
  passed: number;
  filteredOut: number;
  selfExcluded: number;
  shipDropped: number;
  flowRecords: number;
}

/** Flow timers run on packet time; check them at most this often (seconds of packet time). */
const EXPIRE_EVERY_S = 1;
/** Most flow records one expiry or flush step emits, so bursts never flood the shipper queue. */
const FLOW_BURST = 2000;

export async function runCapture(job: CaptureJob): Promise<number> {
  const s = job.settings;
  const log = job.logger ?? createLogger(s.logLevel, s.logFile);
  const filters = await compileFilterSet(s.filter, s.exclude);
  const shipping = s.serverUrl !== "" || job.spoolGiven;
  const self: SelfExclusion | null = s.serverUrl !== "" && !s.captureSelf
    ? await buildSelfExclusion(s.serverUrl)
    : null;

  const dec = pipelineDecoder(s);

  let source: PacketSource;
  if (job.readFile !== undefined) source = await openCaptureFile(job.readFile);
  else {
    // --user: the spool is opened after root is dropped; make it for that user first.
    if (shipping && s.user !== "") await prepareSpoolForUser(s.spoolDir, s.user);
    source = await openLive({ settings: s, log, bpf: self ? self.bpf : null });
  }
  // Process attribution: live capture only (a file's sockets are long gone).
  const procs = job.readFile === undefined && s.processes
    ? openResolver(s.interface, log, { dropsPrivileges: s.user !== "" })
    : null;

  let writer: FrameWriter | null = null;
  let printer: RecordPrinter | null = null;
  let shipper: Shipper | null = null;
  const counters: CaptureCounters = {
    frames: 0,
    passed: 0,
    filteredOut: 0,
    selfExcluded: 0,
    shipDropped: 0,
    flowRecords: 0,
  };
  try {
    if (job.writeFile !== undefined) {
      writer = await createPcapWriter(job.writeFile, source.linkType, s.snaplen);
    }
    if (job.json) printer = jsonPrinter();
    else if (!shipping && job.writeFile === undefined) printer = textPrinter();
    if (shipping) shipper = await createShipper(s, log);
  } catch (e) {
    source.close();
    procs?.close();
    throw e;
  }

  const emit = (rec: PacketRecord): void => {
    if (printer !== null) printer.write(rec);
    if (shipper !== null && !shipper.push(rec)) counters.shipDropped++;
  };
  const flowPred = filters.flows;
  const flows = s.flows
    ? new FlowTracker(s, (rec) => {
      if (flowPred !== null && !flowPred(rec)) return;
      counters.flowRecords++;
      emit(rec);
    }, procs)
    : null;

  const abort = new AbortController();

  const pktPred = filters.packets;
  const flowsOnly = s.flowsOnly;
  // Packet records carry Process when they are printed or filtered; flows get it anyway.
  const annotate = procs !== null && (!flowsOnly || pktPred !== null) ? procs : null;
  let lastExpire = 0;
  let expirePending = false;
  const sink = (view: DataView, bytes: Uint8Array, off: number, meta: FrameMeta): void => {
    if (abort.signal.aborted) return;
    counters.frames++;
    // The kernel program keeps a 1-byte stub of each submission-traffic frame: count it, skip it.
    if (self !== null && isSelfStub(meta.capLen, meta.wireLen)) {
      counters.selfExcluded++;
      return;
    }
    const rec = decodeFrame(dec, view, bytes, off, meta);
    if (self !== null && self.matches(dec)) {
      counters.selfExcluded++;
      return;
    }
    if (annotate !== null) annotate.annotate(dec, rec);
    if (pktPred !== null && !pktPred(rec)) {
      counters.filteredOut++;
      return;
    }
    counters.passed++;
    if (writer !== null) writer.write(bytes, off, meta);
    if (flows !== null) {
      flows.observe(dec, meta, rec);
      if (expirePending || meta.sec - lastExpire >= EXPIRE_EVERY_S) {
        lastExpire = meta.sec;
        expirePending = flows.expire(meta.sec + meta.nsec / 1e9, FLOW_BURST);
      }
    }
    if (!flowsOnly) emit(rec);
    if (job.count > 0 && counters.passed >= job.count) abort.abort();
  };

  // When stdout is the only output and its reader went away (`| head`), stop like tcpdump.
  const onlyStdout = printer !== null && writer === null && shipper === null;
  const ctl: SourceControl = {
    signal: abort.signal,
    ready: () => {
      printer?.flush();
      if (onlyStdout && printer!.broken()) abort.abort();
      return shipper !== null ? shipper.ready() : Promise.resolve();
    },
  };

  // Signals: the first SIGINT/SIGTERM stops reading and drains; a second SIGINT exits at once.
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts > 1) Deno.exit(130);
    abort.abort();
  };
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const sig of signals) Deno.addSignalListener(sig, onSignal);

  const stopTimer = (job.durationS ?? 0) > 0
    ? setTimeout(() => abort.abort(), job.durationS! * 1000)
    : undefined;
  const status = startStatus(s, source, counters, shipper, job.readFile === undefined);
  // Live capture: flows also time out while the wire is quiet (files run on packet time).
  const flowTimer = flows !== null && job.readFile === undefined
    ? setInterval(() => flows.expire(Date.now() / 1000, FLOW_BURST), 1000)
    : undefined;
  let failure: unknown = null;
  try {
    await source.run(sink, ctl);
  } catch (e) {
    failure = e;
  } finally {
    clearInterval(status);
    clearInterval(flowTimer);
    clearTimeout(stopTimer);
    for (const sig of signals) Deno.removeSignalListener(sig, onSignal);
  }
  // Drain: flows still open are emitted (in steps the shipper's queue can take), outputs
  // flushed, and the shipper gets its grace period.
  procs?.settle();
  if (flows !== null) {
    while (flows.flush(FLOW_BURST) > 0) {
      printer?.flush();
      if (shipper !== null) await shipper.ready();
    }
  }
  printer?.flush();
  const shipLines = shipper !== null ? await shipper.close() : [];
  if (writer !== null) await writer.close();
  const kstats = source.stats();
  source.close();

  const lines: string[] = [];
  /** tcpdump's wording: "1 packet captured", "2 packets captured". */
  const pk = (n: number) => `${n} packet${n === 1 ? "" : "s"}`;
  lines.push(`${pk(counters.passed)} captured`);
  if (kstats !== null) {
    lines.push(`${pk(kstats.packets)} received by filter`);
    lines.push(`${pk(kstats.drops)} dropped by kernel`);
  } else {
    lines.push(`${pk(counters.frames)} read from file`);
  }
  lines.push(
    `netmon: ${counters.filteredOut} filtered out, ${counters.selfExcluded} self-traffic excluded, ` +
      `${counters.shipDropped} dropped (queue full), ${counters.flowRecords} flow records`,
  );
  if (flows !== null) {
    const fs = flows.stats();
    if (fs.evicted > 0) lines.push(`netmon: ${fs.evicted} flows evicted at the flow cap`);
  }
  const rs = dec.reassembly?.stats();
  if (rs !== undefined && rs.reassembled + rs.evicted + rs.timedOut + rs.discarded > 0) {
    lines.push(
      `netmon: ${rs.reassembled} IP datagrams reassembled, ${rs.evicted} dropped at the ` +
        `reassembly memory cap, ${rs.timedOut} timed out, ${rs.discarded} discarded, ` +
        `${rs.datagramsHeld} incomplete at exit`,
    );
  }
  if (procs !== null) {
    lines.push(...procs.summary());
    procs.close();
  }
  lines.push(...shipLines);
  const enc = new TextEncoder();
  // Clear the status line (if one was drawn) before the summary.
  const clear = status !== undefined ? "\r\x1b[K" : "";
  Deno.stderr.writeSync(enc.encode(clear + lines.map(escapeControl).join("\n") + "\n"));
  await log.close();

  if (failure !== null) {
    if (failure instanceof UsageError) throw failure;
    throw new RuntimeFailure(failure instanceof Error ? failure.message : String(failure));
  }
  // Accepted records the spool could not store (disk full): the run failed.
  const lost = shipper?.lossProblem() ?? null;
  if (lost !== null) throw new RuntimeFailure(lost);
  return 0;
}

/** The pipeline's decoder, with its reassembly and UDP port settings (a bad port entry: usage error). */
function pipelineDecoder(s: Settings): Frame {
  try {
    return newDecoder({
      reassemble: s.reassemble,
      reassembly: {
        memoryBytes: s.reassemblyMemoryMb * 1024 * 1024,
        timeoutS: s.reassemblyTimeout,
      },
      udpPorts: s.udpPorts,
    });
  } catch (e) {
    throw new UsageError(`udp_port: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Status line on stderr every few seconds, only when stderr is a terminal. */
function startStatus(
  s: Settings,
  source: PacketSource,
  c: CaptureCounters,
  shipper: Shipper | null,
  live: boolean,
): ReturnType<typeof setInterval> | undefined {
  if (s.statusInterval <= 0 || !live || !Deno.stderr.isTerminal()) return undefined;
  let lastFrames = 0;
  let lastAt = performance.now();
  const enc = new TextEncoder();
  return setInterval(() => {
    const now = performance.now();
    const rate = ((c.frames - lastFrames) * 1000) / Math.max(1, now - lastAt);
    lastFrames = c.frames;
    lastAt = now;
    const k = source.stats();
    const parts = [
      `${rate.toFixed(0)} frames/s`,
      `${c.frames} frames`,
      `kernel drops ${k ? k.drops : 0}`,
    ];
    if (shipper !== null) parts.push(shipper.status());
    if (c.shipDropped > 0) parts.push(`dropped ${c.shipDropped}`);
    Deno.stderr.writeSync(enc.encode(`\r\x1b[K${parts.join(", ")}`));
  }, s.statusInterval * 1000);
}
