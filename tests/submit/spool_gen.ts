/**
 * Spools for the memory test and benchmark: segments of whole batches as an agent
 * writes them, the peak RSS of a netmon command, and a server that discards.
 */
import { MAIN, PCAPS } from "../helpers/run.ts";
import { type Batch, Batcher } from "../../src/submit/batch.ts";

/** Writes `mb` MiB of 4 MiB segments of whole batches (a spool an agent could have left). */
export async function makeSpool(dir: string, mb: number): Promise<number> {
  await Deno.mkdir(dir, { mode: 0o700 });
  const out: Batch[] = [];
  const b = new Batcher("ag", "big", { records: 1000, bytes: 1 << 30, seconds: 3600 }, (x) => {
    out.push(x);
  });
  let records = 0;
  for (let seg = 0, total = 0; total < mb * 1048576; seg++) {
    const parts: Uint8Array[] = [];
    let size = 0;
    while (size < 4 * 1048576) {
      for (let i = 0; i < 1000; i++) b.add({ UDP: { Source_Port: i, Pad: "x".repeat(200) } });
      const x = out.shift()!;
      parts.push(x.body.slice());
      size += x.body.length;
      records += x.records;
    }
    const f = await Deno.open(
      `${dir}/seg-${String(1_700_000_000_000 + seg).padStart(14, "0")}-1-${
        String(seg).padStart(6, "0")
      }.jsonl`,
      { write: true, createNew: true, mode: 0o600 },
    );
    for (const p of parts) await f.write(p);
    f.close();
    total += size;
  }
  return records;
}

/** Runs netmon and returns its peak RSS in MiB and its exit code. */
export async function peakRss(
  args: string[],
): Promise<{ mb: number; code: number; stderr: string }> {
  const py = "import resource,subprocess,sys\n" +
    "r=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.PIPE)\n" +
    "sys.stderr.write(r.stderr.decode())\n" +
    "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)";
  const out = await new Deno.Command("python3", {
    args: ["-c", py, Deno.execPath(), "run", "-A", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const [code, kb] = new TextDecoder().decode(out.stdout).trim().split(" ").map(Number);
  return { mb: kb / 1024, code, stderr: new TextDecoder().decode(out.stderr) };
}

/** A server that counts lines and answers "stored". */
export function discardServer(): { url: string; lines: () => number; close: () => Promise<void> } {
  let n = 0;
  const srv = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const t = new Uint8Array(await req.arrayBuffer());
    for (let i = t.indexOf(10); i >= 0; i = t.indexOf(10, i + 1)) n++;
    return Response.json({ stored: 1 });
  });
  return { url: `http://127.0.0.1:${srv.addr.port}/`, lines: () => n, close: () => srv.shutdown() };
}

/** The commands whose memory must not grow with the spool, as argument lists for a spool. */
export function spoolCommands(serverUrl: string): [string, (spool: string) => string[]][] {
  return [
    ["spool status", (s) => ["spool", "status", "--spool", s, "--json"]],
    [
      "agent start (capture -r)",
      (s) => ["capture", "-r", `${PCAPS}DTP.pcap`, "--no-flows", "--spool", s],
    ],
    [
      "spool drain (discard server)",
      (s) => ["spool", "drain", "--spool", s, "--server", serverUrl],
    ],
  ];
}
