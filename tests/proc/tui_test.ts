/**
 * Terminal test under tmux: the interactive view on a fixed 110x32 screen, driven with keys.
 * Each test uses its own tmux server (-L) and kills only that server.
 */
import assert from "node:assert/strict";
import { MAIN, run, skipUnless, uniq } from "../helpers/run.ts";
import { startHolder } from "./netns.ts";
import { gated } from "../helpers/skip.ts";

const skip = skipUnless({ root: true, tools: ["tmux", "ip", "python3"] });

class Tmux {
  readonly sock = `nmproc${uniq()}`;
  readonly dir = Deno.makeTempDirSync({ prefix: "netmon-tui-" });
  last = "";
  socketPath = "";

  async cmd(...args: string[]): Promise<string> {
    const r = await run(["tmux", "-L", this.sock, ...args], { timeoutMs: 10_000 });
    if (r.code !== 0) throw new Error(`tmux ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  }
  async start(): Promise<void> {
    await this.cmd(
      "-f",
      "/dev/null",
      "new-session",
      "-d",
      "-s",
      "t",
      "-x",
      "110",
      "-y",
      "32",
      "env PS1='PROMPT$ ' sh",
    );
    this.socketPath = (await this.cmd("display", "-p", "#{socket_path}")).trim();
    await this.waitFor(/PROMPT\$/);
  }
  keys(...k: string[]): Promise<string> {
    return this.cmd("send-keys", "-t", "t", ...k);
  }
  /** Types a shell line that runs `argv`, saving stty before and after and printing the exit code. */
  async shell(line: string): Promise<void> {
    await this.keys(
      "-l",
      `stty -g > ${this.dir}/before; ${line}; echo EXIT=$?; stty -g > ${this.dir}/after`,
    );
    await this.keys("Enter");
  }
  async screen(): Promise<string> {
    this.last = await this.cmd("capture-pane", "-p", "-t", "t");
    return this.last;
  }
  async altScreen(): Promise<boolean> {
    return (await this.cmd("display", "-p", "-t", "t", "#{alternate_on}")).trim() === "1";
  }
  /** Polls the screen until `re` matches (bounded: 300 polls), returning the screen. */
  async waitFor(re: RegExp | ((screen: string) => boolean)): Promise<string> {
    for (let i = 0; i < 300; i++) {
      const s = await this.screen();
      if (typeof re === "function" ? re(s) : re.test(s)) return s;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`screen never matched ${re}:\n${this.last}`);
  }
  /** The terminal settings the shell saw before and after netmon. */
  stty(): { before: string; after: string } {
    return {
      before: Deno.readTextFileSync(`${this.dir}/before`).trim(),
      after: Deno.readTextFileSync(`${this.dir}/after`).trim(),
    };
  }
  async close(): Promise<void> {
    await run(["tmux", "-L", this.sock, "kill-server"], { timeoutMs: 10_000 }).catch(() => {});
    // kill-server leaves the socket file behind.
    if (this.socketPath) await Deno.remove(this.socketPath).catch(() => {});
    Deno.removeSync(this.dir, { recursive: true });
  }
}

const netmon = `${Deno.execPath()} run -A ${MAIN} proc`;

/** After exit: normal screen back with the shell prompt, same stty settings as before. */
async function assertRestored(t: Tmux, exit: number): Promise<void> {
  const screen = await t.waitFor(new RegExp(`EXIT=${exit}\\s*\\n\\s*PROMPT\\$`));
  assert.equal(await t.altScreen(), false, "alternate screen left");
  assert.ok(
    !/netmon proc \d+ \(|Tab\/arrows/.test(screen),
    `the shell's screen is back:\n${screen}`,
  );
  for (let i = 0; i < 100 && !t.stty().after; i++) await new Promise((r) => setTimeout(r, 50));
  const { before, after } = t.stty();
  assert.ok(before.length > 0);
  assert.equal(after, before, "stty settings restored");
}

Deno.test(gated({
  name: "tmux: tabs by keys, `set 1` on the command line, Ctrl+D exits 0 and restores the terminal",
  needs: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const h = await startHolder();
    const t = new Tmux();
    try {
      await t.start();
      await t.shell(`${netmon} ${h.pid}`);
      // The tcp tab shows first, with the holder's listener marked as its own.
      let s = await t.waitFor(new RegExp(`\\*\\s+tcp\\s+127\\.0\\.0\\.1\\s+${h.ports.tcp4}\\s`));
      assert.match(s, new RegExp(`netmon proc ${h.pid} \\(python3\\)\\s+every 2s`));
      assert.match(s, /tcp: \d+ sockets, 8 held by the process/);
      assert.match(s, /::ffff:127\.0\.0\.1/);
      assert.equal(await t.altScreen(), true, "alternate screen in use");

      await t.keys("2");
      s = await t.waitFor(new RegExp(`\\*\\s+udp6\\s+::1\\s+${h.ports.udp6}\\s`));
      assert.match(s, /udp: 4 sockets, 4 held/);

      await t.keys("Tab");
      await t.waitFor(/10\.200\.1\.2\s+02:00:00:00:00:02/);

      await t.keys("8");
      await t.waitFor(/198\.51\.100\.0\/24\s+10\.200\.1\.2\s+va\s+7/);

      await t.keys("Left");
      await t.waitFor(/icmp: \d+ sockets/);

      await t.keys(":");
      await t.keys("-l", "set 1");
      await t.waitFor(/^:set 1_/m);
      await t.keys("Enter");
      await t.waitFor(/every 1s/);

      // Resize: the view redraws for the new size (hint line on the new last row).
      await t.cmd("resize-window", "-t", "t", "-x", "90", "-y", "20");
      const lastRow = (screen: string) => screen.replace(/\n$/, "").split("\n");
      // Redrawn for 90x20: title on the first row, the command's message on row 20.
      const redrawn = (screen: string) => {
        const rows = lastRow(screen);
        return rows.length === 20 && /^netmon proc/.test(rows[0]) && /every 1s/.test(rows[19]);
      };
      s = await t.waitFor(redrawn);
      assert.ok(lastRow(s).every((l) => l.length <= 90));

      await t.keys("r"); // icmp -> routing -> raw: a shared first letter cycles
      await t.waitFor(/routing: \d+ rows/);
      await t.keys("r");
      await t.waitFor(/raw: 2 sockets, 2 held/);

      await t.keys("C-d");
      await assertRestored(t, 0);
    } finally {
      await t.close();
      await h.close();
    }
  },
}));

Deno.test(gated({
  name: "tmux: the watched process exits -> the view says so, exits 1, terminal restored",
  needs: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const target = new Deno.Command("sleep", { args: ["300"], stdout: "null", stderr: "null" })
      .spawn();
    const t = new Tmux();
    try {
      await t.start();
      await t.shell(`${netmon} ${target.pid} --interval 0.2`);
      await t.waitFor(new RegExp(`netmon proc ${target.pid} \\(sleep\\)`));
      target.kill("SIGKILL");
      await target.status;
      await assertRestored(t, 1);
      assert.match(t.last, new RegExp(`netmon: proc: process ${target.pid} has exited`));
    } finally {
      try {
        target.kill("SIGKILL");
      } catch { /* already gone */ }
      await target.status;
      await t.close();
    }
  },
}));

Deno.test(gated({
  name: "tmux: q quits with 0; SIGTERM while the view runs restores the terminal (exit 143)",
  needs: skip,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const target = new Deno.Command("sleep", { args: ["300"], stdout: "null", stderr: "null" })
      .spawn();
    const t = new Tmux();
    try {
      await t.start();
      await t.shell(`${netmon} ${target.pid}`);
      await t.waitFor(/netmon proc \d+ \(sleep\)/);
      await t.keys("q");
      await assertRestored(t, 0);
      // sh -c writes its pid and execs netmon, so the pid is netmon's.
      await t.shell(`sh -c 'echo $$ > ${t.dir}/pid; exec ${netmon} ${target.pid}'`);
      await t.waitFor(/netmon proc \d+ \(sleep\)/);
      Deno.kill(Number(Deno.readTextFileSync(`${t.dir}/pid`)), "SIGTERM");
      await assertRestored(t, 143);
    } finally {
      try {
        target.kill("SIGKILL");
      } catch { /* already gone */ }
      await target.status;
      await t.close();
    }
  },
}));
