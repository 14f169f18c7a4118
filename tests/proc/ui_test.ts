/** Pure UI pieces: key decoding, the view state machine, screen layout and frame bytes. */
import assert from "node:assert/strict";
import { parseKeys } from "../../src/ui/keys.ts";
import {
  handleKey,
  initialState,
  renderScreen,
  runCommand,
  type ViewState,
} from "../../src/ui/view.ts";
import { composeFrame } from "../../src/ui/frame.ts";
import { layoutTable } from "../../src/ui/table.ts";
import { byteRate } from "../../src/ui/columns.ts";
import type { TabDoc } from "../../src/proc/tabs.ts";
import type { SocketRow } from "../../src/proc/sockets.ts";

const keys = (s: string) => parseKeys(new TextEncoder().encode(s));

Deno.test("parseKeys() decodes arrows, Tab, Shift-Tab, Ctrl keys, Enter and plain characters", () => {
  assert.deepEqual(keys("\x1b[C\x1b[D\x1bOA\x1b[Z\t"), [
    { name: "right" },
    { name: "left" },
    { name: "up" },
    { name: "backtab" },
    { name: "tab" },
  ]);
  assert.deepEqual(keys("\x03\x04\r\x7f"), [{ name: "ctrl-c" }, { name: "ctrl-d" }, {
    name: "enter",
  }, {
    name: "backspace",
  }]);
  assert.deepEqual(keys("\x1b[5~\x1b[1;5C:q"), [{ name: "pageup" }, { name: "right" }, {
    name: "char",
    ch: ":",
  }, {
    name: "char",
    ch: "q",
  }]);
  assert.deepEqual(keys("\x1b"), [{ name: "escape" }]);
});

function press(s: ViewState, input: string): [ViewState, string[]] {
  const effects: string[] = [];
  for (const k of keys(input)) {
    const [next, e] = handleKey(s, k);
    s = next;
    effects.push(e);
  }
  return [s, effects];
}

Deno.test("handleKey(): tabs by Tab, arrows, digits and first letter (cycling shared letters)", () => {
  const s0 = initialState("tcp", 2, false);
  assert.equal(press(s0, "\t")[0].tab, "udp");
  assert.equal(press(s0, "\x1b[D")[0].tab, "analysis");
  assert.equal(press(s0, "8")[0].tab, "routing");
  assert.equal(press(s0, "t")[0].tab, "traffic");
  assert.equal(press(s0, "tt")[0].tab, "tcp");
  assert.equal(press(s0, "a")[0].tab, "arp");
  assert.equal(press(s0, "aa")[0].tab, "analysis");
  assert.equal(press(s0, "s")[0].tab, "stats");
  assert.equal(press(s0, "i")[0].tab, "icmp");
  assert.deepEqual(press(s0, "2")[1], ["refresh"]);
  assert.equal(press(s0, "o")[0].ownOnly, true);
});

Deno.test("handleKey(): q, Ctrl+C and Ctrl+D quit; the command line sets the interval and selects tabs", () => {
  const s0 = initialState("tcp", 2, false);
  for (const k of ["q", "\x03", "\x04"]) assert.deepEqual(press(s0, k)[1], ["quit"]);
  const [s1, e1] = press(s0, ":set 1\r");
  assert.equal(s1.interval, 1);
  assert.equal(s1.input, null);
  assert.equal(e1.at(-1), "reschedule");
  assert.equal(press(s0, "/routing\r")[0].tab, "routing");
  assert.equal(press(s0, ":ro\r")[0].tab, "routing");
  assert.match(press(s0, ":r\r")[0].message ?? "", /unknown command/); // raw or routing
  assert.match(press(s0, ":set 0\r")[0].message ?? "", /interval must be/);
  assert.equal(press(s0, ":set 0.5\r")[0].interval, 0.5);
  assert.equal(press(s0, ":x\x7f\x7fq")[0].tab, "tcp"); // backspace closes the empty line; q quits
  assert.deepEqual(press(s0, ":x\x1b")[0].input, null);
  assert.deepEqual(runCommand(s0, "quit")[1], "quit");
  assert.equal(runCommand(s0, "own")[0].ownOnly, true);
});

const row = (port: number, own: boolean): SocketRow => ({
  Protocol: "tcp",
  Local_Address: "127.0.0.1",
  Local_Port: port,
  Remote_Address: "0.0.0.0",
  Remote_Port: 0,
  State: "LISTEN",
  Inode: port,
  Own: own,
  Tx_Queue: 0,
  Rx_Queue: 0,
  Timer: "off",
  Timer_Seconds: 0,
  Retransmits: 0,
  UID: 0,
});

Deno.test("renderScreen(): title, tab bar, own count, fd note, table and a clamped scroll", () => {
  const doc: TabDoc = {
    tab: "tcp",
    rows: Array.from({ length: 30 }, (_, i) => row(1000 + i, i % 2 === 0)),
    notes: [
      "fd access denied: cannot tell which sockets the process owns (run as its user or root)",
    ],
  };
  const s = { ...initialState("tcp", 2, false), scroll: 100 };
  const { lines, state } = renderScreen(s, doc, {
    pid: 7,
    comm: "srv",
    cols: 100,
    rows: 12,
    clock: "12:00:00",
  });
  assert.equal(lines.length, 12);
  assert.match(lines[0].text, /netmon proc 7 \(srv\)\s+every 2s/);
  assert.match(
    lines[1].text,
    /1 tcp\s+2 udp\s+3 arp\s+4 traffic\s+5 stats\s+6 raw\s+7 icmp\s+8 routing\s+9 analysis/,
  );
  assert.deepEqual(lines[1].highlight, [[0, 7]]);
  assert.match(lines[2].text, /30 sockets, 15 held by the process.*fd access denied/);
  assert.match(lines[3].text, /^Own\s+Proto\s+Local Address/);
  assert.equal(state.scroll, 30 - 7); // 12 rows - 3 top - header - bottom line = 7 visible
  assert.match(lines[11].text, /rows 24-30 of 30/);
  assert.match(lines[9].text, /^\*\s+tcp\s+127\.0\.0\.1\s+1028/);
  assert.match(lines[10].text, /^\s+tcp\s+127\.0\.0\.1\s+1029/);
});

Deno.test("composeFrame(): cursor home, every line overwritten and cleared to its end, one string", () => {
  const f = composeFrame([{ text: "hello" }, { text: "x".repeat(20) }], 10, 3);
  assert.equal(f, "\x1b[Hhello\x1b[K\r\n" + "x".repeat(10) + "\r\n\x1b[K");
  assert.ok(!f.includes("\x1b[2J"), "never clears the whole screen");
  const inv = composeFrame([{ text: "ab", inverse: true }], 4, 1);
  assert.equal(inv, "\x1b[H\x1b[7mab \x1b[0m\x1b[K");
});

Deno.test("layoutTable() pads columns, right-aligns numbers and has no escape codes", () => {
  const lines = layoutTable([
    { title: "Name", value: (r: { n: string; v: number }) => r.n },
    { title: "Value", value: (r) => String(r.v), align: "right" },
  ], [{ n: "InSegs", v: 5 }, { n: "X", v: 12345678 }]);
  assert.deepEqual(lines, ["Name       Value", "InSegs         5", "X       12345678"]);
  assert.equal(byteRate(3 * 1024 * 1024), "3.0 MiB/s");
  assert.equal(byteRate(null), "-");
});
