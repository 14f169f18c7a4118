/**
 * Self-traffic exclusion with a real kernel and real netmon, inside namespaces:
 * 1. the BPF program attached by the live source (SO_ATTACH_FILTER) drops exactly the
 *    frames the cases say, tagged or not, IPv4 and IPv6, short frames kept;
 * 2. `netmon capture` on a veth while it submits to `netmon serve` reached over that
 *    same veth: no record of the submission traffic, while other traffic to the server
 *    host (ping, TCP to another port) is recorded.
 */
import assert from "node:assert/strict";
import { MAIN, ROOT, skipUnless } from "../helpers/run.ts";
import { finish, Lab, signal, sleep, waitFor } from "../live/netns.ts";
import { buildFrame, type FrameSpec } from "./frames.ts";
import { cases } from "./self_cases.ts";
import { gated } from "../helpers/skip.ts";

const SKIP = skipUnless({ root: true, tools: ["ip", "python3", "ping"] });
const DENO = Deno.execPath();
const PROBE = `${ROOT}tests/filter/self_probe.ts`;
const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join("");

/** Sends raw frames out of `dev` in `ns` through an AF_PACKET socket (python3). */
function inject(lab: Lab, ns: string, dev: string, frames: Uint8Array[]): void {
  const file = Deno.makeTempFileSync({ suffix: ".hex" });
  try {
    Deno.writeTextFileSync(file, frames.map(hex).join("\n") + "\n");
    const py = "import socket,sys\n" +
      "s=socket.socket(socket.AF_PACKET, socket.SOCK_RAW)\n" +
      "s.bind((sys.argv[1], 0))\n" +
      "for l in open(sys.argv[2]):\n" +
      "  l=l.strip()\n" +
      "  if l: s.send(bytes.fromhex(l))\n";
    lab.sh(ns, `python3 -c "${py.replaceAll('"', '\\"')}" ${dev} ${file}`);
  } finally {
    Deno.removeSync(file);
  }
}

Deno.test(gated({
  name: "the self BPF program in the kernel drops exactly the server's frames, tagged or not",
  needs: SKIP,
  async fn() {
    const lab = new Lab();
    let probe: Deno.ChildProcess | null = null;
    try {
      lab.create();
      const p = lab.veth("fs", "10.91.7");
      const sent: { frame: Uint8Array; dropped: boolean; name: string }[] = [];
      cases().forEach((c, i) => {
        // A distinct client port per case makes every frame's bytes unique.
        const spec: FrameSpec = { ...c.spec };
        if (spec.dport === 8080) spec.sport = 41000 + i;
        else spec.dport = 41000 + i;
        sent.push({ frame: buildFrame(spec), dropped: c.bpf, name: c.name });
      });
      // Runts: cut before the ports a server frame is kept, long enough it is dropped.
      const full = buildFrame({
        src: "198.51.100.7",
        dst: "192.0.2.10",
        sport: 42000,
        dport: 8080,
      });
      for (const n of [14, 20, 33, 37]) {
        sent.push({ frame: full.slice(0, n), dropped: false, name: `cut ${n}` });
      }
      sent.push({ frame: full.slice(0, 38), dropped: true, name: "cut 38" });
      sent.push({
        frame: buildFrame({
          src: "198.51.100.7",
          dst: "192.0.2.10",
          sport: 42001,
          dport: 8080,
          fragOffset: 100,
        }),
        dropped: false,
        name: "non-first fragment",
      });
      assert.equal(new Set(sent.map((s) => hex(s.frame))).size, sent.length, "frames are unique");
      const marker = new Uint8Array(60);
      marker.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xb5]);

      probe = lab.spawn(lab.nsA, [
        DENO,
        "run",
        "-A",
        PROBE,
        p.a,
        "8080",
        "192.0.2.10",
        "2001:db8::10",
      ]);
      const ix = lab.ifindex(lab.nsA, p.a);
      await waitFor("the probe's socket", () => lab.packetSockets(lab.nsA, ix) >= 1);
      inject(lab, lab.nsA, p.a, [...sent.map((s) => s.frame), marker]);
      const out = await finish(probe);
      assert.equal(out.code, 0, out.stderr);
      const seen = new Set(out.stdout.trim().split("\n"));
      assert.ok(seen.has(hex(marker)), "the end marker arrived");
      for (const s of sent) assert.equal(!seen.has(hex(s.frame)), s.dropped, s.name);
    } finally {
      if (probe !== null) {
        signal(probe, "SIGKILL");
        await probe.status;
      }
      lab.destroy();
    }
  },
}));

/** One netmon capture run on the veth of namespace a while it ships to the server in b. */
async function captureWhileShipping(
  lab: Lab,
  dev: string,
  server: string,
  dir: string,
  extra: string[],
): Promise<{ recs: Record<string, Record<string, unknown>>[]; stderr: string }> {
  const cap = lab.spawn(lab.nsA, [
    DENO,
    "run",
    "-A",
    MAIN,
    "capture",
    "-i",
    dev,
    "--json",
    "--no-flows",
    "--server",
    `http://${server}:8123/`,
    "--batch-seconds",
    "0.2",
    "--batch-records",
    "5",
    "--spool",
    `${dir}/spool`,
    "--status-interval",
    "0",
    ...extra,
  ]);
  try {
    const ix = lab.ifindex(lab.nsA, dev);
    await waitFor("netmon's socket", () => lab.packetSockets(lab.nsA, ix) >= 1);
    // Other traffic to the server host: pings, and TCP to port 9099. Each produces
    // records, which netmon submits over the same veth (the traffic to exclude).
    for (let i = 0; i < 3; i++) {
      lab.sh(lab.nsA, `ping -c 2 -i 0.2 -W 2 ${server} >/dev/null`);
      lab.sh(
        lab.nsA,
        `${DENO} eval 'const c = await Deno.connect({ hostname: "${server}", port: 9099 }); ` +
          `await c.write(new TextEncoder().encode("x")); c.close();'`,
      );
      await sleep(300); // lets a batch go out between rounds (--batch-seconds 0.2)
    }
    await sleep(500);
    signal(cap, "SIGINT");
    const out = await finish(cap);
    assert.equal(out.code, 0, out.stderr);
    const recs = out.stdout.trim().split("\n").filter((l) => l.startsWith("{")).map((l) =>
      JSON.parse(l)
    );
    return { recs, stderr: out.stderr };
  } finally {
    signal(cap, "SIGKILL");
    await cap.status;
  }
}

const tcpWith = (recs: Record<string, Record<string, unknown>>[], port: number) =>
  recs.filter((r) =>
    r.TCP !== undefined && (r.TCP.Destination_Port === port || r.TCP.Source_Port === port)
  );

Deno.test(gated({
  name: "netmon capturing on the veth it submits over records no submission traffic",
  needs: SKIP,
  async fn() {
    const lab = new Lab();
    const procs: Deno.ChildProcess[] = [];
    const dir = await Deno.makeTempDir();
    try {
      lab.create();
      const p = lab.veth("fs", "10.91.8", "fd91:8");
      const server = "10.91.8.2";
      // The monitor server in namespace b, a plain listener on another port beside it.
      procs.push(lab.spawn(lab.nsB, [
        DENO,
        "run",
        "-A",
        MAIN,
        "serve",
        "--listen",
        `${server}:8123`,
        "--db",
        `${dir}/server.sqlite`,
      ]));
      procs.push(lab.spawn(lab.nsB, [
        DENO,
        "eval",
        `const l = Deno.listen({ hostname: "${server}", port: 9099 });
         for await (const c of l) { const b = new Uint8Array(64); await c.read(b).catch(() => null); c.close(); }`,
      ]));
      await waitFor("the servers", () => {
        const ss = lab.sh(lab.nsB, "ss -Hltn");
        return ss.includes(":8123") && ss.includes(":9099");
      });

      const run = await captureWhileShipping(lab, p.a, server, dir, []);
      const shipped = /shipped (\d+) records/.exec(run.stderr);
      assert.ok(
        shipped !== null && Number(shipped[1]) > 0,
        `records were submitted: ${run.stderr}`,
      );
      assert.equal(tcpWith(run.recs, 8123).length, 0, "no submission traffic recorded");
      // The kernel program leaves a 1-byte stub of each excluded frame: the summary counts them.
      const excluded = /(\d+) self-traffic excluded/.exec(run.stderr);
      assert.ok(
        excluded !== null && Number(excluded[1]) > 0,
        `excluded frames counted: ${run.stderr}`,
      );
      assert.ok(
        tcpWith(run.recs, 9099).length >= 6,
        "TCP to another port of the server is recorded",
      );
      assert.ok(
        run.recs.filter((r) => r.ICMP !== undefined).length >= 6,
        "pings to the server are recorded",
      );

      // The control: with --capture-self the same run records the submissions.
      const control = await captureWhileShipping(lab, p.a, server, dir, ["--capture-self"]);
      assert.ok(
        tcpWith(control.recs, 8123).length > 0,
        "--capture-self shows the submission traffic",
      );
    } finally {
      for (const c of procs) {
        signal(c, "SIGKILL");
        await c.status.catch(() => null);
      }
      lab.destroy();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
}));
