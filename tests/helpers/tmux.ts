/**
 * A terminal for tests: each instance runs its own tmux server (-L) with one session of a
 * fixed size, types keys, reads the screen and the stty settings a shell saw before and
 * after a command. Only that server is ever killed.
 */
import assert from "node:assert/strict";
import { run, uniq } from "./run.ts";

export class Tmux {
  constructor(readonly cols = 110, readonly rows = 32) {}

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
      String(this.cols),
      "-y",
      String(this.rows),
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

/** After exit: normal screen back with the shell prompt, same stty settings as before. */
export async function assertRestored(t: Tmux, exit: number, view: RegExp): Promise<void> {
  const screen = await t.waitFor(new RegExp(`EXIT=${exit}\\s*\\n\\s*PROMPT\\$`));
  assert.equal(await t.altScreen(), false, "alternate screen left");
  assert.ok(!view.test(screen), `the shell's screen is back:\n${screen}`);
  for (let i = 0; i < 100 && !t.stty().after; i++) await new Promise((r) => setTimeout(r, 50));
  const { before, after } = t.stty();
  assert.ok(before.length > 0);
  assert.equal(after, before, "stty settings restored");
}
