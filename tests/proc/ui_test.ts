/** Pure UI pieces: key decoding, the view state machine over a source, layout and frame bytes. */
import assert from "node:assert/strict";
import { parseKeys } from "../../src/ui/keys.ts";
import {
  type Effect,
  handleKey,
  initialState,
  renderScreen,
  VIEW_KEYS,
  type ViewState,
} from "../../src/ui/view.ts";
import { composeFrame } from "../../src/ui/frame.ts";
import { layoutScreenTable, layoutTable } from "../../src/ui/table.ts";
import type { Key } from "../../src/ui/keys.ts";
import type { RowContext, Screen, SourceAction, ViewSource } from "../../src/ui/source.ts";
import { byteRate, bytes } from "../../src/proc/columns.ts";
import { INTRO, ProcSource } from "../../src/proc/view.ts";
import { readStat } from "../../src/proc/read.ts";

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
  }, { name: "backspace" }]);
  assert.deepEqual(keys("\x1b[5~\x1b[1;5C:q"), [{ name: "pageup" }, { name: "right" }, {
    name: "char",
    ch: ":",
  }, { name: "char", ch: "q" }]);
  assert.deepEqual(keys("\x1b"), [{ name: "escape" }]);
});

/** A source with three tabs whose first letters switch tabs like netmon proc's. */
class Fake implements ViewSource {
  readonly tabs = ["tcp", "stats", "traffic"];
  readonly help = [{ keys: "o", does: "own only" }];
  readonly intro = ["read me"];
  readonly commands = ["own"];
  own = false;
  rows = Array.from({ length: 30 }, (_, i) => ({
    cells: [`host${String(i).padStart(2, "0")}`, String(i * 7 % 30), `w${i}`],
    keys: [`host${i}`, i * 7 % 30, `w${i}`] as (string | number)[],
    id: String(i),
  }));
  screen(tab: string, _tick = false): Screen {
    return {
      title: `fake ${tab}`,
      info: `${this.rows.length} rows`,
      tables: [{
        columns: [{ title: "Host" }, { title: "N", align: "right" }, { title: "Word" }],
        rows: this.rows,
      }],
    };
  }
  key(k: Key, at: RowContext): SourceAction | null {
    if (k.name !== "char") return null;
    if (k.ch === "o") {
      this.own = !this.own;
      return { effect: "refresh" };
    }
    const t = this.tabs.find((x) => x.startsWith(k.ch!) && x !== at.tab);
    return t ? { effect: "refresh", tab: t } : null;
  }
  command(cmd: string): SourceAction | null {
    return cmd === "own" ? this.key({ name: "char", ch: "o" }, { tab: "", row: null }) : null;
  }
  ended(): string | null {
    return null;
  }
  close(): void {}
}

function press(src: ViewSource, s: ViewState, input: string): [ViewState, Effect[]] {
  const effects: Effect[] = [];
  for (const k of keys(input)) {
    const out = renderScreen(s, src.screen(s.tab, false), src, { cols: 80, rows: 12, clock: "" });
    const [next, e] = handleKey(out.state, k, src, {
      tab: s.tab,
      row: out.row,
      rows: out.rowCount,
      page: 5,
    });
    s = next;
    effects.push(e);
  }
  return [s, effects];
}

Deno.test("handleKey(): tabs by Tab, Shift-Tab, digits and the source's letters", () => {
  const src = new Fake();
  const s0 = initialState("tcp", 2);
  assert.equal(press(src, s0, "\t")[0].tab, "stats");
  assert.equal(press(src, s0, "\x1b[Z")[0].tab, "traffic");
  assert.equal(press(src, s0, "3")[0].tab, "traffic");
  assert.equal(press(src, s0, "t")[0].tab, "traffic");
  assert.deepEqual(press(src, s0, "2")[1], ["refresh"]);
  press(src, s0, "o");
  assert.equal(src.own, true);
});

Deno.test("handleKey(): `set 6` typed without any prefix sets the interval; its 's' does not stay on stats", () => {
  const src = new Fake();
  const s0 = initialState("tcp", 2);
  const [s1, e1] = press(src, s0, "set 6\r");
  assert.equal(s1.interval, 6);
  assert.equal(s1.tab, "tcp", "back on the tab where typing began");
  assert.equal(s1.typed, null);
  assert.equal(e1.at(-1), "reschedule");
  // While typing, the bottom line shows the command.
  const [s2] = press(src, s0, "set 1");
  const out = renderScreen(s2, src.screen(s2.tab, false), src, { cols: 80, rows: 12, clock: "" });
  assert.match(out.lines[11].text, /^set 1_/);
  // `s` then something that is no command: the letter did its usual thing, the key too.
  const [s3] = press(src, s0, "s3");
  assert.equal(s3.tab, "traffic");
  assert.equal(s3.typed, null);
  assert.match(press(src, s0, "set 0\r")[0].message ?? "", /interval must be/);
  assert.equal(press(src, s0, "set 0.5\r")[0].interval, 0.5);
  assert.equal(press(src, s0, "se\x1b")[0].typed, null);
});

Deno.test("handleKey(): the command line, q / Ctrl+C / Ctrl+D, pause, help and the intro screen", () => {
  const src = new Fake();
  const s0 = initialState("tcp", 2);
  for (const k of ["q", "\x03", "\x04"]) assert.deepEqual(press(src, s0, k)[1], ["quit"]);
  const [s1, e1] = press(src, s0, ":set 1\r");
  assert.equal(s1.interval, 1);
  assert.equal(e1.at(-1), "reschedule");
  assert.equal(press(src, s0, ":traffic\r")[0].tab, "traffic");
  assert.equal(press(src, s0, ":st\r")[0].tab, "stats");
  assert.match(press(src, s0, ":x\r")[0].message ?? "", /unknown command 'x' \(set N, own, q/);
  assert.deepEqual(press(src, s0, ":x\x1b")[0].input, null);
  press(src, s0, ":own\r");
  assert.equal(src.own, true);
  assert.equal(press(src, s0, "p")[0].paused, true);
  assert.equal(press(src, s0, "pp")[0].paused, false);
  // ? opens the help (every view key and the source's), any key closes it.
  const [h] = press(src, s0, "?");
  assert.equal(h.help, true);
  const help = renderScreen(h, src.screen("tcp", false), src, { cols: 100, rows: 30, clock: "" });
  const text = help.lines.map((l) => l.text).join("\n");
  for (const k of [...VIEW_KEYS, ...src.help]) assert.ok(text.includes(k.keys), k.keys);
  assert.equal(press(src, h, "x")[0].help, false);
  // The intro waits for any key, and that key does nothing else.
  const i0 = initialState("tcp", 2, { intro: true });
  const intro = renderScreen(i0, src.screen("tcp", false), src, { cols: 80, rows: 12, clock: "" });
  assert.ok(intro.lines.some((l) => l.text === "press any key to start"));
  assert.ok(intro.lines.some((l) => l.text === "read me"));
  const [i1, ie] = press(src, i0, "2");
  assert.equal(i1.intro, false);
  assert.equal(i1.tab, "tcp");
  assert.deepEqual(ie, ["redraw"]);
});

Deno.test("sorting by any column (< > I), search with /, cursor and scroll stay on the rows", () => {
  const src = new Fake();
  const s0 = initialState("tcp", 2);
  const render = (s: ViewState) =>
    renderScreen(s, src.screen(s.tab, false), src, { cols: 80, rows: 12, clock: "" });
  // > sorts by the first column, again by the second (numbers numerically), I reverses.
  let [s] = press(src, s0, ">>");
  let out = render(s);
  assert.match(out.lines[2].text, /sorted by N asc/);
  assert.match(out.lines[3].text, /^Host\s+N\+\s+Word/);
  assert.match(out.lines[4].text, /^host00\s+0\s/);
  assert.match(out.lines[5].text, /^host13\s+1\s/);
  [s] = press(src, s, "I");
  out = render(s);
  // The cursor stays on its row (host00, N 0: now the last), the rows above run down from 29.
  assert.equal(out.row?.id, "0");
  const ns = out.lines.slice(4, 11).map((l) => Number(l.text.split(/\s+/)[1]));
  assert.deepEqual(ns, [6, 5, 4, 3, 2, 1, 0]);
  assert.match(
    render({ ...s, cursor: 0, cursorId: null, scroll: 0 }).lines[4].text,
    /^host17\s+29\s/,
  );
  [s] = press(src, s, "<"); // back to Host
  assert.match(render(s).lines[2].text, /sorted by Host desc/);
  // / filters rows as typed; Enter keeps the filter, Esc clears it.
  [s] = press(src, s0, "/w2\r");
  out = render(s);
  assert.equal(out.rowCount, 11); // w2, w20..w29
  assert.match(out.lines[2].text, /search "w2": 11 of 30/);
  [s] = press(src, s, "\x1b");
  assert.equal(render(s).rowCount, 30);
  // The cursor moves, the screen scrolls with it, End goes to the last row.
  [s] = press(src, s0, "\x1b[F");
  out = render(s);
  assert.equal(out.row?.id, "29");
  assert.ok(out.lines.some((l) => l.inverse && /^host29/.test(l.text)));
});

Deno.test("layoutScreenTable(): first column kept, Right scrolls, stops at the last column, markers where cut", () => {
  const cols = [{ title: "Key" }, { title: "Aaaaaaaa" }, { title: "Bbbbbbbb" }, {
    title: "Cccccccc",
  }];
  const cells = [["k1", "a", "b", "c"]];
  const full = layoutScreenTable(cols, cells, 80, 1);
  assert.equal(full.header, "Key  Aaaaaaaa  Bbbbbbbb  Cccccccc");
  assert.equal(full.maxHcol, 1);
  // 25 columns: Key, Aaaaaaaa, Bbbbbbbb, and ">" for the column hidden to the right.
  const hidden = layoutScreenTable(cols, cells, 25, 1);
  assert.equal(hidden.header, "Key  Aaaaaaaa  Bbbbbbbb>");
  // 20 columns: Bbbbbbbb itself is cut, ">" where it ends.
  const cut = layoutScreenTable(cols, cells, 20, 1);
  assert.equal(cut.header, "Key  Aaaaaaaa  Bbbb>");
  assert.equal(cut.lines[0], "k1   a         b   >");
  // Scrolled one column: "<" after the first column, which stays.
  const one = layoutScreenTable(cols, cells, 25, 2);
  assert.equal(one.header, "Key <Bbbbbbbb  Cccccccc");
  assert.equal(one.maxHcol, 2);
  // Scrolling further stops at the last useful position.
  const far = layoutScreenTable(cols, cells, 25, 9);
  assert.equal(far.hcol, 2);
  assert.equal(far.header, one.header);
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
  assert.equal(bytes(1536), "1.5 KiB");
  assert.equal(byteRate(null), "-");
});

Deno.test("ProcSource: the nine tabs, an intro, letters and o handled, a screen for this process", () => {
  const me = readStat(Deno.pid)!;
  const src = new ProcSource(Deno.pid, me, { ownOnly: false });
  try {
    assert.equal(src.tabs.length, 9);
    assert.equal(src.intro, INTRO);
    assert.deepEqual(src.key({ name: "char", ch: "r" }, { tab: "tcp", row: null })?.tab, "raw");
    assert.deepEqual(src.key({ name: "char", ch: "r" }, { tab: "raw", row: null })?.tab, "routing");
    assert.match(
      src.key({ name: "char", ch: "o" }, { tab: "tcp", row: null })?.message ?? "",
      /on/,
    );
    const sc = src.screen("traffic", true);
    assert.match(sc.title, new RegExp(`netmon proc ${Deno.pid} \\(deno\\)\\s+own only: on`));
    const titles = sc.tables[0].columns.map((c) => c.title);
    for (
      const t of [
        "RX bytes",
        "RX fifo [err]",
        "RX frame [err]",
        "TX colls [collisions]",
        "TX carrier [err]",
        "RX compressed [pkt]",
        "TX compressed [pkt]",
        "RX multicast [pkt]",
      ]
    ) {
      assert.ok(titles.includes(t), t);
    }
    assert.equal(src.ended(), null);
  } finally {
    src.close();
  }
});
