/**
 * Process attribution on the host's loopback: Python servers and clients with known pids, a
 * live `netmon capture -i lo --flows --json` beside them, and `ss -tunap` (asked while the
 * sockets are open) as the oracle of who owns each socket. Only this test's ports are kept
 * (other tests may use lo at the same time).
 */
import assert from "node:assert/strict";
import { skipUnless } from "../helpers/run.ts";
import { hostNetns, Netmon, Peer, type Rec, ssOwners } from "./lab.ts";
import { gated } from "../helpers/skip.ts";

const SKIP = skipUnless({ root: true, tools: ["python3", "ss"] });

const flowsOf = (recs: Rec[]) => recs.filter((r) => r.Flow !== undefined);
/** `netmon capture -i lo --json --flows` with more arguments. */
const onLo = (...args: string[]) =>
  new Netmon(["capture", "-i", "lo", "--json", "--flows", ...args]);
const portsOf = (f: Rec) => [f.Flow.Source_Port, f.Flow.Destination_Port];

Deno.test(gated({
  name: "lo: long-lived TCP and UDP flows name the pid, name and user ss -tunap shows, both ends",
  needs: SKIP,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const tcpSrv = await Peer.start(["tcp-server", "127.0.0.1"]);
    const udpSrv = await Peer.start(["udp-server", "127.0.0.1"]);
    const P = tcpSrv.port, U = udpSrv.port;
    const nm = onLo(
      "--filter",
      JSON.stringify([{ Flow: { Port: [P, U] } }, { TCP: { Port: P } }, { UDP: { Port: U } }]),
    );
    const peers = [tcpSrv, udpSrv];
    try {
      await nm.ready();
      const tcpCli = await Peer.start(["tcp-client", "127.0.0.1", String(P), "30", "1000", "0.03"]);
      peers.push(tcpCli);
      const udpCli = await Peer.start(["udp-client", "127.0.0.1", String(U), "30", "200", "0.03"]);
      peers.push(udpCli);
      assert.equal(await tcpCli.lines.next(), "DONE");
      assert.equal(await udpCli.lines.next(), "DONE");
      const owners = ssOwners(); // while every socket is still open
      const tl = tcpCli.info.local_port as number, ul = udpCli.info.local_port as number;
      const ssTcpCli = owners.get(`tcp 127.0.0.1:${tl} 127.0.0.1:${P}`);
      const ssTcpSrv = owners.get(`tcp 127.0.0.1:${P} 127.0.0.1:${tl}`);
      const ssUdpCli = owners.get(`udp 127.0.0.1:${ul} 127.0.0.1:${U}`);
      const ssUdpSrv = owners.get(`udp 127.0.0.1:${U} 0.0.0.0:*`);
      assert.ok(ssTcpCli && ssTcpSrv && ssUdpCli && ssUdpSrv, JSON.stringify([...owners]));
      // ss is the oracle; the pids the peers print must agree with it.
      assert.equal(ssTcpCli.pid, tcpCli.pid);
      assert.equal(ssUdpSrv.pid, udpSrv.pid);
      for (const p of peers.splice(2)) await p.stop();
      const summary = await nm.stop();
      const recs = nm.records() as Rec[];
      const flows = flowsOf(recs);
      const tcpFlow = flows.find((f) => f.Flow.Protocol === "TCP" && portsOf(f).includes(tl));
      const udpFlow = flows.find((f) => f.Flow.Protocol === "UDP" && portsOf(f).includes(ul));
      assert.ok(tcpFlow && udpFlow, `flows: ${JSON.stringify(flows)}\n${summary}`);
      for (
        const [flow, cli, srv] of [[tcpFlow, ssTcpCli, ssTcpSrv], [
          udpFlow,
          ssUdpCli,
          ssUdpSrv,
        ]] as [
          Rec,
          { pid: number; name: string },
          { pid: number; name: string },
        ][]
      ) {
        assert.equal(flow.Flow.Source_Port, flow === tcpFlow ? tl : ul, "client is the originator");
        assert.equal(flow.Process?.PID, cli.pid, JSON.stringify(flow));
        assert.equal(flow.Process.Name, cli.name);
        assert.equal(flow.Process.Role, "originator");
        assert.equal(flow.Process.User, "root");
        assert.equal(flow.Process.UID, 0);
        assert.equal(flow.Process.Netns, hostNetns());
        assert.match(String(flow.Process.Command), /traffic\.py (tcp|udp)-client 127\.0\.0\.1/);
        assert.equal(flow.Peer_Process?.PID, srv.pid);
        assert.equal(flow.Peer_Process.Name, srv.name);
        assert.equal(flow.Peer_Process.Role, "responder");
      }
      // Packet records of the connection carry the same Process from the first one resolved on.
      const pkts = recs.filter((r) =>
        r.TCP !== undefined &&
        [r.TCP.Source_Port, r.TCP.Destination_Port].includes(tl)
      );
      assert.ok(pkts.length >= 60, `${pkts.length} packets`);
      const first = pkts.findIndex((r) => r.Process !== undefined);
      assert.ok(first >= 0 && first < pkts.length / 2, `first attributed packet ${first}`);
      for (const r of pkts.slice(first)) assert.equal(r.Process?.PID, ssTcpCli.pid);
      assert.match(summary, /netmon: processes: \d+ flows attributed, \d+ unresolved/);
    } finally {
      for (const p of peers.reverse()) await p.stop();
      await nm.stop();
      nm.remove();
    }
  },
}));

Deno.test(gated({
  name:
    "lo: --filter '{\"Process\": ...}' keeps one process's packets and flows; --no-processes adds nothing",
  needs: SKIP,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const srv = await Peer.start(["tcp-server", "127.0.0.1"]);
    const P = srv.port;
    const peers = [srv];
    const nm = onLo(
      "--filter",
      JSON.stringify({ Process: { Command: "x", Role: "originator" } }),
      "--filter",
      JSON.stringify({ Process: { Role: "originator" }, TCP: { Port: P } }),
    );
    const off = onLo(
      "--no-processes",
      "--filter",
      JSON.stringify([{ Flow: { Port: P } }, { TCP: { Port: P } }]),
    );
    try {
      await nm.ready();
      await off.ready(1);
      const a = await Peer.start(["tcp-client", "127.0.0.1", String(P), "40", "100", "0.02"]);
      peers.push(a);
      assert.equal(await a.lines.next(), "DONE");
      for (const p of peers.splice(1)) await p.stop();
      await nm.stop();
      await off.stop();
      const recs = nm.records() as Rec[];
      // Packet records: only the client's side of port P (the packet filter names TCP);
      // the Process-only filter ("x" matches no command) adds nothing.
      assert.ok(recs.length > 0);
      for (const r of recs) {
        assert.equal(r.Flow, undefined, "the packet filter does not apply to flow records");
        assert.equal(r.Process.Role, "originator");
        assert.equal(r.Process.PID, a.pid);
      }
      const plain = off.records() as Rec[];
      assert.ok(plain.length >= 40, `${plain.length} records`);
      for (const r of plain) {
        assert.equal(r.Process, undefined);
        assert.equal(r.Peer_Process, undefined);
      }
    } finally {
      for (const p of peers.reverse()) await p.stop();
      await nm.stop();
      await off.stop();
      nm.remove();
      off.remove();
    }
  },
}));
