/**
 * Live source details, inside a namespace pair: a classic BPF program attached before
 * bind (only ARP passes), the snap length (kernel-side through the program's return
 * value), and --user dropping root once the socket is open.
 */
import assert from "node:assert/strict";
import { MAIN, ROOT, skipUnless } from "../helpers/run.ts";
import { finish, Lab, signal, waitFor } from "./netns.ts";
import { gated } from "../helpers/skip.ts";

const SKIP = skipUnless({ root: true, tools: ["ip", "ping"] });
const DENO = Deno.execPath();
const PROBE = `${ROOT}tests/live/probe.ts`;

/** struct sock_filter[] as hex: ldh [12]; jeq #0x0806 ? ret #262144 : ret #0. */
const ARP_ONLY = [
  [0x28, 0, 0, 12],
  [0x15, 0, 1, 0x0806],
  [0x06, 0, 0, 262144],
  [0x06, 0, 0, 0],
].map(([code, jt, jf, k]) => {
  const b = new DataView(new ArrayBuffer(8));
  b.setUint16(0, code, true);
  b.setUint8(2, jt);
  b.setUint8(3, jf);
  b.setUint32(4, k, true);
  return [...new Uint8Array(b.buffer)].map((x) => x.toString(16).padStart(2, "0")).join("");
}).join("");

interface ProbeFrame {
  etherType: number;
  capLen: number;
  wireLen: number;
  pktType: number;
  ifIndex: number;
  ifName: string;
}

/** Runs the probe on the b end while `traffic` runs in a, returns its frames. */
async function probe(
  lab: Lab,
  dev: string,
  args: string[],
  traffic: string,
): Promise<ProbeFrame[]> {
  lab.sh(lab.nsA, "ip neigh flush all");
  lab.sh(lab.nsB, "ip neigh flush all");
  const p = lab.spawn(lab.nsB, [DENO, "run", "-A", PROBE, dev, ...args]);
  try {
    const ix = lab.ifindex(lab.nsB, dev);
    await waitFor("the probe's socket", () => lab.packetSockets(lab.nsB, ix) >= 1);
    lab.sh(lab.nsA, traffic);
    const out = await finish(p);
    assert.equal(out.code, 0, out.stderr);
    return out.stdout.trim().split("\n").filter((l) => l).map((l) => JSON.parse(l));
  } finally {
    signal(p, "SIGKILL");
    await p.status;
  }
}

Deno.test(gated({
  name:
    "a classic BPF program attached before bind passes only what it accepts, cut to the snap length",
  needs: SKIP,
  fn: async () => {
    const lab = new Lab();
    try {
      lab.create();
      const v = lab.veth("v", "10.81.0");
      // Only ARP: the first two frames of a ping to an unresolved neighbour are ARP, the
      // echo request/reply that follow must not pass.
      const arp = await probe(lab, v.b, ["2", "0", ARP_ONLY], "ping -q -c 2 -i 0.2 -W 2 10.81.0.2");
      assert.equal(arp.length, 2);
      for (const f of arp) {
        assert.equal(f.etherType, 0x0806);
        assert.equal(f.ifName, v.b);
        assert.equal(f.capLen, f.wireLen);
      }
      assert.deepEqual(
        arp.map((f) => f.pktType).sort(),
        [1, /* broadcast request */ 4 /* outgoing reply */].sort(),
      );
      // The same program with --snaplen 30: its accept now keeps 30 bytes.
      const cut = await probe(
        lab,
        v.b,
        ["2", "30", ARP_ONLY],
        "ping -q -c 2 -i 0.2 -W 2 10.81.0.2",
      );
      assert.equal(cut.length, 2);
      for (const f of cut) {
        assert.equal(f.capLen, 30);
        assert.ok(f.wireLen >= 42, `ARP frame of ${f.wireLen} bytes`);
      }
      // No program, snap length 64: ICMP echo of 200 bytes arrives cut.
      const big = await probe(lab, v.b, ["6", "64"], "ping -q -c 2 -i 0.2 -W 2 -s 200 10.81.0.2");
      const echo = big.filter((f) => f.etherType === 0x0800);
      assert.ok(echo.length >= 2);
      for (const f of echo) {
        assert.equal(f.capLen, 64);
        assert.equal(f.wireLen, 14 + 20 + 8 + 200);
      }
    } finally {
      lab.destroy();
    }
  },
}));

Deno.test(gated({
  name: "--user drops root once the socket is open and capture goes on",
  needs: skipUnless({ root: true, tools: ["ip", "ping"] }),
  fn: async () => {
    const lab = new Lab();
    let nm: Deno.ChildProcess | null = null;
    try {
      lab.create();
      const v = lab.veth("v", "10.82.0");
      const ix = lab.ifindex(lab.nsB, v.b);
      nm = lab.spawn(lab.nsB, [
        DENO,
        "run",
        "-A",
        MAIN,
        "capture",
        "-i",
        v.b,
        "--json",
        "--user",
        "nobody",
        "-c",
        "4",
      ]);
      const pid = nm.pid;
      await waitFor("netmon's socket", () => lab.packetSockets(lab.nsB, ix) >= 1);
      // The drop follows the socket setup (after sealing Deno's cache files): wait for it.
      const uid = /^Uid:\s+65534\s+65534\s+65534\s+65534$/m;
      await waitFor(
        "netmon running as nobody",
        () => uid.test(Deno.readTextFileSync(`/proc/${pid}/status`)),
      );
      const status = Deno.readTextFileSync(`/proc/${pid}/status`);
      assert.match(status, uid);
      assert.match(status, /^Groups:\s+65534\s*$/m);
      lab.sh(lab.nsA, "ping -q -c 2 -i 0.2 -W 2 10.82.0.2");
      const out = await finish(nm);
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout.trim().split("\n").length, 4);
      assert.match(out.stderr, /^4 packets captured$/m);
    } finally {
      if (nm !== null) {
        signal(nm, "SIGKILL");
        await nm.status;
      }
      lab.destroy();
    }
  },
}));

Deno.test(gated({
  name: "an interface going down ends the capture: summary, one line naming it, exit 1",
  needs: skipUnless({ root: true, tools: ["ip"] }),
  fn: async () => {
    const lab = new Lab();
    let nm: Deno.ChildProcess | null = null;
    try {
      lab.create();
      const v = lab.veth("v", "10.83.0");
      const ix = lab.ifindex(lab.nsB, v.b);
      nm = lab.spawn(lab.nsB, [DENO, "run", "-A", MAIN, "capture", "-i", v.b, "--json"]);
      await waitFor("netmon's socket", () => lab.packetSockets(lab.nsB, ix) >= 1);
      lab.sh(lab.nsB, `ip link set ${v.b} down`);
      const out = await finish(nm);
      assert.equal(out.code, 1, out.stderr);
      assert.match(out.stderr, /^0 packets captured$/m);
      assert.match(
        out.stderr,
        new RegExp(`^netmon: interface '${v.b}' went down or disappeared \\(.+\\)$`, "m"),
      );
    } finally {
      if (nm !== null) {
        signal(nm, "SIGKILL");
        await nm.status;
      }
      lab.destroy();
    }
  },
}));

Deno.test(gated({
  name: "--promisc holds the interface promiscuous while capturing, --no-promisc never does",
  needs: skipUnless({ root: true, tools: ["ip"] }),
  fn: async () => {
    const lab = new Lab();
    const children: Deno.ChildProcess[] = [];
    const promiscuity = (dev: string): number =>
      JSON.parse(lab.sh(lab.nsB, `ip -d -j link show ${dev}`))[0].promiscuity;
    try {
      lab.create();
      const v = lab.veth("v", "10.84.0");
      const ix = lab.ifindex(lab.nsB, v.b);
      for (const [flag, want] of [["--promisc", 1], ["--no-promisc", 0]] as const) {
        const nm = lab.spawn(lab.nsB, [
          DENO,
          "run",
          "-A",
          MAIN,
          "capture",
          "-i",
          v.b,
          "--json",
          flag,
        ]);
        children.push(nm);
        await waitFor("netmon's socket", () => lab.packetSockets(lab.nsB, ix) >= 1);
        assert.equal(promiscuity(v.b), want, flag);
        signal(nm, "SIGINT");
        const out = await finish(nm);
        assert.equal(out.code, 0, out.stderr);
        // The membership goes with the socket.
        assert.equal(promiscuity(v.b), 0, `after ${flag}`);
      }
    } finally {
      for (const c of children) {
        signal(c, "SIGKILL");
        await c.status;
      }
      lab.destroy();
    }
  },
}));
