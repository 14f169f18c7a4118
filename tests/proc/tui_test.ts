/**
 * Terminal tests under tmux: the interactive view on a fixed screen, driven with keys, one
 * test per behaviour of `netmon proc`. Each test uses its own tmux server (-L).
 */
import assert from "node:assert/strict";
import { MAIN, skipUnless } from "../helpers/run.ts";
import { skipFile } from "../helpers/skip.ts";
import { assertRestored, Tmux } from "../helpers/tmux.ts";
import { startHolder } from "./netns.ts";
import { Peer } from "../attribution/lab.ts";

const skip = skipUnless({ root: true, tools: ["tmux", "ip", "python3"] });
const netmon = `${Deno.execPath()} run -A ${MAIN} proc`;
const VIEW = /netmon proc \d+ \(|\?: help/;
const opts = {
  ignore: skipFile(import.meta.url, skip),
  sanitizeResources: false,
  sanitizeOps: false,
};

/**
 * Runs `netmon proc HOLDER_PID <args>` in a fresh terminal, hands over to `fn`, then quits
 * with q and checks the terminal is restored.
 */
async function onHolder(
  args: string,
  fn: (t: Tmux, h: Awaited<ReturnType<typeof startHolder>>) => Promise<void>,
  size: [number, number] = [110, 32],
): Promise<void> {
  const h = await startHolder();
  const t = new Tmux(...size);
  try {
    await t.start();
    await t.shell(`${netmon} ${h.pid} ${args}`);
    await fn(t, h);
    await t.keys("q");
    await assertRestored(t, 0, VIEW);
  } finally {
    await t.close();
    await h.close();
  }
}

/** The screen's rows (without the trailing newline). */
const rowsOf = (screen: string) => screen.replace(/\n$/, "").split("\n");

Deno.test({
  ...opts,
  name: "tmux: the instructions screen waits for a key; `set 6` typed without prefix; tabs; Ctrl+D",
  async fn() {
    const h = await startHolder();
    const t = new Tmux();
    try {
      await t.start();
      await t.shell(`${netmon} ${h.pid}`);
      let s = await t.waitFor(/press any key to start/);
      assert.match(s, /netmon proc shows the network of the namespace this process lives in/);
      assert.match(s, /set 6\s+Enter\s+refresh every 6 seconds/);
      assert.equal(await t.altScreen(), true, "alternate screen in use");
      assert.doesNotMatch(s, /Local Address/, "no table behind the instructions");
      await t.keys("x"); // any key
      s = await t.waitFor(new RegExp(`127\\.0\\.0\\.1\\s+${h.ports.tcp4}\\s+\\*\\s+tcp\\s`));
      assert.match(
        s,
        new RegExp(`netmon proc ${h.pid} \\(python3\\)\\s+own only: off\\s+every 2s`),
      );
      assert.match(s, /tcp: \d+ sockets, 8 held by the process/);
      // The original tool's way: type "set 6" and Enter, no ':' before it.
      await t.keys("-l", "set 6");
      s = await t.waitFor(/^set 6_/m);
      assert.match(rowsOf(s)[0], /tcp: \d+ sockets|netmon proc/);
      await t.keys("Enter");
      s = await t.waitFor(/every 6s/);
      assert.match(s, /tcp: \d+ sockets/, "back on the tcp tab where typing began");
      await t.keys("2");
      await t.waitFor(/udp: 4 sockets, 4 held/);
      await t.keys("Tab");
      await t.waitFor(/arp: \d+ rows/);
      await t.keys("BTab");
      await t.waitFor(/udp: 4 sockets/);
      await t.keys("r"); // raw -> routing: a shared first letter cycles
      await t.waitFor(/raw: 2 sockets, 2 held/);
      await t.keys("r");
      await t.waitFor(/routing: \d+ rows/);
      // Resize: the view redraws for the new size.
      await t.cmd("resize-window", "-t", "t", "-x", "90", "-y", "20");
      s = await t.waitFor((x) => rowsOf(x).length === 20 && /^netmon proc/.test(rowsOf(x)[0]));
      assert.ok(rowsOf(s).every((l) => l.length <= 90));
      await t.keys("C-d");
      await assertRestored(t, 0, VIEW);
    } finally {
      await t.close();
      await h.close();
    }
  },
});

Deno.test({
  ...opts,
  name: "tmux: arp tab shows IPv6 neighbours and the neighbour-cache statistics",
  fn: () =>
    onHolder("--no-intro --tab arp", async (t) => {
      const s = await t.waitFor(/Neighbour cache statistics/);
      assert.match(s, /10\.200\.1\.2\s+IPv4\s+02:00:00:00:00:02\s+va\s+complete,permanent/);
      assert.match(s, /fd00:200::2\s+IPv6\s+02:00:00:00:00:03\s+va\s+PERMANENT/);
      assert.match(s, /Counter\s+IPv4 \(arp_cache\)\s+IPv6 \(ndisc_cache\)\s+Meaning/);
      for (const c of ["entries", "lookups", "hits", "res_failed", "table_fulls"]) {
        assert.match(s, new RegExp(`^${c}\\s+\\d+\\s+\\d+\\s+\\S`, "m"), c);
      }
      assert.match(s, /res_failed\s+\d+\s+\d+\s+failed resolutions/);
    }),
});

Deno.test({
  ...opts,
  name:
    "tmux: traffic tab has every /proc/net/dev column with units; Right scrolls, keeps the first column, stops at the last; markers where cut",
  fn: () =>
    onHolder("--no-intro --tab traffic", async (t) => {
      const s = await t.waitFor(/^Interface\s+RX rate\s+RX \[pkt\/s\]\s+TX rate/m);
      const header = () => rowsOf(t.last).find((l) => l.startsWith("Interface"))!;
      assert.match(header(), /RX bytes\s+RX packets \[pkt\]\s+RX errs \[pkt\]/);
      assert.match(header(), />$/, "a marker where the table is cut");
      assert.match(s, /^va\s/m);
      const COLS = [
        "RX bytes",
        "RX packets [pkt]",
        "RX errs [pkt]",
        "RX drop [pkt]",
        "RX fifo [err]",
        "RX frame [err]",
        "RX compressed [pkt]",
        "RX multicast [pkt]",
        "TX bytes",
        "TX packets [pkt]",
        "TX errs [pkt]",
        "TX drop [pkt]",
        "TX fifo [err]",
        "TX colls [collisions]",
        "TX carrier [err]",
        "TX compressed [pkt]",
      ];
      const seen = new Set<string>();
      /** Right once; true when the header changed within a second. */
      const right = async () => {
        const before = header();
        await t.keys("Right");
        for (let j = 0; j < 10; j++) {
          await new Promise((r) => setTimeout(r, 100));
          await t.screen();
          if (header() !== before) return true;
        }
        return false;
      };
      for (let i = 0; i < 40; i++) {
        for (const c of COLS) if (header().includes(c)) seen.add(c);
        if (!(await right())) break;
      }
      const last = header();
      assert.match(
        last,
        /^Interface <.*TX compressed \[pkt\]$/,
        "first column kept, last column shown",
      );
      for (const c of COLS) assert.ok(seen.has(c), `${c} seen while scrolling`);
      // Further Right keys change nothing: scrolling stopped at the last column.
      await t.keys("Right");
      await t.keys("Right");
      await new Promise((r) => setTimeout(r, 300));
      await t.screen();
      assert.equal(header(), last);
      await t.keys("Left");
      await t.waitFor(() => header() !== last);
    }),
});

Deno.test({
  ...opts,
  name: "tmux: routing tab shows MTU, table and type for IPv4 and IPv6",
  fn: () =>
    onHolder("--no-intro --tab routing", async (t) => {
      const s = await t.waitFor(/203\.0\.113\.0\/24/);
      assert.match(s, /^Destination\s+Family\s+Gateway\s+Interface\s+Metric\s+MTU\s+Table\s+Type/m);
      assert.match(s, /203\.0\.113\.0\/24\s+IPv4\s+10\.200\.1\.2\s+va\s+0\s+1300\s+100\s+unicast/);
      assert.match(s, /2001:db8:2::\/48\s+IPv6\s+fd00:200::2\s+va\s+1024\s+1280\s+100\s+unicast/);
      assert.match(
        s,
        /198\.51\.100\.0\/24\s+IPv4\s+10\.200\.1\.2\s+va\s+7\s+1500 \(dev\)\s+main\s+unicast/,
      );
      assert.match(s, /127\.0\.0\.1\/32\s+IPv4\s+-\s+lo\s+0\s+65536 \(dev\)\s+local\s+local/);
    }, [160, 40]),
});

Deno.test({
  ...opts,
  name:
    "tmux: tcp tab shows tcp_info (RTT, cwnd, retransmits, bytes acked/received) and throughput per connection",
  async fn() {
    const h = await startHolder();
    const peers: Peer[] = [];
    const t = new Tmux(220, 32);
    try {
      const srv = await Peer.start(["tcp-server", "127.0.0.1"], h.ns);
      peers.push(srv);
      // 300 messages of 10 kB, one every 20 ms: about 490 KiB/s for 6 s.
      const cli = await Peer.start(
        ["tcp-client", "127.0.0.1", String(srv.port), "300", "10000", "0.02"],
        h.ns,
      );
      peers.push(cli);
      await t.start();
      await t.shell(`${netmon} ${cli.pid} --no-intro --tab tcp --interval 1 --own-only`);
      const lp = cli.info.local_port as number;
      const head =
        /Local Address\s+Port\s+Own\s+Proto\s+Remote Address\s+Port\s+State\s+Send-Q\s+Recv-Q\s+RTT ms\s+RTTvar ms\s+Cwnd\s+Retrans\s+Bytes acked\s+Bytes recv\s+Send rate\s+Recv rate/;
      const row = new RegExp(
        `127\\.0\\.0\\.1\\s+${lp}\\s+\\*\\s+tcp\\s+127\\.0\\.0\\.1\\s+${srv.port}\\s+ESTABLISHED` +
          `\\s+\\d+\\s+\\d+\\s+([\\d.]+)\\s+[\\d.]+\\s+(\\d+)\\s+\\d+/(\\d+)\\s+([\\d.]+ [KM]iB)\\s+` +
          `([\\d.]+ (?:B|KiB))\\s+([\\d.]+) KiB/s\\s+([\\d.]+) B/s`,
      );
      const s = await t.waitFor((x) => head.test(x) && row.test(x));
      const m = row.exec(s)!;
      assert.ok(Number(m[1]) > 0, "RTT");
      assert.ok(Number(m[2]) >= 1, "cwnd");
      const rate = Number(m[6]);
      assert.ok(rate > 100 && rate < 2000, `send rate ${rate} KiB/s (about 490 sent)`);
      await t.keys("q");
      await assertRestored(t, 0, VIEW);
    } finally {
      await t.close();
      for (const p of peers.reverse()) await p.stop();
      await h.close();
    }
  },
});

Deno.test({
  ...opts,
  name: "tmux: sort by any column (< > I), / search filters rows, ? lists every key",
  fn: () =>
    onHolder("--no-intro", async (t) => {
      await t.waitFor(/tcp: \d+ sockets/);
      await t.keys(">");
      let s = await t.waitFor(/sorted by Local Address asc/);
      assert.match(s, /^Local Address\+\s+Port/m);
      await t.keys(">");
      s = await t.waitFor(/sorted by Port asc/);
      const ports = () =>
        rowsOf(t.last).filter((l) => /^(127|::|0\.)/.test(l)).map((l) => Number(l.split(/\s+/)[1]));
      const asc = ports();
      assert.deepEqual(asc, [...asc].sort((a, b) => a - b), "ports ascending");
      await t.keys("I");
      s = await t.waitFor(/sorted by Port desc/);
      const desc = ports();
      assert.deepEqual(desc, [...desc].sort((a, b) => b - a), "ports descending");
      // Search: only rows containing "::1".
      await t.keys("/");
      await t.keys("-l", "::1");
      s = await t.waitFor(/search "::1": \d+ of \d+/);
      const shown = rowsOf(s).filter((l) => /^(127|::|0\.)/.test(l));
      assert.ok(shown.length > 0 && shown.every((l) => l.includes("::1")), shown.join("\n"));
      await t.keys("Enter");
      await t.keys("Escape");
      await t.waitFor((x) => !/search "/.test(x));
      // Help: every key of the view and of netmon proc.
      await t.keys("?");
      s = await t.waitFor(/Keys \(any key closes this help\)/);
      for (
        const k of [
          "Tab / Shift+Tab",
          "1 .. 9",
          "Up / Down",
          "PgUp / PgDn",
          "Home / End",
          "Left / Right",
          "< / >",
          "reverse the sort order",
          "search: show only rows",
          "command line",
          "set N  Enter",
          "pause / resume",
          "this help",
          "Ctrl+L",
          "q, Ctrl+C, Ctrl+D",
          "t u a s r i",
          "only the sockets the process holds",
        ]
      ) assert.ok(s.includes(k), `help lists ${k}`);
      await t.keys("z");
      await t.waitFor(/tcp: \d+ sockets/);
    }),
});

Deno.test({
  ...opts,
  name:
    "tmux: the watched process exits -> the view ends at once (not at the next refresh), exit 1",
  async fn() {
    const target = new Deno.Command("sleep", { args: ["300"], stdout: "null", stderr: "null" })
      .spawn();
    const t = new Tmux();
    try {
      await t.start();
      await t.shell(`${netmon} ${target.pid} --no-intro --interval 60`);
      await t.waitFor(new RegExp(`netmon proc ${target.pid} \\(sleep\\)`));
      const killed = performance.now();
      target.kill("SIGKILL");
      await target.status;
      await t.waitFor(/EXIT=1/);
      // The refresh interval is 60 s: only watching the process itself ends the view this soon.
      assert.ok(performance.now() - killed < 20_000, "ended long before the next refresh");
      await assertRestored(t, 1, VIEW);
      assert.match(t.last, new RegExp(`netmon: proc: process ${target.pid} has exited`));
    } finally {
      try {
        target.kill("SIGKILL");
      } catch { /* already gone */ }
      await target.status;
      await t.close();
    }
  },
});

Deno.test({
  ...opts,
  name:
    "tmux: --name matching several processes shows a list to choose from; Enter watches that one",
  async fn() {
    const dir = Deno.makeTempDirSync();
    const name = `nmpick${Math.floor(Math.random() * 1e5)}`;
    Deno.copyFileSync("/bin/sleep", `${dir}/${name}`);
    const kids = [0, 1].map(() =>
      new Deno.Command(`${dir}/${name}`, { args: ["120"], stdout: "null", stderr: "null" })
        .spawn()
    );
    const pids = kids.map((k) => k.pid).sort((a, b) => a - b);
    const t = new Tmux();
    try {
      await t.start();
      await t.shell(`${netmon} --name ${name} --no-intro`);
      const s = await t.waitFor(/2 processes match: choose one/);
      assert.match(s, new RegExp(`${pids[0]}\\s+${name}\\s+${dir}/${name} 120`));
      assert.match(s, new RegExp(`${pids[1]}\\s+${name}\\s+${dir}/${name} 120`));
      await t.keys("Down");
      await t.keys("Enter");
      await t.waitFor(new RegExp(`netmon proc ${pids[1]} \\(${name}\\)`));
      await t.keys("q");
      await assertRestored(t, 0, VIEW);
    } finally {
      for (const k of kids) {
        k.kill("SIGKILL");
        await k.status;
      }
      await t.close();
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  ...opts,
  name: "tmux: q quits with 0; SIGTERM while the view runs restores the terminal (exit 143)",
  async fn() {
    const target = new Deno.Command("sleep", { args: ["300"], stdout: "null", stderr: "null" })
      .spawn();
    const t = new Tmux();
    try {
      await t.start();
      await t.shell(`${netmon} ${target.pid} --no-intro`);
      await t.waitFor(/netmon proc \d+ \(sleep\)/);
      await t.keys("q");
      await assertRestored(t, 0, VIEW);
      // sh -c writes its pid and execs netmon, so the pid is netmon's.
      await t.shell(`sh -c 'echo $$ > ${t.dir}/pid; exec ${netmon} ${target.pid}'`);
      await t.waitFor(/press any key to start/);
      Deno.kill(Number(Deno.readTextFileSync(`${t.dir}/pid`)), "SIGTERM");
      await assertRestored(t, 143, VIEW);
    } finally {
      try {
        target.kill("SIGKILL");
      } catch { /* already gone */ }
      await target.status;
      await t.close();
    }
  },
});
