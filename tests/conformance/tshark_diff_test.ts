/**
 * Conformance with tshark over every capture in fixtures/pcaps and fixtures/conformance,
 * through scripts/tshark_diff.ts (one mapping table of netmon keys to tshark fields; the
 * comparison rules are in docs/conformance.md). Also: no frame makes a decoder throw,
 * every record survives JSON, the CLI prints one valid JSON line per frame, and the
 * harness itself notices a changed value (so "0 mismatches" means something).
 */
import assert from "node:assert/strict";
import { FIXTURES, PCAPS, runNetmon } from "../helpers/run.ts";

import {
  compareRecords,
  decodeCapture,
  diffCapture,
  formatMismatch,
  type Mismatch,
  tsharkRows,
} from "../../scripts/tshark_diff.ts";
import { gated, NEEDS_TSHARK } from "../helpers/skip.ts";

const CONFORMANCE = `${FIXTURES}conformance/`;

/**
 * Known disagreements, each with its reason. `frame` 0 = every frame of the file.
 * Keep this short: a decoder bug belongs in the decoder, not here.
 */
interface Allowed {
  file: string;
  frame: number;
  fields: string[];
  reason: string;
}
export const ALLOW: Allowed[] = [
  {
    file: "conformance/fragments.pcap",
    frame: 29,
    fields: ["ipv6.reassembled.length", "ipv6.fragment.count"],
    reason: "overlapping IPv6 fragments: netmon discards the datagram (RFC 5722, as the " +
      "issue asks); Wireshark 4.0 reassembles it anyway",
  },
];

function captures(dir: string): string[] {
  return [...Deno.readDirSync(dir)]
    .filter((e) => e.isFile && /\.(pcap|pcapng)$/.test(e.name))
    .map((e) => dir + e.name)
    .sort();
}

const FILES = [...captures(PCAPS), ...captures(CONFORMANCE)];
const short = (f: string) => f.slice(FIXTURES.length);

function allowed(m: Mismatch): Allowed | undefined {
  return ALLOW.find((a) =>
    short(m.file) === a.file && (a.frame === 0 || a.frame === m.frame) &&
    a.fields.includes(m.field)
  );
}

/** Runs `fn` over `items` with at most `n` at a time (tshark is the slow part). */
async function pool<T, R>(items: T[], n: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

Deno.test(gated({
  name: "every capture agrees with tshark field by field (except the documented allow-list)",
  needs: NEEDS_TSHARK,
  fn: async () => {
    assert.ok(
      FILES.length > 40,
      `expected the sample and conformance captures, got ${FILES.length}`,
    );
    const results = await pool(FILES, 4, diffCapture);
    const unexpected: string[] = [];
    const used = new Set<Allowed>();
    let frames = 0;
    for (const r of results) {
      frames += r.frames;
      assert.equal(r.netmonError, undefined, `${short(r.file)}: netmon could not read it`);
      assert.equal(r.frames, r.tsharkFrames, `${short(r.file)}: frame counts differ`);
      for (const m of r.mismatches) {
        const a = allowed(m);
        if (a) used.add(a);
        else unexpected.push(formatMismatch(m));
      }
    }
    assert.ok(frames > 1400, `only ${frames} frames compared`);
    assert.deepEqual(unexpected.slice(0, 40), [], `${unexpected.length} mismatches`);
    const stale = ALLOW.filter((a) => !used.has(a)).map((a) => `${a.file}#${a.frame}`);
    assert.deepEqual(stale, [], "allow-list entries that no longer match anything");
  },
}));

Deno.test("no frame of any capture makes a decoder throw; every record survives JSON", async () => {
  for (const file of FILES) {
    const { records, error } = await decodeCapture(file);
    assert.equal(error, undefined, short(file));
    records.forEach((rec, i) => {
      const text = JSON.stringify(rec);
      assert.deepEqual(JSON.parse(text), rec, `${short(file)}#${i + 1} JSON round trip`);
      const errs = (rec.Decode_Errors ?? []) as { Problem: string }[];
      for (const e of errs) {
        assert.ok(!e.Problem.startsWith("decoder error"), `${short(file)}#${i + 1}: ${e.Problem}`);
      }
    });
  }
});

Deno.test("capture -r --json: one JSON record per frame of the malformed captures", async () => {
  const files = ["malformed.pcap", "truncated.pcap", "short.pcap"].map((f) => CONFORMANCE + f);
  await pool(files, 3, async (file) => {
    const { records } = await decodeCapture(file);
    const r = await runNetmon(["capture", "-r", file, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, records.length, short(file));
    lines.forEach((l, i) => {
      const rec = JSON.parse(l);
      assert.equal(typeof rec, "object", `${short(file)}#${i + 1}`);
      assert.ok("AF_Packet" in rec, `${short(file)}#${i + 1}`);
    });
  });
});

Deno.test(gated({
  name: "the harness reports a changed value, a missing layer and a frame count difference",
  needs: NEEDS_TSHARK,
  fn: async () => {
    const file = CONFORMANCE + "transport.pcap";
    const { records } = await decodeCapture(file);
    const { rows } = await tsharkRows(file);
    assert.deepEqual(compareRecords(file, records, rows).mismatches, []);
    const mutated = structuredClone(records);
    (mutated[0].TCP as Record<string, unknown>).Window = 1;
    ((mutated[0].TCP as Record<string, unknown>).Flags as Record<string, boolean>).URG = true;
    (mutated[1].IPv4 as Record<string, unknown>).Checksum_Status = "bad";
    delete mutated[2].TCP;
    const fields = compareRecords(file, mutated, rows).mismatches.map((m) =>
      `${m.frame} ${m.field}`
    );
    for (
      const want of [
        "1 tcp.window_size_value",
        "1 tcp.flags",
        "2 ip.checksum.status",
        "3 layers",
        "3 tcp.srcport",
      ]
    ) {
      assert.ok(fields.includes(want), `${want} not reported: ${fields.join("; ")}`);
    }
    const fewer = compareRecords(file, records.slice(1), rows.slice(0, -1)).mismatches;
    assert.ok(fewer.some((m) => m.field === "layers" || m.field.startsWith("tcp.")));
    const count = compareRecords(file, records.slice(1), rows).mismatches;
    assert.ok(count.some((m) => m.field === "frame.count"));
  },
}));

Deno.test(gated({
  name: "scripts/tshark_diff.ts prints a summary and exits 0 on an agreeing capture",
  needs: NEEDS_TSHARK,
  fn: async () => {
    const r = await runNetmonScript([CONFORMANCE + "l2.pcap"]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /# total: 1 files, \d+ frames, 0 mismatches/);
  },
}));

async function runNetmonScript(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../../scripts/tshark_diff.ts", import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
