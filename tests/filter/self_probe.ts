/**
 * Test helper run inside a namespace: opens a live capture on IFACE with the
 * self-exclusion BPF program for the given server addresses and port attached (no
 * user-space guard), prints each frame it receives as hex (one line), and stops at
 * the first frame with EtherType 0x88b5 (the end marker), or after 20 s.
 * Prints "ready" on stderr once the socket is bound.
 *
 * Usage: deno run -A tests/filter/self_probe.ts IFACE PORT ADDR...
 */
import { openLive } from "../../src/capture/live.ts";
import { defaultSettings } from "../../src/config/settings.ts";
import { createLogger } from "../../src/log/mod.ts";
import { selfExclusionFor, type ServerEndpoint } from "../../src/filter/self.ts";
import { ipv6Bytes, parseIpv4, parseIpv6 } from "../../src/filter/addr.ts";

const [iface, portArg, ...addrs] = Deno.args;
const ep: ServerEndpoint = { v4: [], v6: [], port: Number(portArg) };
for (const a of addrs) {
  const g = new Uint16Array(8);
  if (parseIpv6(a, g)) ep.v6.push(ipv6Bytes(g));
  else ep.v4.push(parseIpv4(a));
}
const settings = { ...defaultSettings(), interface: iface, bufferMb: 4, promisc: false };
const src = await openLive({ settings, log: createLogger("warn"), bpf: selfExclusionFor(ep).bpf });
const abort = new AbortController();
const timer = setTimeout(() => abort.abort(), 20_000);
Deno.addSignalListener("SIGINT", () => abort.abort());
console.error("ready");
const lines: string[] = [];
await src.run((_view, bytes, off, meta) => {
  let h = "";
  for (let i = off; i < off + meta.capLen; i++) h += bytes[i].toString(16).padStart(2, "0");
  lines.push(h);
  if (meta.capLen >= 14 && bytes[off + 12] === 0x88 && bytes[off + 13] === 0xb5) abort.abort();
}, { signal: abort.signal, ready: () => Promise.resolve() });
clearTimeout(timer);
src.close();
console.log(lines.join("\n"));
Deno.exit(0);
