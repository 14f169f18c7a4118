/**
 * Fixtures for the process-attribution tests: known peers (tests/attribution/traffic.py) in
 * the host namespace or in a namespace joined to the host by a veth pair, netmon capture or
 * top running beside them, and `ss -tunap` as the oracle of which pid owns which socket.
 * Every process started here is stopped by its handle; namespaces are deleted in `destroy()`.
 */
import { MAIN, sh, uniq } from "../helpers/run.ts";

export const TRAFFIC = new URL("./traffic.py", import.meta.url).pathname;

/** Lines of a child's stdout, one at a time. */
export class Lines {
  #reader: ReadableStreamDefaultReader<string>;
  #buf = "";
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  }
  /** The next line (throws when the stream ended first). */
  async next(): Promise<string> {
    for (;;) {
      const nl = this.#buf.indexOf("\n");
      if (nl >= 0) {
        const l = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 1);
        return l;
      }
      const { value, done } = await this.#reader.read();
      if (done) throw new Error(`output ended early: ${this.#buf}`);
      this.#buf += value;
    }
  }
  cancel(): Promise<void> {
    return this.#reader.cancel().catch(() => {});
  }
}

/** A traffic.py process: its first JSON line, more lines on demand, stdin to stop it. */
export class Peer {
  readonly child: Deno.ChildProcess;
  readonly lines: Lines;
  info: Record<string, unknown> = {};

  private constructor(child: Deno.ChildProcess) {
    this.child = child;
    this.lines = new Lines(child.stdout);
  }

  /** Starts `traffic.py MODE ARGS` (inside namespace `ns` when given) and waits until ready. */
  static async start(args: string[], ns?: string): Promise<Peer> {
    const argv = ["python3", TRAFFIC, ...args];
    // `ip netns exec` execs python3: the child's pid is the peer's.
    const child = new Deno.Command(ns ? "ip" : argv[0], {
      args: ns ? ["netns", "exec", ns, ...argv] : argv.slice(1),
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const p = new Peer(child);
    try {
      p.info = JSON.parse(await p.lines.next());
    } catch (e) {
      await p.stop();
      throw e;
    }
    return p;
  }

  get pid(): number {
    return this.info.pid as number;
  }
  get port(): number {
    return this.info.port as number;
  }

  /** Closes stdin (the peer exits), waits for it, kills it if it lingers. */
  async stop(): Promise<void> {
    try {
      await this.child.stdin.close();
    } catch { /* closed */ }
    await reap(this.child, 5000);
    await this.lines.cancel();
  }
}

/** A namespace joined to the host by a veth pair: host side `vh<id>`, namespace side `vn<id>`. */
export class VethNs {
  readonly id = uniq();
  readonly ns = `nmat${this.id}`;
  readonly host = `vh${this.id}`;
  readonly peer = `vn${this.id}`;
  readonly net = 1 + Math.floor(Math.random() * 250);
  readonly hostAddr = `10.213.${this.net}.1`;
  readonly nsAddr = `10.213.${this.net}.2`;
  #made = false;

  create(): this {
    this.#made = true;
    sh([
      `ip netns add ${this.ns}`,
      `ip -n ${this.ns} link set lo up`,
      `ip link add ${this.host} type veth peer name ${this.peer} netns ${this.ns}`,
      `ip link set ${this.host} addrgenmode none`,
      `ip -n ${this.ns} link set ${this.peer} addrgenmode none`,
      `ip addr add ${this.hostAddr}/24 dev ${this.host}`,
      `ip -n ${this.ns} addr add ${this.nsAddr}/24 dev ${this.peer}`,
      `ip link set ${this.host} up`,
      `ip -n ${this.ns} link set ${this.peer} up`,
    ].join(" && "));
    return this;
  }

  /** Inode of the namespace (what records call Netns). */
  inode(): number {
    return Deno.statSync(`/run/netns/${this.ns}`).ino ?? 0;
  }

  destroy(): void {
    if (!this.#made) return;
    this.#made = false;
    try {
      sh(`ip netns del ${this.ns}`); // takes the veth pair with it
    } catch { /* gone */ }
  }
}

/** The host namespace's inode. */
export function hostNetns(): number {
  return Number(/\[(\d+)\]/.exec(Deno.readLinkSync("/proc/self/ns/net"))?.[1] ?? 0);
}

/** Socket owners per `ss -tunap`: "tcp 127.0.0.1:40000 127.0.0.1:5000" -> {name, pid}. */
export function ssOwners(ns?: string): Map<string, { name: string; pid: number }> {
  const out = sh(`${ns ? `ip netns exec ${ns} ` : ""}ss -tunapH`);
  const m = new Map<string, { name: string; pid: number }>();
  for (const line of out.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6) continue;
    const users = /users:\(\("([^"]+)",pid=(\d+)/.exec(line);
    if (!users) continue;
    const norm = (ep: string) => ep.replace(/^\[?(.*?)\]?:(\d+|\*)$/, "$1:$2").replace(/%\w+/, "");
    m.set(`${f[0]} ${norm(f[4])} ${norm(f[5])}`, { name: users[1], pid: Number(users[2]) });
  }
  return m;
}

/** Waits for `child` to exit, killing it after `ms`. */
export async function reap(child: Deno.ChildProcess, ms: number): Promise<void> {
  const t = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, ms);
  await child.status;
  clearTimeout(t);
}

/** How many packet sockets process `pid` holds (capture socket, SYN tap). */
export function packetSockets(pid: number): number {
  const inodes = new Set<number>();
  for (const line of Deno.readTextFileSync("/proc/net/packet").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 9) inodes.add(Number(f[8]));
  }
  let n = 0;
  try {
    for (const e of Deno.readDirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(Deno.readLinkSync(`/proc/${pid}/fd/${e.name}`));
        if (m && inodes.has(Number(m[1]))) n++;
      } catch { /* closed */ }
    }
  } catch { /* gone */ }
  return n;
}

/** netmon running as a child, stdout to a file (JSON lines), stderr collected. */
export class Netmon {
  readonly child: Deno.ChildProcess;
  readonly out = Deno.makeTempFileSync({ prefix: "netmon-attr-", suffix: ".jsonl" });
  #stderr: Promise<string>;
  #written: Promise<void>;

  constructor(args: string[], ns?: string) {
    const file = Deno.openSync(this.out, { write: true, truncate: true });
    const argv = [Deno.execPath(), "run", "-A", MAIN, ...args];
    this.child = new Deno.Command(ns ? "ip" : argv[0], {
      args: ns ? ["netns", "exec", ns, ...argv] : argv.slice(1),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#written = this.child.stdout.pipeTo(file.writable).catch(() => {});
    this.#stderr = new Response(this.child.stderr).text();
  }

  /** Waits until netmon holds `sockets` packet sockets (capture + SYN tap: ready). */
  async ready(sockets = 2, ms = 30_000): Promise<void> {
    const until = Date.now() + ms;
    while (packetSockets(this.child.pid) < sockets) {
      if (Date.now() > until) throw new Error(`netmon not ready: ${await this.stop()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGINT, then the summary (stderr). Killed after 30 s. */
  async stop(): Promise<string> {
    try {
      this.child.kill("SIGINT");
    } catch { /* gone */ }
    await reap(this.child, 30_000);
    await this.#written;
    return await this.#stderr;
  }

  /** The JSON records written. */
  records(): Record<string, unknown>[] {
    return Deno.readTextFileSync(this.out).split("\n").filter((l) => l !== "").map((l) =>
      JSON.parse(l)
    );
  }

  remove(): void {
    Deno.removeSync(this.out);
  }
}

/** A record as the tests read it. */
export type Rec = Record<string, Record<string, unknown>>;

/** nethogs -t on one interface: per-process totals (bytes) of its last refresh. */
export class Nethogs {
  readonly child: Deno.ChildProcess;
  readonly lines: Lines;
  readonly #all: string[] = [];
  constructor(iface: string) {
    this.child = new Deno.Command("nethogs", {
      args: ["-t", "-v", "2", "-d", "1", "-C", iface],
      stdout: "piped",
      stderr: "null",
      stdin: "null",
    }).spawn();
    this.lines = new Lines(this.child.stdout);
  }
  async ready(): Promise<void> {
    for (;;) {
      const l = await this.lines.next();
      this.#all.push(l);
      if (l.startsWith("Refreshing:")) return;
    }
  }
  /** Stops nethogs; its last totals by pid: [sent, received]. */
  async stop(): Promise<Map<number, [number, number]>> {
    const rest = (async () => {
      try {
        for (;;) this.#all.push(await this.lines.next());
      } catch { /* ended */ }
    })();
    await new Promise((r) => setTimeout(r, 2500)); // two more refreshes
    try {
      this.child.kill("SIGTERM");
    } catch { /* gone */ }
    await this.child.status;
    await rest;
    const totals = new Map<number, [number, number]>();
    for (const l of this.#all) {
      const m = /^(.*)\/(\d+)\/\d+\t([\d.e+]+)\t([\d.e+]+)$/.exec(l);
      if (m) totals.set(Number(m[2]), [Number(m[3]), Number(m[4])]);
    }
    return totals;
  }
}
