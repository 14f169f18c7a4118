/** The pure parts of process attribution: cgroups, /proc text, the SYN tap's BPF, socket memory, filters. */
import assert from "node:assert/strict";
import { containerId, mainCgroup, parseCgroups } from "../../src/attribution/container.ts";
import { commandLine, effectiveUid, nsInode, parsePasswd } from "../../src/attribution/procinfo.ts";
import { synProgram } from "../../src/attribution/tap.ts";
import { SocketMemory } from "../../src/attribution/memory.ts";
import { isLoopback } from "../../src/attribution/netns.ts";
import { compileFilterValue } from "../../src/filter/compile.ts";
import { compileFilterSet } from "../../src/filter/mod.ts";
import { parseNeighStat } from "../../src/proc/neighstat.ts";
import type { DiagSocket } from "../../src/net/sock_diag.ts";
import { runBpf } from "../filter/bpf_vm.ts";
import { recordJson } from "../../src/output/json.ts";
import { buildFrame, type FrameSpec } from "../filter/frames.ts";
import { FIXTURES } from "../helpers/run.ts";

const ID = "0123456789abcdef".repeat(4);

Deno.test("containerId(): Docker, Podman, containerd, CRI-O and Kubernetes cgroup paths; others have none", () => {
  for (
    const path of [
      `/system.slice/docker-${ID}.scope`,
      `/docker/${ID}`,
      `/machine.slice/libpod-${ID}.scope`,
      `/libpod_parent/libpod-${ID}`,
      `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1.slice/cri-containerd-${ID}.scope`,
      `/kubepods/besteffort/pod7d2f3c4e-1111-2222-3333-444455556666/${ID}`,
      `/kubepods.slice/kubepods-burstable.slice/crio-${ID}.scope`,
      `/system.slice/containerd.service/kubepods-besteffort-pod1.slice/${ID}`,
    ]
  ) assert.equal(containerId(path), ID, path);
  // A container nested in another belongs to the inner one.
  const inner = "f".repeat(64);
  assert.equal(containerId(`/docker/${ID}/docker/${inner}`), inner);
  for (
    const path of [
      "/",
      "/user.slice/user-1000.slice/session-2.scope",
      "/system.slice/docker.service",
      `/docker-${ID.slice(1)}.scope`,
    ]
  ) assert.equal(containerId(path), null, path);
});

Deno.test("mainCgroup(): the v2 path; on a hybrid host whose v2 path is / systemd's, else the first v1 path", () => {
  assert.equal(mainCgroup(parseCgroups("0::/system.slice/x.service\n")), "/system.slice/x.service");
  const hybrid = "12:name=systemd:/user.slice/s.scope\n4:memory:/m\n0::/\n";
  assert.equal(mainCgroup(parseCgroups(hybrid)), "/user.slice/s.scope");
  assert.equal(
    mainCgroup(parseCgroups("4:memory:/process_api/a\n1:cpu:/\n0::/\n")),
    "/process_api/a",
  );
  assert.equal(mainCgroup(parseCgroups("0::/\n")), "/");
  assert.deepEqual(parseCgroups("4:cpu,cpuacct:/a\nnot a line\n"), [
    { hierarchy: 4, controllers: "cpu,cpuacct", path: "/a" },
  ]);
});

Deno.test("/proc text: effective uid from status, command lines, namespace links, /etc/passwd", () => {
  assert.equal(effectiveUid("Name:\tx\nUid:\t1000\t33\t33\t33\nGid:\t1\n"), 33);
  assert.equal(effectiveUid("Name:\tx\n"), null);
  assert.equal(commandLine("python3\0-m\0http.server\0"), "python3 -m http.server");
  assert.equal(commandLine(""), null);
  assert.equal(nsInode("net:[4026531840]"), 4026531840);
  assert.equal(nsInode("mnt:[4026531840]"), null);
  const users = parsePasswd(
    "root:x:0:0:root:/root:/bin/sh\n# c\nbob:x:1000:1000::/home/bob:/bin/sh\n",
  );
  assert.equal(users.get(0), "root");
  assert.equal(users.get(1000), "bob");
  assert.ok(isLoopback("127.0.0.1") && isLoopback("::1") && isLoopback("::ffff:127.0.0.53"));
  assert.ok(!isLoopback("10.0.0.1") && !isLoopback("fe80::1"));
});

/** A TCP frame from `spec` with `flags` in its header (buildFrame writes PSH|ACK). */
function tcp(spec: FrameSpec, flags: number): Uint8Array {
  const f = buildFrame(spec);
  const l4 = 14 + (spec.src.includes(":") ? 40 + (spec.ext6 ? 8 : 0) : 20 + (spec.ipOptions ?? 0));
  f[l4 + 13] = flags;
  return f;
}

Deno.test("the SYN tap's BPF keeps the first segment of each TCP connection (128 bytes), nothing else", () => {
  const p = synProgram();
  const SYN = 0x02, ACK = 0x10;
  const v4 = { src: "10.0.0.1", dst: "10.0.0.2" };
  const v6 = { src: "fd00::1", dst: "fd00::2" };
  assert.equal(runBpf(p, tcp(v4, SYN)).ret, 128);
  assert.equal(runBpf(p, tcp(v6, SYN)).ret, 128);
  assert.equal(runBpf(p, tcp({ ...v4, ipOptions: 8 }, SYN)).ret, 128, "IPv4 options");
  assert.equal(runBpf(p, tcp(v4, SYN | ACK)).ret, 0, "SYN-ACK");
  assert.equal(runBpf(p, tcp(v6, SYN | ACK)).ret, 0);
  assert.equal(runBpf(p, tcp(v4, ACK)).ret, 0);
  assert.equal(runBpf(p, tcp(v4, 0x01 | ACK)).ret, 0, "FIN");
  assert.equal(runBpf(p, tcp({ ...v4, fragOffset: 4 }, SYN)).ret, 0, "later fragment");
  assert.equal(runBpf(p, buildFrame({ ...v4, proto: 17 })).ret, 0, "UDP");
  assert.equal(runBpf(p, buildFrame({ ...v6, proto: 17 })).ret, 0);
  assert.equal(runBpf(p, buildFrame({ ...v4, proto: 1 })).ret, 0, "ICMP");
});

const sock = (cookie: number, inode: number, state: number): DiagSocket => ({
  Family: 4,
  Protocol: 6,
  State: state,
  Local_Address: "10.0.0.1",
  Local_Port: 40000,
  Remote_Address: "10.0.0.2",
  Remote_Port: 80,
  Interface_Index: 0,
  Cookie: cookie,
  UID: 0,
  Inode: inode,
  Receive_Queue: 0,
  Send_Queue: 0,
  Timer: 0,
  Expires_Ms: 0,
  Retransmits: 0,
});

Deno.test("SocketMemory: a TIME_WAIT socket is the socket it was (same cookie); forgotten after the grace window", () => {
  const m = new SocketMemory(30_000);
  const proc = { info: { PID: 7 } as never, startTime: 1 };
  const alive = m.put("k", sock(55, 1234, 1), 0);
  alive.proc = proc;
  // The connection closes: same tuple, same cookie, no inode any more.
  const tw = m.put("k", sock(55, 0, 6), 1000);
  assert.equal(tw.proc, proc);
  assert.equal(tw.inode, 1234);
  // Found again under another key (a dump's own tuple) by its cookie.
  assert.equal(m.put("k2", sock(55, 0, 6), 1000).proc, proc);
  // A new connection on the same ports is another socket.
  assert.equal(m.put("k", sock(56, 999, 1), 2000).proc, null);
  m.expire(40_000);
  assert.equal(m.get("k"), undefined);
  assert.equal(m.size, 0);
});

Deno.test("filters: Process alone applies to packet and flow records; with Flow to flows; with packet layers to packets", async () => {
  assert.equal(compileFilterValue({ Process: { Name: "curl" } })[0].record, "any");
  assert.equal(compileFilterValue({ Peer_Process: { PID: 1 } })[0].record, "any");
  assert.equal(compileFilterValue({ Flow: { Port: 80 }, Process: { PID: 1 } })[0].record, "flow");
  assert.equal(compileFilterValue({ TCP: {}, Process: { UID: 0 } })[0].record, "packet");
  assert.equal(compileFilterValue({})[0].record, "packet");
  assert.throws(() => compileFilterValue({ Flow: {}, TCP: {} }), /a flow filter holds only "Flow"/);
  assert.throws(() => compileFilterValue({ Process: { Pid: 1 } }), /Process\.Pid.*PID/);
  assert.throws(() => compileFilterValue({ Process: { Role: "client" } }), /Role/);
  const fs = await compileFilterSet(['{"Process": {"Name": "curl"}}'], []);
  const curl = { PID: 9, Name: "curl", Role: "originator" };
  assert.equal(fs.packets?.({ TCP: {}, Process: curl }), true);
  assert.equal(fs.flows?.({ Flow: {}, Process: curl }), true);
  assert.equal(fs.packets?.({ TCP: {}, Process: { ...curl, Name: "wget" } }), false);
  assert.equal(fs.flows?.({ Flow: {} }), false, "no Process: no match");
  const drop = await compileFilterSet([], ['{"Process": {"User": "root"}}']);
  assert.equal(drop.packets?.({ Process: { User: "root" } }), false);
  assert.equal(drop.flows?.({ Flow: {}, Process: { User: "bob" } }), true);
});

Deno.test("parseNeighStat(): per-CPU lines summed, entries taken once (a real /proc/net/stat/arp_cache)", () => {
  const st = parseNeighStat(Deno.readTextFileSync(`${FIXTURES}proc/stat_arp_cache`));
  assert.equal(st.get("entries"), 2);
  assert.equal(st.get("allocs"), 0xe6 + 0x117);
  assert.equal(st.get("lookups"), 0x3b9 + 0x511);
  assert.equal(st.get("hits"), 0x7c + 0x19c);
  assert.equal(st.get("periodic_gc_runs"), 0x191);
  assert.equal(st.size, 13);
});

Deno.test("recordJson(): the same JSON as JSON.stringify, shared Process objects serialized once, the record untouched", () => {
  const p = { PID: 1, Name: "curl", Role: "originator" };
  const q = { PID: 2, Name: "python3", Role: "responder" };
  for (
    const rec of [
      { TCP: { Source_Port: 1 }, Process: p, Peer_Process: q, Community_ID: "1:x" },
      { Flow: { Interim: false }, Process: q },
      { Process: p },
      { UDP: {} },
    ] as Record<string, unknown>[]
  ) {
    const keys = Object.keys(rec);
    const s = recordJson(rec);
    assert.deepEqual(JSON.parse(s), JSON.parse(JSON.stringify(rec)));
    assert.deepEqual(Object.keys(rec), keys, "the record keeps its keys");
    assert.equal(rec.Process, keys.includes("Process") ? rec.Process : undefined);
  }
  // Shared objects are serialized once: a later change to one is not seen (they never change).
  const r1 = recordJson({ A: 1, Process: p });
  (p as Record<string, unknown>).Name = "changed";
  assert.equal(recordJson({ A: 1, Process: p }), r1);
  assert.equal(r1, '{"A":1,"Process":{"PID":1,"Name":"curl","Role":"originator"}}');
});
