/** Rates, tab documents, process-exit detection and pid validation (no live process needed). */
import assert from "node:assert/strict";
import { FIXTURES } from "../helpers/run.ts";
import { RateTracker } from "../../src/proc/rates.ts";
import { type AnalysisRow, type Snapshot, TabModel, type TrafficRow } from "../../src/proc/tabs.ts";
import { processGone } from "../../src/proc/read.ts";
import { parsePid } from "../../src/proc/run.ts";
import { UsageError } from "../../src/errors.ts";
import type { SocketRow } from "../../src/proc/sockets.ts";
import type { TcpRow } from "../../src/proc/tabs.ts";
import type { DiagSocket, TcpInfo } from "../../src/net/sock_diag.ts";

const fx = (name: string) => Deno.readTextFileSync(`${FIXTURES}proc/${name}`);

Deno.test("RateTracker: per-second deltas on the monotonic clock; a smaller value is a reset, never negative", () => {
  const r = new RateTracker();
  assert.deepEqual(r.sample("x", 100, 1000), { rate: null, reset: false });
  assert.deepEqual(r.sample("x", 300, 3000), { rate: 100, reset: false });
  assert.deepEqual(r.sample("x", 50, 4000), { rate: null, reset: true });
  assert.deepEqual(r.sample("x", 70, 4500), { rate: 40, reset: false });
  assert.deepEqual(r.sample("x", 70, 4500), { rate: null, reset: false }); // no time passed
});

const snmp = (inSegs: number, outSegs: number, retrans: number, currEstab: number) =>
  "Ip: Forwarding DefaultTTL InReceives\nIp: 1 64 10\n" +
  "Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens CurrEstab InSegs OutSegs RetransSegs\n" +
  `Tcp: 1 200 120000 -1 3 ${currEstab} ${inSegs} ${outSegs} ${retrans}\n`;

const snap = (files: Snapshot["files"], at: number): Snapshot => ({
  files,
  own: { inodes: new Set(), denied: false },
  at,
});

Deno.test("TabModel analysis: gauges as values, counters as rates, resets shown as resets", () => {
  const m = new TabModel();
  const s1 = snap({ snmp: snmp(1000, 2000, 10, 5) }, 0);
  m.observe(s1);
  const first = m.build("analysis", s1).rows as AnalysisRow[];
  const get = (rows: AnalysisRow[], n: string) => rows.find((r) => r.Name === n)!;
  assert.equal(get(first, "Tcp.InSegs").Rate_Per_Second, null);
  assert.equal(get(first, "Tcp.RtoAlgorithm").Value_Text, "other");
  assert.equal(get(first, "Ip.Forwarding").Value_Text, "forwarding");

  const s2 = snap({ snmp: snmp(1500, 3000, 60, 9) }, 2000);
  m.observe(s2);
  const second = m.build("analysis", s2).rows as AnalysisRow[];
  assert.equal(get(second, "Tcp.InSegs").Rate_Per_Second, 250);
  assert.equal(get(second, "Tcp.OutSegs").Rate_Per_Second, 500);
  assert.equal(get(second, "Tcp.CurrEstab").Kind, "gauge");
  assert.equal(get(second, "Tcp.CurrEstab").Value, 9);
  assert.equal(get(second, "Tcp.CurrEstab").Rate_Per_Second, null);
  assert.equal(get(second, "Retransmitted share of sent segments").Value, 5);

  // Counters reset (namespace recreated): no negative rate, flagged as reset.
  const s3 = snap({ snmp: snmp(10, 20, 0, 1) }, 3000);
  m.observe(s3);
  const third = m.build("analysis", s3).rows as AnalysisRow[];
  assert.equal(get(third, "Tcp.InSegs").Rate_Per_Second, null);
  assert.equal(get(third, "Tcp.InSegs").Reset, true);
  assert.ok(third.every((r) => r.Rate_Per_Second === null || r.Rate_Per_Second >= 0));
});

Deno.test("TabModel traffic: per-interface byte and packet rates from /proc/net/dev", () => {
  const dev = (rx: number, tx: number) =>
    "Inter-|   Receive |  Transmit\n face |bytes packets|bytes packets\n  va: " +
    `${rx} 1 ${tx} 2\n`;
  const m = new TabModel();
  m.observe(snap({ dev: dev(1000, 0) }, 0));
  const s = snap({ dev: dev(3048, 512) }, 1000);
  m.observe(s);
  const [row] = m.build("traffic", s).rows as TrafficRow[];
  assert.equal(row.Interface, "va");
  assert.equal(row.Receive_Bytes_Per_Second, 2048);
  assert.equal(row.Transmit_Bytes_Per_Second, 512);
  assert.equal(row.Receive_Packets_Per_Second, 0);
});

Deno.test("TabModel sockets: Own from fd inodes, own-only filter, a note when fd access is denied", () => {
  const m = new TabModel();
  const s = snap({ tcp: fx("tcp"), tcp6: fx("tcp6") }, 0);
  s.own = { inodes: new Set([12752, 12759]), denied: false };
  const doc = m.build("tcp", s);
  assert.equal(doc.rows.length, 9);
  assert.deepEqual((doc.rows as SocketRow[]).filter((r) => r.Own).map((r) => r.Inode), [
    12752,
    12759,
  ]);
  assert.equal(doc.notes, undefined);
  assert.deepEqual((m.build("tcp", s, { ownOnly: true }).rows as SocketRow[]).map((r) => r.Inode), [
    12752,
    12759,
  ]);
  s.own = { inodes: new Set(), denied: true };
  assert.match(m.build("tcp", s).notes?.join() ?? "", /fd access denied/);
  const noV6 = snap({ tcp: fx("tcp"), tcp6: null }, 0);
  assert.match(m.build("tcp", noV6).notes?.join() ?? "", /not available.*tcp6/);
});

/** inet_diag's view of the fixture's socket 12758 (127.0.0.1:48542 -> 127.0.0.1:34253). */
function diag(acked: number, received: number): DiagSocket {
  return {
    Family: 4,
    Protocol: 6,
    State: 1,
    Local_Address: "127.0.0.1",
    Local_Port: 0xbd9e,
    Remote_Address: "127.0.0.1",
    Remote_Port: 0x85cd,
    Interface_Index: 0,
    Cookie: 77,
    UID: 0,
    Inode: 12758,
    Receive_Queue: 0,
    Send_Queue: 0,
    Timer: 0,
    Expires_Ms: 0,
    Retransmits: 0,
    TCP_Info: {
      RTT_Ms: 0.05,
      RTT_Var_Ms: 0.025,
      Cwnd: 10,
      Total_Retrans: 2,
      Bytes_Acked: acked,
      Bytes_Received: received,
    } as TcpInfo,
  };
}

Deno.test("TabModel tcp: tcp_info joined by inode; throughput from byte deltas over one refresh interval, never over a tab switch", () => {
  const m = new TabModel();
  const at = (files: Snapshot["files"], t: number, d: DiagSocket) => ({
    ...snap(files, t),
    net: { tcp: [d] },
  });
  const files = { tcp: fx("tcp"), tcp6: fx("tcp6") };
  m.observe(at(files, 0, diag(1000, 500)));
  const tick = at(files, 2000, diag(5000, 2500)); // 2 s later: +4000 acked, +2000 received
  m.observe(tick);
  const row = (m.build("tcp", tick).rows as TcpRow[]).find((r) => r.Inode === 12758)!;
  assert.equal(row.RTT_Ms, 0.05);
  assert.equal(row.Total_Retrans, 2);
  assert.equal(row.Bytes_Acked, 5000);
  assert.equal(row.Send_Rate, 2000);
  assert.equal(row.Receive_Rate, 1000);
  // 10 ms later a tab switch reads again without a tick: the rates stay the interval's.
  const switched = at(files, 2010, diag(5100, 2600));
  const again = (m.build("tcp", switched).rows as TcpRow[]).find((r) => r.Inode === 12758)!;
  assert.equal(again.Bytes_Acked, 5100);
  assert.equal(again.Send_Rate, 2000);
  // Rows without inet_diag data stay as /proc has them.
  assert.equal(
    (m.build("tcp", tick).rows as TcpRow[]).find((r) => r.Inode === 12752)?.RTT_Ms,
    undefined,
  );
});

Deno.test("processGone(): exited, zombie, and pid reused (start time changed)", () => {
  const root = Deno.makeTempDirSync({ prefix: "netmon-proc-" });
  try {
    Deno.mkdirSync(`${root}/42`);
    const stat = (state: string, start: number) =>
      Deno.writeTextFileSync(
        `${root}/42/stat`,
        `42 (x y) ${state} 1 42 42 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 ${start} 0 0\n`,
      );
    stat("S", 500);
    assert.equal(processGone(42, 500, root), null);
    stat("Z", 500);
    assert.match(processGone(42, 500, root)!, /zombie/);
    stat("S", 900);
    assert.match(processGone(42, 500, root)!, /pid reused/);
    assert.match(processGone(43, 500, root)!, /has exited/);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("parsePid(): missing, non-numeric, negative and zero pids are one-line usage errors", () => {
  assert.equal(parsePid("1234"), 1234);
  for (const bad of [undefined, "", "abc", "-5", "0", "12x", "1.5"]) {
    assert.throws(
      () => parsePid(bad),
      (e) => e instanceof UsageError && e.exitCode === 2 && !e.message.includes("\n"),
    );
  }
});
