/** Helpers for the store tests: a capture shipped through a real `netmon serve`, API calls. */
import { ServeProcess } from "../submit/helpers.ts";
import { runNetmon } from "../helpers/run.ts";
import { ClickHouse, clickHouseMissing } from "../submit/clickhouse_server.ts";

export { ClickHouse, clickHouseMissing, ServeProcess };

/** GET an API path; returns status and JSON. */
export async function api<T = Record<string, unknown>>(
  base: string,
  path: string,
  params: Record<string, string | number> = {},
): Promise<{ status: number; body: T }> {
  const u = new URL(path, base);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, String(v));
  const r = await fetch(u);
  return { status: r.status, body: await r.json() as T };
}

/** `netmon capture -r FILE --server URL` (records and flows, Community ID), asserting success. */
export async function ship(pcap: string, url: string, spool: string, extra: string[] = []) {
  const r = await runNetmon([
    "capture",
    "-r",
    pcap,
    "--server",
    url,
    "--spool",
    spool,
    "--community-id",
    "--capture-self",
    ...extra,
  ], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`capture failed (${r.code}): ${r.stderr}`);
  return r;
}

/** The stores a test runs against: SQLite always, ClickHouse when installed. */
export async function withStores(
  fn: (store: "sqlite" | "clickhouse", srv: ServeProcess, dir: string) => Promise<void>,
): Promise<void> {
  for (const kind of ["sqlite", "clickhouse"] as const) {
    if (kind === "clickhouse" && clickHouseMissing() !== null) {
      console.log(`skipping ClickHouse: ${clickHouseMissing()}`);
      continue;
    }
    const dir = await Deno.makeTempDir({ prefix: `netmon-store-${kind}-` });
    let ch: ClickHouse | null = null;
    let srv: ServeProcess | null = null;
    try {
      let where = `${dir}/db.sqlite`;
      if (kind === "clickhouse") {
        ch = await ClickHouse.start();
        where = `clickhouse://127.0.0.1:${ch.httpPort}/netmon`;
      }
      srv = await ServeProcess.start(where);
      await fn(kind, srv, dir);
    } finally {
      await srv?.stop();
      await ch?.stop();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  }
}

/** Runs tshark and returns stdout. */
export function tshark(args: string[]): string {
  const out = new Deno.Command("tshark", {
    args,
    stdout: "piped",
    stderr: "piped",
    env: { HOME: "/tmp" },
  }).outputSync();
  if (!out.success) throw new Error(`tshark failed: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}
