/**
 * netmon top on known traffic across a veth into a namespace: a Python client in the host
 * sending a known number of bytes to a Python server in the namespace. Oracles: the bytes
 * the client sent (a lower bound), nethogs -t on the same interface at the same time, and
 * the pids and namespaces the test started. Then the interactive view under tmux.
 */
import assert from "node:assert/strict";
import { have, MAIN, skipUnless } from "../helpers/run.ts";
import { gated, needsTool, skipFile } from "../helpers/skip.ts";
import { assertRestored, Tmux } from "../helpers/tmux.ts";
import { hostNetns, Nethogs, packetSockets, Peer, VethNs } from "../attribution/lab.ts";

const SKIP = skipUnless({ root: true, tools: ["python3", "ip"] });
const opts = {
  ignore: skipFile(import.meta.url, SKIP),
  sanitizeResources: false,
  sanitizeOps: false,
};

interface Row {
  Process: { PID: number; Name: string; Netns: number };
  Sent_Bytes: number;
  Received_Bytes: number;
  Sent_Rate_10s: number;
  Connections: { Remote_Address: string; Remote_Port: number; Sent_Bytes: number }[];
}

/** Waits until process `pid` holds `n` packet sockets (capture and SYN tap: ready). */
async function ready(pid: number, n: number): Promise<void> {
  for (let i = 0; i < 600 && packetSockets(pid) < n; i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  if (packetSockets(pid) < n) throw new Error("netmon top never opened its sockets");
}

Deno.test({
  ...opts,
  name:
    "netmon top --once --json: the client's and the namespace server's bytes, within 5% of nethogs -t",
  async fn() {
    const v = new VethNs().create();
    const peers: Peer[] = [];
    let hogs: Nethogs | null = null;
    try {
      const srv = await Peer.start(["tcp-server", "0.0.0.0"], v.ns);
      peers.push(srv);
      const top = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, "top", "-i", v.host, "--once", "--json", "--interval", "6"],
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const out = new Response(top.stdout).text();
      const err = new Response(top.stderr).text();
      await ready(top.pid, 2);
      if (have("nethogs")) {
        hogs = new Nethogs(v.host);
        await hogs.ready();
      }
      const cli = await Peer.start(
        ["tcp-client", v.nsAddr, String(srv.port), "80", "10000", "0.01"],
      );
      peers.push(cli);
      assert.equal(await cli.lines.next(), "DONE");
      const totals = hogs ? await hogs.stop() : null;
      hogs = null;
      const st = await top.status;
      assert.equal(st.code, 0, await err);
      const doc = JSON.parse(await out) as {
        Interface: string;
        Processes: Row[];
        Unattributed: { Kind: string }[];
      };
      assert.equal(doc.Interface, v.host);
      const c = doc.Processes.find((p) => p.Process.PID === cli.pid);
      const s = doc.Processes.find((p) => p.Process.PID === srv.pid);
      assert.ok(c && s, JSON.stringify(doc.Processes.map((p) => p.Process)));
      assert.equal(c.Process.Name, "python3");
      assert.equal(c.Process.Netns, hostNetns());
      assert.equal(s.Process.Netns, v.inode());
      // 800 kB of payload went out, with headers on top; the server received the same frames.
      assert.ok(c.Sent_Bytes >= 800_000 && c.Sent_Bytes < 900_000, `sent ${c.Sent_Bytes}`);
      assert.equal(s.Received_Bytes, c.Sent_Bytes);
      assert.equal(s.Sent_Bytes, c.Received_Bytes);
      assert.ok(c.Sent_Rate_10s > 0);
      const [conn] = c.Connections;
      assert.equal(conn.Remote_Address, v.nsAddr);
      assert.equal(conn.Remote_Port, srv.port);
      assert.ok(Array.isArray(doc.Unattributed));
      if (totals !== null) {
        const [sent, received] = totals.get(cli.pid) ?? [NaN, NaN];
        assert.ok(
          Math.abs(c.Sent_Bytes - sent) / sent <= 0.05,
          `sent ${c.Sent_Bytes} vs nethogs ${sent}`,
        );
        assert.ok(
          Math.abs(c.Received_Bytes - received) / received <= 0.05,
          `received ${c.Received_Bytes} vs nethogs ${received}`,
        );
      }
    } finally {
      if (hogs) await hogs.stop().catch(() => {});
      for (const p of peers.reverse()) await p.stop();
      v.destroy();
    }
  },
});

const TMUX_TEST =
  "tmux: netmon top lists processes by traffic, Enter shows a process's connections, Esc, p, ?, q";
Deno.test(gated({
  ...opts,
  needs: SKIP ?? needsTool("tmux"),
  name: TMUX_TEST,
  async fn() {
    const v = new VethNs().create();
    const peers: Peer[] = [];
    const t = new Tmux(160, 30);
    try {
      const srv = await Peer.start(["tcp-server", "0.0.0.0"], v.ns);
      peers.push(srv);
      await t.start();
      await t.shell(`${Deno.execPath()} run -A ${MAIN} top -i ${v.host} --interval 1`);
      await t.waitFor(/netmon top -i vh/);
      // 600 messages of 10 kB, every 20 ms: traffic for about 12 s.
      const cli = await Peer.start([
        "tcp-client",
        v.nsAddr,
        String(srv.port),
        "600",
        "10000",
        "0.02",
      ]);
      peers.push(cli);
      const row = new RegExp(`^python3\\s+${cli.pid}\\s+root\\s+[\\d.]+ KiB/s`, "m");
      let s = await t.waitFor(row);
      assert.match(
        s,
        /^Process\s+PID\s+User\s+Sent\/s\s+Recv\/s\s+Sent 10s\s+Recv 10s\s+Sent 40s\s+Recv 40s\s+Sent\s+Received/m,
      );
      assert.match(
        s,
        new RegExp(`^python3\\s+${srv.pid}\\s+root`, "m"),
        "the namespace's server too",
      );
      // Sorting by a column: PID ascending.
      await t.keys(">");
      await t.keys(">");
      await t.waitFor(/sorted by PID asc/);
      // Search for the client's pid: its row alone, under the cursor.
      await t.keys("/");
      await t.keys("-l", String(cli.pid));
      await t.keys("Enter");
      await t.waitFor(new RegExp(`search "${cli.pid}": 1 of \\d+`));
      await t.keys("Enter");
      s = await t.waitFor(new RegExp(`connections of python3 \\(${cli.pid}\\): 1`));
      assert.match(
        s,
        new RegExp(
          `^${v.nsAddr.replaceAll(".", "\\.")}\\s+${srv.port}\\s+TCP\\s+python3\\s+${cli.pid}\\s+${
            v.hostAddr.replaceAll(".", "\\.")
          }:\\d+`,
          "m",
        ),
      );
      await t.keys("Escape");
      await t.waitFor(/\d+ processes, .* unattributed/);
      await t.keys("p");
      await t.waitFor(/PAUSED/);
      await t.keys("p");
      await t.waitFor((x) => !/PAUSED/.test(x));
      await t.keys("?");
      s = await t.waitFor(/Keys \(any key closes this help\)/);
      assert.match(s, /Enter\s+processes: show the connections of the process under the cursor/);
      await t.keys("x");
      await t.keys("q");
      await assertRestored(t, 0, /netmon top -i/);
    } finally {
      await t.close();
      for (const p of peers.reverse()) await p.stop();
      v.destroy();
    }
  },
}));
