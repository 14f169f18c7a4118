/**
 * Wire strings never reach a terminal raw (issue 11, item 15): LLDP/CDP ids and pcapng
 * interface names with escape sequences, bidi overrides and C1 controls are printed
 * escaped in capture text lines, the exit summary, log and error lines, the `proc` view
 * and the listings. tshark's reading of the same frames is the oracle for what a safe
 * rendering holds: the same characters, none of them raw.
 */
import assert from "node:assert/strict";
import { MAIN, run, runNetmon } from "../helpers/run.ts";
import { HAVE_TSHARK } from "../helpers/tshark.ts";
import { escapeControl } from "../../src/output/escape.ts";
import { composeFrame } from "../../src/ui/frame.ts";
import { layoutTable } from "../../src/ui/table.ts";
import { renderTable } from "../../src/cli/table.ts";
import { FakeServer } from "../submit/fake_server.ts";

/** Clears the screen, sets the window title, a bidi override, a C1 CSI, then a fake line. */
const EVIL = "ev\x1b[2J\x1b]0;pwned\x07il\\x\t\x7f\u009b\u202e!\nnetmon: 0 dropped";
/** The same in ASCII (LLDP and CDP ids are ASCII: other bytes decode as U+FFFD, like tshark's fields). */
const EVIL_ASCII = [...EVIL].filter((c) => c.codePointAt(0)! < 0x80).join("");
const enc = new TextEncoder();

/** Characters no human output may hold raw (besides the newline ending each line). */
const RAW = /[\p{Cc}\p{Cf}]/u;
function assertNoRaw(text: string, what: string) {
  for (const line of text.split("\n")) {
    const m = RAW.exec(line);
    assert.equal(
      m,
      null,
      `${what}: raw U+${m?.[0].codePointAt(0)?.toString(16)} in ${JSON.stringify(line)}`,
    );
  }
}

/** Undoes both netmon's and tshark's escapes (\n \t \a, \xNN, \ooo, \uXXXX). */
function unescape(s: string): string {
  return s.replace(/\\(x[0-9a-f]{2}|u[0-9a-fA-F]{4}|[0-7]{3}|[abtnvfr])/g, (_, e: string) => {
    if (e[0] === "x" || e[0] === "u") return String.fromCodePoint(parseInt(e.slice(1), 16));
    if (/^[0-7]{3}$/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return { a: "\x07", b: "\b", t: "\t", n: "\n", v: "\v", f: "\f", r: "\r" }[e]!;
  });
}

function pcap(frames: Uint8Array[]): Uint8Array {
  const parts: number[] = [];
  const u32 = (v: number) => parts.push(v & 255, (v >> 8) & 255, (v >> 16) & 255, (v >>> 24) & 255);
  const u16 = (v: number) => parts.push(v & 255, v >> 8);
  u32(0xa1b2c3d4);
  u16(2);
  u16(4);
  u32(0);
  u32(0);
  u32(65535);
  u32(1);
  for (const f of frames) {
    u32(1_700_000_000);
    u32(0);
    u32(f.length);
    u32(f.length);
    parts.push(...f);
  }
  return Uint8Array.from(parts);
}

/** LLDP with chassis and port id of subtype 7 (locally assigned text). */
function lldp(text: string): Uint8Array {
  const v = enc.encode(text);
  const tlv = (
    t: number,
    val: number[],
  ) => [(t << 1) | (val.length >> 8), val.length & 255, ...val];
  return Uint8Array.from([
    0x01,
    0x80,
    0xc2,
    0,
    0,
    0x0e,
    2,
    0,
    0,
    0,
    0,
    1,
    0x88,
    0xcc,
    ...tlv(1, [7, ...v]),
    ...tlv(2, [7, ...v]),
    ...tlv(3, [0, 120]),
    0,
    0,
  ]);
}

/** CDPv2 (802.3 + LLC/SNAP) with a Device ID TLV. */
function cdp(text: string): Uint8Array {
  const v = enc.encode(text);
  const body = [2, 180, 0, 0, 0, 1, (4 + v.length) >> 8, (4 + v.length) & 255, ...v];
  const llc = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x0c, 0x20, 0x00, ...body];
  return Uint8Array.from([
    0x01,
    0x00,
    0x0c,
    0xcc,
    0xcc,
    0xcc,
    2,
    0,
    0,
    0,
    0,
    2,
    llc.length >> 8,
    llc.length & 255,
    ...llc,
  ]);
}

/** A one-frame pcapng whose interface is named `name`. */
function pcapngNamed(name: string, frame: Uint8Array): Uint8Array {
  const out: number[] = [];
  const u32 = (a: number[], v: number) =>
    a.push(v & 255, (v >> 8) & 255, (v >> 16) & 255, (v >>> 24) & 255);
  const block = (type: number, body: number[]) => {
    while (body.length % 4) body.push(0);
    u32(out, type);
    u32(out, body.length + 12);
    out.push(...body);
    u32(out, body.length + 12);
  };
  const shb: number[] = [];
  u32(shb, 0x1a2b3c4d);
  shb.push(1, 0, 0, 0, 255, 255, 255, 255, 255, 255, 255, 255);
  block(0x0a0d0d0a, shb);
  const n = enc.encode(name);
  const idb = [1, 0, 0, 0, 0xff, 0xff, 0, 0, 2, 0, n.length & 255, n.length >> 8, ...n];
  while (idb.length % 4) idb.push(0);
  idb.push(0, 0, 0, 0);
  block(1, idb);
  const epb: number[] = [];
  u32(epb, 0);
  u32(epb, 0);
  u32(epb, 1);
  u32(epb, frame.length);
  u32(epb, frame.length);
  epb.push(...frame);
  block(6, epb);
  return Uint8Array.from(out);
}

Deno.test("escapeControl(): C0, DEL, C1 and format characters visible, everything else kept, idempotent", () => {
  const e = escapeControl(EVIL);
  assert.equal(e, "ev\\x1b[2J\\x1b]0;pwned\\ail\\x\\t\\x7f\\u009b\\u202e!\\nnetmon: 0 dropped");
  assert.equal(escapeControl(e), e);
  assert.equal(unescape(e), EVIL);
  assert.equal(escapeControl("Grüße ☃ 1.2.3.4"), "Grüße ☃ 1.2.3.4");
});

Deno.test("capture text lines escape LLDP and CDP ids and pcapng interface names (tshark: same characters)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netmon-esc-" });
  try {
    const file = `${dir}/evil.pcap`;
    await Deno.writeFile(file, pcap([lldp(EVIL_ASCII), cdp(EVIL_ASCII)]));
    const r = await runNetmon(["capture", "-r", file]);
    assert.equal(r.code, 0, r.stderr);
    assertNoRaw(r.stdout, "text lines");
    assertNoRaw(r.stderr, "summary");
    const lines = r.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 2, "a newline in a wire string never makes a line of its own");
    const esc = escapeControl(EVIL_ASCII);
    assert.ok(lines[0].includes(`LLDP chassis ${esc} port ${esc}`), lines[0]);
    assert.ok(lines[1].includes(`device ${esc}`), lines[1]);
    if (HAVE_TSHARK) {
      // tshark shows the chassis id as "LA/<id>" in its summary line: unescaped, the same id.
      const t = await run(["tshark", "-r", file, "-c", "1"], { env: { HOME: "/tmp" } });
      const m = /LA\/(.*?) LA\//.exec(t.stdout);
      assert.ok(m, t.stdout);
      assertNoRaw(m[1], "tshark");
      assert.equal(unescape(m[1]), EVIL_ASCII);
      assert.equal(unescape(esc), EVIL_ASCII);
    }
    const ng = `${dir}/evil.pcapng`;
    await Deno.writeFile(ng, pcapngNamed(EVIL, lldp("sw1")));
    const n = await runNetmon(["capture", "-r", ng]);
    assert.equal(n.code, 0, n.stderr);
    assertNoRaw(n.stdout, "pcapng interface name");
    assert.ok(n.stdout.includes(` ${escapeControl(EVIL)} Ethernet/LLDP`), n.stdout);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("error lines, log lines and the summary escape what they quote", async () => {
  // A file name with escapes: the one-line error quotes it escaped.
  const r = await runNetmon(["capture", "-r", `/nonexistent/${EVIL}.pcap`]);
  assert.equal(r.code, 2);
  assertNoRaw(r.stderr, "error line");
  assert.match(r.stderr, /ev\\x1b\[2J/);
  // A server answering with escapes in its error body: the log line quotes it escaped.
  const srv = new FakeServer(() => new Response(`{"error":"${EVIL}"}`, { status: 400 }));
  const dir = await Deno.makeTempDir({ prefix: "netmon-esc-" });
  try {
    await Deno.writeFile(`${dir}/in.pcap`, pcap([lldp("sw1")]));
    const s = await runNetmon([
      "capture",
      "-r",
      `${dir}/in.pcap`,
      "--server",
      srv.url,
      "--spool",
      `${dir}/spool`,
    ]);
    assert.equal(s.code, 0, s.stderr);
    assertNoRaw(s.stderr, "log and summary");
    assert.match(s.stderr, /refused batch .*ev\\x1b\[2J/);
  } finally {
    await srv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("proc view: a process name with escapes is shown escaped (stream output and screen)", async () => {
  // python3 names itself EVIL (prctl PR_SET_NAME keeps 15 bytes) and waits.
  const py = new Deno.Command("python3", {
    args: [
      "-c",
      "import ctypes,sys,time\n" +
      "ctypes.CDLL(None).prctl(15, sys.argv[1].encode()[:15], 0, 0, 0)\n" +
      "print('ready', flush=True)\ntime.sleep(30)",
      "\x1b[2J\x1b]0;x\x07\u009b!",
    ],
    stdout: "piped",
  }).spawn();
  try {
    const reader = py.stdout.getReader();
    await reader.read();
    reader.releaseLock();
    const comm = await Deno.readTextFile(`/proc/${py.pid}/comm`);
    assert.ok(comm.startsWith("\x1b[2J"), JSON.stringify(comm));
    const r = await run([
      Deno.execPath(),
      "run",
      "-A",
      MAIN,
      "proc",
      String(py.pid),
      "--count",
      "1",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assertNoRaw(r.stdout, "proc stream");
    assert.match(r.stdout, /\(\\x1b\[2J\\x1b\]0;x\\a/);
  } finally {
    py.kill("SIGKILL");
    await py.status;
    await py.stdout.cancel().catch(() => {});
  }
  // The screen: every line goes through one place; only the view's own codes stay raw.
  const frame = composeFrame([{ text: `netmon proc 1 (${EVIL})` }, { text: "x" }], 200, 2);
  const own = frame.replaceAll("\x1b[H", "").replaceAll("\x1b[K", "").replaceAll("\r\n", "");
  assertNoRaw(own, "screen");
  const t = layoutTable([{ title: "Name", value: (x: string) => x }], [EVIL]);
  assertNoRaw(t.join("\n"), "table");
  assertNoRaw(renderTable(["Name"], [[EVIL]]).replace(/\n/g, ""), "listing");
});
