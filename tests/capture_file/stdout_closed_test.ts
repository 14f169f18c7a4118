import assert from "node:assert/strict";
import { MAIN } from "../helpers/run.ts";
import { generateBenchPcap } from "../../bench/gen_pcap.ts";

Deno.test("capture -r --json stops early when the stdout reader goes away, like tcpdump | head", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const pcap = `${dir}/mixed.pcap`;
    const frames = generateBenchPcap(pcap, 50_000, `${dir}/slice.pcap`);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "capture", "-r", pcap, "--json"],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Read the first chunk of records, then close our end of the pipe.
    const reader = child.stdout.getReader();
    const first = await reader.read();
    assert.ok(first.value !== undefined && first.value.length > 0);
    await reader.cancel();
    const [status, errBytes] = await Promise.all([
      child.status,
      new Response(child.stderr).arrayBuffer(),
    ]);
    const stderr = new TextDecoder().decode(errBytes);
    assert.equal(status.code, 0, stderr);
    const read = Number(/^(\d+) packets read from file$/m.exec(stderr)?.[1]);
    assert.ok(read > 0 && read < frames, `read ${read} of ${frames} frames before stopping`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
