/** `netmon proc` as a command: argument errors, scripting output, the process exiting while watched. */
import assert from "node:assert/strict";
import { MAIN, runNetmon } from "../helpers/run.ts";

/** A pid that no process has (a child that has already been reaped). */
async function deadPid(): Promise<number> {
  const c = new Deno.Command("true").spawn();
  await c.status;
  return c.pid;
}

Deno.test("netmon proc: missing, non-numeric, negative and unknown pids exit 2 with one line", async () => {
  const cases: [string[], RegExp][] = [
    [[], /give the process id/],
    [["abc"], /must be a number/],
    [["-5"], /must be positive/],
    [[String(await deadPid())], /no such process/],
    [[String(Deno.pid), "--tab", "bogus"], /bogus/],
  ];
  for (const [args, re] of cases) {
    const r = await runNetmon(["proc", ...args]);
    assert.equal(r.code, 2, `${args}: ${r.stderr}`);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr.trim().split("\n").length, 1, `one line: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.ok(!r.stderr.includes("    at "), "no stack trace");
  }
});

Deno.test("netmon proc --count 2 --json: one document per refresh, rates on the second", async () => {
  const r = await runNetmon([
    "proc",
    String(Deno.pid),
    "--tab",
    "traffic",
    "--count",
    "2",
    "--interval",
    "0.2",
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const docs = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.equal(docs.length, 2);
  const lo = (d: { rows: Record<string, unknown>[] }) => d.rows.find((x) => x.Interface === "lo")!;
  assert.equal(lo(docs[0]).Receive_Bytes_Per_Second, null);
  assert.equal(typeof lo(docs[1]).Receive_Bytes_Per_Second, "number");
  const a = await runNetmon(["proc", String(Deno.pid), "--tab", "analysis", "--once", "--json"]);
  const names = JSON.parse(a.stdout).rows.map((x: { Name: string }) => x.Name);
  for (
    const n of [
      "Ip.Forwarding",
      "Ip.InReceives",
      "Tcp.RtoAlgorithm",
      "Tcp.RetransSegs",
      "Udp.InDatagrams",
    ]
  ) {
    assert.ok(names.includes(n), n);
  }
});

Deno.test("netmon proc --once without --json: plain text tables, no escape codes", async () => {
  for (
    const tab of ["tcp", "udp", "arp", "traffic", "stats", "raw", "icmp", "routing", "analysis"]
  ) {
    const r = await runNetmon(["proc", String(Deno.pid), "--once", "--tab", tab]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes("\x1b"), `${tab}: no ANSI`);
    assert.match(r.stdout, new RegExp(`^pid ${Deno.pid} \\(deno\\)\\s+tab: ${tab}`));
  }
});

Deno.test("netmon proc: a watched process that becomes a zombie -> message, exit 1", async () => {
  // The inner sleep's parent execs another sleep that never reaps it: killing it leaves a zombie.
  const parent = new Deno.Command("sh", {
    args: ["-c", "sleep 300 & echo $!; exec sleep 300"],
    stdout: "piped",
  }).spawn();
  const reader = parent.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let watcher: Deno.ChildProcess | undefined;
  try {
    let out = "";
    while (!out.includes("\n")) out += (await reader.read()).value ?? "";
    const inner = Number(out.trim());
    watcher = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "proc",
        String(inner),
        "--count",
        "100000",
        "--interval",
        "0.1",
        "--json",
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const wout = watcher.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let first = "";
    while (!first.includes("\n")) {
      const { value, done } = await wout.read();
      if (done) break;
      first += value;
    }
    assert.equal(JSON.parse(first.split("\n")[0]).tab, "tcp");
    Deno.kill(inner, "SIGKILL");
    while (!(await wout.read()).done) { /* drain */ }
    const st = await watcher.status;
    const err = new TextDecoder().decode(
      (await new Response(watcher.stderr).arrayBuffer()) as ArrayBuffer,
    );
    assert.equal(st.code, 1, err);
    assert.match(
      err.trim(),
      new RegExp(`^netmon: proc: process ${inner} has exited \\(zombie\\)$`),
    );
    // Starting on a zombie is a usage error.
    const r = await runNetmon(["proc", String(inner)]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /zombie/);
  } finally {
    try {
      watcher?.kill("SIGKILL");
    } catch { /* exited */ }
    await watcher?.status;
    parent.kill("SIGKILL");
    await parent.status;
    await reader.cancel().catch(() => {});
  }
});

Deno.test("netmon proc --name: one match is watched like its pid; none or several are one clear line, exit 2", async () => {
  // Three sleeps under names of their own (exec -a sets argv[0]; comm follows the binary).
  const uniq = `nmslp${Math.floor(Math.random() * 1e6)}`;
  const dir = Deno.makeTempDirSync();
  const bin = `${dir}/${uniq}`;
  Deno.copyFileSync("/bin/sleep", bin);
  Deno.copyFileSync("/bin/sleep", `${bin}b`);
  const kids = [bin, `${bin}b`, `${bin}b`].map((b) =>
    new Deno.Command(b, { args: ["60"], stdout: "null", stderr: "null" }).spawn()
  );
  try {
    await new Promise((r) => setTimeout(r, 200));
    const one = await runNetmon(["proc", "--name", `^${uniq}$`, "--once", "--json"]);
    assert.equal(one.code, 0, one.stderr);
    const doc = JSON.parse(one.stdout);
    assert.equal(doc.pid, kids[0].pid);
    assert.equal(doc.command, `${bin} 60`);
    const many = await runNetmon(["proc", "--name", `${uniq}b`, "--once"]);
    assert.equal(many.code, 2);
    const pids = [kids[1].pid, kids[2].pid].sort((a, b) => a - b);
    assert.equal(
      many.stderr.trim(),
      `netmon: proc: 2 processes match '${uniq}b': ${pids[0]} (${bin}b 60), ${
        pids[1]
      } (${bin}b 60); ` +
        "give one pid, or a pattern only one matches",
    );
    const none = await runNetmon(["proc", "--name", `${uniq}zzz`, "--once"]);
    assert.equal(none.code, 2);
    assert.equal(none.stderr.trim(), `netmon: proc: no process matches '${uniq}zzz'`);
    const both = await runNetmon(["proc", "1", "--name", uniq]);
    assert.equal(both.code, 2);
    assert.equal(both.stderr.trim(), "netmon: proc: give a pid or --name, not both");
    const bad = await runNetmon(["proc", "--name", "(", "--once"]);
    assert.equal(bad.stderr.trim(), "netmon: proc: --name: not a regular expression: '('");
  } finally {
    for (const k of kids) {
      k.kill("SIGKILL");
      await k.status;
    }
    Deno.removeSync(dir, { recursive: true });
  }
});
