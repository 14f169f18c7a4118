/**
 * `netmon top -i IFACE`: live capture on one interface, every frame counted for the process
 * that sent or received it (src/attribution), shown in the terminal view (src/ui) or, with
 * `--once`, printed after one interval (`--json` for scripts).
 *
 * @module
 */
import { openLive } from "../capture/live.ts";
import type { PacketSource } from "../capture/source.ts";
import type { FrameMeta } from "../decode/meta.ts";
import { decodeFrame, newDecoder } from "../decode/mod.ts";
import { defaultSettings } from "../config/settings.ts";
import { createLogger } from "../log/mod.ts";
import { openResolver } from "../attribution/mod.ts";
import { RuntimeFailure, UsageError } from "../errors.ts";
import { runLive } from "../ui/live.ts";
import { layoutTable } from "../ui/table.ts";
import { writeAllSync } from "../ui/terminal.ts";
import { byteRate, bytes } from "../proc/columns.ts";
import { type TopDocument, TopModel } from "./model.ts";
import { TopSource } from "./view.ts";

export interface TopOptions {
  interface: string;
  /** Seconds between refreshes (and, with --once, how long to count). */
  interval: number;
  once: boolean;
  json: boolean;
}

/** Bytes of each frame decoded: Ethernet, IPv6 with a few extension headers, TCP with options. */
const SNAPLEN = 256;

/** The text table of `--once` without `--json`. */
export function topText(d: TopDocument): string {
  type Row = {
    name: string;
    pid: string;
    t: TopDocument["Processes"][number] | TopDocument["Unattributed"][number];
  };
  const rows: Row[] = [
    ...d.Processes.map((p) => ({ name: p.Process.Name, pid: String(p.Process.PID), t: p })),
    ...d.Unattributed.map((u) => ({ name: `[${u.Kind}]`, pid: "-", t: u })),
  ];
  const lines = layoutTable<Row>([
    { title: "Process", value: (r) => r.name },
    { title: "PID", value: (r) => r.pid, align: "right" },
    { title: "Sent/s", value: (r) => byteRate(r.t.Sent_Rate), align: "right" },
    { title: "Recv/s", value: (r) => byteRate(r.t.Received_Rate), align: "right" },
    { title: "Sent", value: (r) => bytes(r.t.Sent_Bytes), align: "right" },
    { title: "Received", value: (r) => bytes(r.t.Received_Bytes), align: "right" },
  ], rows);
  return [`netmon top -i ${d.Interface}: ${d.Duration} s`, ...lines].join("\n") + "\n";
}

export async function runTop(o: TopOptions): Promise<number> {
  const settings = {
    ...defaultSettings(),
    interface: o.interface,
    snaplen: SNAPLEN,
    promisc: false,
  };
  const log = createLogger("warn", "");
  const source: PacketSource = await openLive({ settings, log, bpf: null });
  const resolver = openResolver(o.interface, log);
  if (resolver === null) {
    source.close();
    throw new UsageError("top: naming processes needs root (reading every process's descriptors)");
  }
  const model = new TopModel(resolver, o.interface);
  const dec = newDecoder();
  const abort = new AbortController();
  let failure: unknown = null;
  const running = source.run((view, b, off, meta: FrameMeta) => {
    decodeFrame(dec, view, b, off, meta);
    model.add(dec, meta);
  }, { signal: abort.signal, ready: () => Promise.resolve() }).catch((e) => {
    failure = e;
  });
  const ended = () =>
    failure === null
      ? null
      : `capture failed: ${failure instanceof Error ? failure.message : failure}`;
  try {
    if (o.once) {
      await new Promise((r) => setTimeout(r, o.interval * 1000));
      resolver.settle();
      if (failure !== null) throw new RuntimeFailure(`top: ${ended()}`);
      // Count the last second too: "now" is the second after the last frame.
      const doc = model.document(Math.floor(Date.now() / 1000) + 1);
      const out = o.json ? JSON.stringify(doc) + "\n" : topText(doc);
      writeAllSync(Deno.stdout, new TextEncoder().encode(out));
      return 0;
    }
    return await runLive(new TopSource(model, ended), {
      tab: "processes",
      interval: o.interval,
      intro: false,
      name: "top",
    });
  } finally {
    abort.abort();
    await running;
    source.close();
    resolver.close();
  }
}
