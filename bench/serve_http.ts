/**
 * The server's HTTP transport (src/server/http.ts) side by side with `Deno.serve` (the
 * peer: hyper, in Rust) in one run, same handlers, same client (curl for uploads, fetch
 * for small requests):
 *  1. upload throughput: 8 x 64 MiB POST bodies, read whole and counted by the handler;
 *  2. small requests: 2000 GETs over one keep-alive connection (fetch), then 2000 with
 *     4 in parallel.
 * Prints a markdown table; the ratio column is transport / Deno.serve (higher is better).
 */
import { ByteBudget } from "../src/server/budget.ts";
import { serveHttp } from "../src/server/http.ts";
import { createLogger } from "../src/log/mod.ts";

const log = createLogger("error");

async function handler(req: Request): Promise<Response> {
  let n = 0;
  if (req.body) { for await (const c of req.body) n += c.length; }
  return new Response(`${n}\n`);
}

interface Server {
  port: number;
  stop(): Promise<void>;
}

function ours(): Server {
  const s = serveHttp({
    hostname: "127.0.0.1",
    port: 0,
    budget: new ByteBudget(1 << 30, 1000),
    log,
  }, handler);
  return { port: s.addr.port, stop: () => s.shutdown() };
}

function peer(): Server {
  const s = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
  return { port: (s.addr as Deno.NetAddr).port, stop: () => s.shutdown() };
}

const dir = await Deno.makeTempDir({ prefix: "netmon-bench-http-" });
const file = `${dir}/body`;
await Deno.writeFile(file, new Uint8Array(64 * 2 ** 20).map((_, i) => i & 0xff));

async function uploads(port: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < 8; i++) {
    const out = await new Deno.Command("curl", {
      args: ["-sS", "--data-binary", `@${file}`, `http://127.0.0.1:${port}/`],
    }).output();
    if (new TextDecoder().decode(out.stdout).trim() !== String(64 * 2 ** 20)) {
      throw new Error("upload");
    }
  }
  return (8 * 64) / ((performance.now() - t0) / 1000); // MiB/s
}

async function small(port: number, parallel: number): Promise<number> {
  const n = 2000;
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < n) {
      next++;
      const r = await fetch(`http://127.0.0.1:${port}/x`);
      await r.text();
    }
  }));
  return n / ((performance.now() - t0) / 1000);
}

const rows: [string, number, number][] = [];
for (
  const [name, fn] of [
    ["upload 8 x 64 MiB (curl), MiB/s", uploads],
    ["2000 GETs, 1 connection (fetch), requests/s", (p: number) => small(p, 1)],
    ["2000 GETs, 4 at once (fetch), requests/s", (p: number) => small(p, 4)],
  ] as const
) {
  const a = ours();
  const mine = await fn(a.port);
  await a.stop();
  const b = peer();
  const theirs = await fn(b.port);
  await b.stop();
  rows.push([name, mine, theirs]);
}
await Deno.remove(dir, { recursive: true });
const load = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
console.log(`load average ${load}\n`);
console.log("| measure | netmon transport | Deno.serve | ratio |");
console.log("|---|---|---|---|");
for (const [name, m, t] of rows) {
  console.log(`| ${name} | ${m.toFixed(0)} | ${t.toFixed(0)} | ${(m / t).toFixed(2)} |`);
}
