/**
 * Process attribution across network namespaces, as on a container host: a namespace joined
 * to the host by a veth pair, netmon capturing on the host side. Servers and clients on both
 * sides (Python, curl), one server in a cgroup named like a Docker container's. Oracles:
 * `ss -tunap` on each side (asked while the sockets are open), the pids the test started,
 * the namespace's inode, and `nethogs -t` on the same interface for per-process byte totals.
 */
import assert from "node:assert/strict";
import { have, skipUnless } from "../helpers/run.ts";
import { hostNetns, Nethogs, Netmon, Peer, type Rec, ssOwners, VethNs } from "./lab.ts";
import { gated } from "../helpers/skip.ts";

const SKIP = skipUnless({ root: true, tools: ["python3", "ss", "ip", "curl"] });

/** The cgroup v2 mount point, or null. */
function cgroup2Mount(): string | null {
  for (const line of Deno.readTextFileSync("/proc/self/mountinfo").split("\n")) {
    const [pre, post] = line.split(" - ");
    if (post?.startsWith("cgroup2 ")) return pre.split(" ")[4];
  }
  return null;
}

/** A cgroup named the way Docker's systemd driver names a container's. */
class FakeContainer {
  readonly id = Array.from(
    crypto.getRandomValues(new Uint8Array(32)),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  readonly dir: string | null;
  constructor() {
    const m = cgroup2Mount();
    this.dir = m === null ? null : `${m}/docker-${this.id}.scope`;
    if (this.dir !== null) {
      try {
        Deno.mkdirSync(this.dir);
      } catch {
        (this as { dir: string | null }).dir = null;
      }
    }
  }
  enter(pid: number): boolean {
    if (this.dir === null) return false;
    try {
      Deno.writeTextFileSync(`${this.dir}/cgroup.procs`, String(pid));
      return true;
    } catch {
      return false;
    }
  }
  remove(): void {
    if (this.dir === null) return;
    const root = this.dir.slice(0, this.dir.lastIndexOf("/"));
    for (const pid of Deno.readTextFileSync(`${this.dir}/cgroup.procs`).split("\n")) {
      if (pid !== "") {
        try {
          Deno.writeTextFileSync(`${root}/cgroup.procs`, pid);
        } catch { /* gone */ }
      }
    }
    try {
      Deno.removeSync(this.dir);
    } catch { /* still busy: leave it */ }
  }
}

async function curl(url: string): Promise<number> {
  const c = new Deno.Command("curl", {
    args: ["-s", "-o", "/dev/null", "--max-time", "10", url],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const st = await c.status;
  assert.ok(st.success, `curl ${url}`);
  return c.pid;
}

Deno.test(gated({
  name: "veth into a namespace: both ends named (host process and the namespace's), " +
    "containers by cgroup, curl, short connections, byte totals beside nethogs",
  needs: SKIP,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const v = new VethNs().create();
    const box = new FakeContainer();
    const peers: Peer[] = [];
    let nm: Netmon | null = null;
    let hogs: Nethogs | null = null;
    try {
      const nsSrv = await Peer.start(["tcp-server", "0.0.0.0"], v.ns);
      peers.push(nsSrv);
      const inBox = box.enter(nsSrv.pid);
      const http = await Peer.start(["http-server", v.nsAddr], v.ns);
      peers.push(http);
      const hostSrv = await Peer.start(["tcp-server", v.hostAddr]);
      peers.push(hostSrv);
      nm = new Netmon(["capture", "-i", v.host, "--json", "--flows-only"]);
      await nm.ready();
      if (have("nethogs")) {
        hogs = new Nethogs(v.host);
        await hogs.ready();
      }
      // Long-lived: host -> namespace and namespace -> host.
      const out = await Peer.start(
        ["tcp-client", v.nsAddr, String(nsSrv.port), "60", "10000", "0.02"],
      );
      peers.push(out);
      const back = await Peer.start(
        ["tcp-client", v.hostAddr, String(hostSrv.port), "20", "500", "0.02"],
        v.ns,
      );
      peers.push(back);
      assert.equal(await out.lines.next(), "DONE");
      assert.equal(await back.lines.next(), "DONE");
      const hostOwners = ssOwners();
      const nsOwners = ssOwners(v.ns);
      // nethogs has what it needs; stopped now, it does not compete for the CPUs below.
      const totals = hogs ? await hogs.stop() : null;
      hogs = null;
      // Short processes: curl, five times.
      const curls: number[] = [];
      for (let i = 0; i < 5; i++) curls.push(await curl(`http://${v.nsAddr}:${http.port}/blob`));
      // Short connections: connect, send, receive, hold 5 ms, close.
      const short = await Peer.start([
        "short-client",
        v.nsAddr,
        String(nsSrv.port),
        "100",
        "0.005",
      ]);
      peers.push(short);
      const shortPorts = JSON.parse(await short.lines.next()).ports as number[];
      for (const p of peers.splice(3)) await p.stop();
      const summary = await nm.stop();
      const flows = (nm.records() as Rec[]).filter((r) => r.Flow !== undefined);
      const byPort = (p: number) => flows.filter((f) => f.Flow.Source_Port === p);
      const hostNs = hostNetns(), boxNs = v.inode();

      await t.step(
        "host client -> namespace server: Process in the host, Peer_Process in the namespace",
        () => {
          const lp = out.info.local_port as number;
          const ssCli = hostOwners.get(`tcp ${v.hostAddr}:${lp} ${v.nsAddr}:${nsSrv.port}`);
          const ssSrv = nsOwners.get(`tcp ${v.nsAddr}:${nsSrv.port} ${v.hostAddr}:${lp}`);
          assert.ok(ssCli && ssSrv, `ss: ${JSON.stringify([...hostOwners, ...nsOwners])}`);
          const [f] = byPort(lp);
          assert.ok(f, `no flow from port ${lp}:\n${summary}`);
          assert.equal(f.Process?.PID, ssCli.pid);
          assert.equal(f.Process.Name, ssCli.name);
          assert.equal(f.Process.Netns, hostNs);
          assert.equal(f.Process.Role, "originator");
          assert.equal(f.Peer_Process?.PID, ssSrv.pid);
          assert.equal(f.Peer_Process.Name, ssSrv.name);
          assert.equal(f.Peer_Process.Netns, boxNs);
          if (inBox) {
            assert.equal(f.Peer_Process.Container_ID, box.id);
            assert.equal(f.Peer_Process.Cgroup, `/docker-${box.id}.scope`);
          }
          assert.equal(f.Process.Container_ID, undefined);
        },
      );

      await t.step(
        "namespace client -> host server: the namespace's process is the originator",
        () => {
          const lp = back.info.local_port as number;
          const ssCli = nsOwners.get(`tcp ${v.nsAddr}:${lp} ${v.hostAddr}:${hostSrv.port}`);
          const ssSrv = hostOwners.get(`tcp ${v.hostAddr}:${hostSrv.port} ${v.nsAddr}:${lp}`);
          assert.ok(ssCli && ssSrv);
          const [f] = byPort(lp);
          assert.ok(f);
          assert.equal(f.Process?.PID, ssCli.pid);
          assert.equal(f.Process.Netns, boxNs);
          assert.equal(f.Peer_Process?.PID, ssSrv.pid);
          assert.equal(f.Peer_Process.Netns, hostNs);
        },
      );

      await t.step("curl: each run's flow names that curl process", () => {
        const curlFlows = flows.filter((f) => f.Flow.Destination_Port === http.port);
        assert.equal(curlFlows.length, 5, JSON.stringify(curlFlows.map((f) => f.Process)));
        assert.deepEqual(curlFlows.map((f) => f.Process?.PID).sort(), [...curls].sort());
        for (const f of curlFlows) {
          assert.equal(f.Process.Name, "curl");
          assert.match(String(f.Process.Command), /curl -s -o \/dev\/null --max-time 10 http:\/\//);
          assert.equal(f.Peer_Process?.PID, http.pid);
        }
      });

      await t.step("short connections (connect, send, close within 10 ms): >= 95% named", () => {
        const named = shortPorts.filter((p) => byPort(p)[0]?.Process?.PID === short.pid);
        assert.ok(named.length >= 95, `${named.length} of ${shortPorts.length}\n${summary}`);
        // The rest are not wrong, only unresolved or named by the server end.
        for (const p of shortPorts) {
          const pid = byPort(p)[0]?.Process?.PID;
          assert.ok(
            pid === undefined || pid === short.pid || pid === nsSrv.pid,
            `port ${p}: ${pid}`,
          );
        }
      });

      await t.step({
        name: "per-process byte totals within 5% of nethogs -t on the same interface",
        ignore: totals === null,
        fn: () => {
          const lp = out.info.local_port as number;
          const [f] = byPort(lp);
          const [sent, received] = totals!.get(out.pid) ?? [NaN, NaN];
          const ours = [
            f.Flow.Originator_Wire_Bytes as number,
            f.Flow.Responder_Wire_Bytes as number,
          ];
          assert.ok(sent > 600_000, `nethogs sent ${sent}: ${JSON.stringify([...totals!])}`);
          assert.ok(
            Math.abs(ours[0] - sent) / sent <= 0.05,
            `sent: netmon ${ours[0]}, nethogs ${sent}`,
          );
          assert.ok(
            Math.abs(ours[1] - received) / received <= 0.05,
            `received: netmon ${ours[1]}, nethogs ${received}`,
          );
        },
      });
      assert.match(summary, /netmon: processes: \d+ flows attributed/);
    } finally {
      if (hogs) await hogs.stop().catch(() => {});
      for (const p of peers.reverse()) await p.stop();
      if (nm) {
        await nm.stop();
        nm.remove();
      }
      box.remove();
      v.destroy();
    }
  },
}));
