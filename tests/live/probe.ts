/**
 * Test helper run inside a namespace: opens {@link openLive} directly (with an optional
 * classic BPF program given as hex) and prints one JSON line per frame with the meta the
 * source filled, until `count` frames or SIGINT. Prints "ready" on stderr once the socket
 * is bound.
 *
 * Usage: deno run -A tests/live/probe.ts IFACE COUNT [SNAPLEN] [BPF_HEX]
 */
import { openLive } from "../../src/capture/live.ts";
import { defaultSettings } from "../../src/config/settings.ts";
import { createLogger } from "../../src/log/mod.ts";

const [iface, countArg, snapArg, bpfHex] = Deno.args;
const settings = { ...defaultSettings(), interface: iface, bufferMb: 4 };
if (snapArg && parseInt(snapArg, 10) > 0) settings.snaplen = parseInt(snapArg, 10);
const bpf = bpfHex ? Uint8Array.from(bpfHex.match(/../g)!.map((h) => parseInt(h, 16))) : null;
const count = parseInt(countArg, 10);

const src = await openLive({ settings, log: createLogger("warn"), bpf });
const abort = new AbortController();
Deno.addSignalListener("SIGINT", () => abort.abort());
console.error("ready");
const lines: string[] = [];
let n = 0;
await src.run((view, _bytes, off, meta) => {
  lines.push(JSON.stringify({
    etherType: view.getUint16(off + 12),
    capLen: meta.capLen,
    wireLen: meta.wireLen,
    pktType: meta.pktType,
    ifIndex: meta.ifIndex,
    ifName: meta.ifName,
  }));
  if (++n >= count) abort.abort();
}, { signal: abort.signal, ready: () => Promise.resolve() });
const st = src.stats();
src.close();
console.log(lines.join("\n"));
console.error(JSON.stringify(st));
Deno.exit(0);
