/**
 * Capture files that are not plain files, and pcapng corner cases (issue 11, item 19):
 * `-r FIFO` and `-r -` (stdin) decode frames as they arrive; a pcapng block too short
 * for its fields is reported as such (tshark's reading of the same file is the oracle);
 * timestamps beyond 2^53 seconds print exactly, as tshark prints them.
 */
import assert from "node:assert/strict";
import { MAIN, runNetmon } from "../helpers/run.ts";
import { HAVE_TSHARK, tsharkFields } from "../helpers/tshark.ts";
import { gated, NEEDS_TSHARK } from "../helpers/skip.ts";

/** A little-endian byte writer. */
class W {
  private parts: number[] = [];
  u16(v: number) {
    this.parts.push(v & 0xff, (v >> 8) & 0xff);
  }
  u32(v: number) {
    for (let i = 0; i < 4; i++) this.parts.push((v >>> (8 * i)) & 0xff);
  }
  u64(v: bigint) {
    this.u32(Number(v & 0xffffffffn));
    this.u32(Number((v >> 32n) & 0xffffffffn));
  }
  /** The bytes, padded to 32 bits when `pad` (pcapng). */
  bytes(b: Uint8Array, pad = true) {
    for (const x of b) this.parts.push(x);
    while (pad && this.parts.length % 4 !== 0) this.parts.push(0);
  }
  get out(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** An ARP request frame (42 bytes) whose sender address ends in `n`. */
function arp(n: number): Uint8Array {
  const f = new Uint8Array(42);
  f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, n, 0x08, 0x06]);
  f.set([0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, n, 10, 0, 0, n], 14);
  return f;
}

function pcapHeader(): Uint8Array {
  const w = new W();
  w.u32(0xa1b2c3d4);
  w.u16(2);
  w.u16(4);
  w.u32(0);
  w.u32(0);
  w.u32(65535);
  w.u32(1);
  return w.out;
}

function pcapRecord(n: number): Uint8Array {
  const w = new W();
  const f = arp(n);
  w.u32(1_700_000_000 + n);
  w.u32(0);
  w.u32(f.length);
  w.u32(f.length);
  w.bytes(f, false);
  return w.out;
}

function ngBlock(type: number, body: Uint8Array): Uint8Array {
  const w = new W();
  w.u32(type);
  w.u32(12 + body.length);
  w.bytes(body);
  w.u32(12 + body.length);
  return w.out;
}

function shb(): Uint8Array {
  const w = new W();
  w.u32(0x1a2b3c4d);
  w.u16(1);
  w.u16(0);
  w.u64(0xffffffffffffffffn);
  return ngBlock(0x0a0d0d0a, w.out);
}

function idb(tsresol: number, tsoffset = 0n): Uint8Array {
  const w = new W();
  w.u16(1);
  w.u16(0);
  w.u32(65535);
  w.u16(9);
  w.u16(1);
  w.bytes(Uint8Array.of(tsresol));
  if (tsoffset !== 0n) {
    w.u16(14);
    w.u16(8);
    w.u64(BigInt.asUintN(64, tsoffset));
  }
  w.u32(0);
  return ngBlock(1, w.out);
}

function epb(iface: number, ticks: bigint, n: number): Uint8Array {
  const w = new W();
  const f = arp(n);
  w.u32(iface);
  w.u32(Number(ticks >> 32n));
  w.u32(Number(ticks & 0xffffffffn));
  w.u32(f.length);
  w.u32(f.length);
  w.bytes(f);
  return ngBlock(6, w.out);
}

function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Reads stdout lines until `n` arrived; rejects after `ms` (the reader never got them). */
async function linesArrive(
  reader: ReadableStreamDefaultReader<string>,
  got: string[],
  n: number,
  ms = 30_000,
): Promise<void> {
  let buf = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, rej) => {
    timer = setTimeout(
      () => rej(new Error(`only ${got.length} of ${n} lines within ${ms} ms`)),
      ms,
    );
  });
  try {
    while (got.length < n) {
      const r = await Promise.race([reader.read(), late]);
      if (r.done) throw new Error(`netmon ended after ${got.length} of ${n} lines`);
      buf += r.value;
      const parts = buf.split("\n");
      buf = parts.pop()!;
      got.push(...parts.filter((l) => l !== ""));
    }
  } finally {
    clearTimeout(timer);
  }
}

/** Kills the child if it still runs and lets go of its stderr. */
async function stop(nm: Deno.ChildProcess): Promise<void> {
  try {
    nm.kill("SIGKILL");
  } catch { /* exited */ }
  await nm.status;
  await nm.stderr.cancel().catch(() => {});
}

function spawn(args: string[], stdin: "piped" | "null"): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    stdin,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

Deno.test("capture -r FIFO decodes each frame as it arrives, long before 2 MiB", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netmon-fifo-" });
  const fifo = `${dir}/in.pcap`;
  new Deno.Command("mkfifo", { args: [fifo] }).outputSync();
  const nm = spawn(["capture", "-r", fifo, "--json"], "null");
  const reader = nm.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const got: string[] = [];
  try {
    const w = await Deno.open(fifo, { write: true });
    // Three frames (~200 bytes), then the writer keeps the FIFO open.
    await w.write(cat(pcapHeader(), pcapRecord(1), pcapRecord(2), pcapRecord(3)));
    await linesArrive(reader, got, 3);
    // A record in two pieces: decoded once it is complete.
    const r4 = pcapRecord(4);
    await w.write(r4.subarray(0, 20));
    await w.write(r4.subarray(20));
    await linesArrive(reader, got, 4);
    w.close();
    await linesArrive(reader, got, 4);
    const st = await nm.status;
    assert.equal(st.code, 0);
    assert.deepEqual(
      got.map((l) => JSON.parse(l).ARP.Sender_Protocol_Address),
      ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"],
    );
  } finally {
    await stop(nm);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("capture -r - reads standard input as it arrives (pcapng too)", async () => {
  const nm = spawn(["capture", "-r", "-", "--json"], "piped");
  const reader = nm.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const w = nm.stdin.getWriter();
  const got: string[] = [];
  try {
    await w.write(cat(shb(), idb(6), epb(0, 1_700_000_000_000_000n, 7)));
    await linesArrive(reader, got, 1);
    await w.write(epb(0, 1_700_000_001_000_000n, 8));
    await linesArrive(reader, got, 2);
    await w.close();
    assert.equal((await nm.status).code, 0);
    assert.deepEqual(got.map((l) => JSON.parse(l).AF_Packet.Timestamp), [
      "1700000000.000000000",
      "1700000001.000000000",
    ]);
  } finally {
    await stop(nm);
  }
});

Deno.test("a pcapng EPB with block length 12 is reported as too short, as tshark says", async () => {
  const file = await Deno.makeTempFile({ suffix: ".pcapng" });
  try {
    const short = new W();
    short.u32(6);
    short.u32(12);
    short.u32(12);
    await Deno.writeFile(file, cat(shb(), idb(6), epb(0, 1n, 1), short.out, epb(0, 2n, 2)));
    const r = await runNetmon(["capture", "-r", file, "--json"]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout.trim().split("\n").length, 1, "the frame before it is decoded");
    const last = r.stderr.trimEnd().split("\n").at(-1)!;
    assert.match(
      last,
      /^netmon: .*: corrupt pcapng file: enhanced packet block at byte \d+ is too short \(12 bytes; at least 32\)$/,
    );
    assert.doesNotMatch(r.stderr, /names interface/);
    if (HAVE_TSHARK) {
      const t = new Deno.Command("tshark", { args: ["-r", file], stderr: "piped", stdout: "null" })
        .outputSync();
      assert.match(
        new TextDecoder().decode(t.stderr),
        /total block length 12 of an EPB is less than the minimum EPB size 32/,
      );
    }
  } finally {
    await Deno.remove(file);
  }
});

Deno.test(gated({
  name: "pcapng timestamps beyond 2^53 seconds print exactly, digit for digit like tshark",
  needs: NEEDS_TSHARK,
  fn: async () => {
    const file = await Deno.makeTempFile({ suffix: ".pcapng" });
    try {
      // tsresol 0 (1 tick = 1 s), 2^-10 s, 10^-9 s with a large if_tsoffset, 10^-6 s.
      await Deno.writeFile(
        file,
        cat(
          shb(),
          idb(0),
          idb(0x80 | 10),
          idb(9, (1n << 55n) + 1n),
          idb(6),
          epb(0, (1n << 62n) + 1n, 1),
          epb(1, (1n << 62n) + 3n, 2),
          epb(2, 5n, 3),
          epb(3, (1n << 63n) + 1n, 4),
          epb(0, 1_700_000_000n, 5),
        ),
      );
      const r = await runNetmon(["capture", "-r", file, "--json"]);
      assert.equal(r.code, 0, r.stderr);
      const ours = r.stdout.trim().split("\n").map((l) => JSON.parse(l).AF_Packet.Timestamp);
      const theirs = tsharkFields(file, ["frame.time_epoch"]).map((row) => row[0]);
      assert.deepEqual(ours, theirs);
      assert.equal(ours[0], "4611686018427387905.000000000");
      // The text view shows the time of day of the exact second.
      const t = await runNetmon(["capture", "-r", file], { env: { TZ: "UTC" } });
      assert.equal(t.code, 0, t.stderr);
      const tod = t.stdout.trim().split("\n").map((l) => l.split(" ")[0]);
      const tsharkTod = tsharkFields(file, ["frame.time"], ["-t", "ud"]).length; // frames listed
      assert.equal(tod.length, tsharkTod);
      assert.equal(tod[0], "07:45:05.000000"); // 4611686018427387905 mod 86400 = 27905 s
      assert.doesNotMatch(t.stdout, /NaN/);
    } finally {
      await Deno.remove(file);
    }
  },
}));
