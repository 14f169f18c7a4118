/** stdout line output (LineWriter) and the human text line format. */
import assert from "node:assert/strict";
import { LineWriter } from "../../src/output/stdout.ts";
import { formatRecordLine, timeOfDay } from "../../src/output/text.ts";

Deno.test("LineWriter writes exactly the UTF-8 lines, across partial writes and huge lines", () => {
  const chunks: Uint8Array[] = [];
  let calls = 0;
  const w = new LineWriter({
    writeSync(p: Uint8Array): number {
      calls++;
      const n = Math.min(p.length, 1 + (calls % 5000)); // short writes, like a pipe
      chunks.push(p.slice(0, n));
      return n;
    },
  });
  const lines = ["héllo ✓ 😀", "", "x".repeat(3_000_000) + "é"];
  for (let i = 0; i < 50_000; i++) lines.push(JSON.stringify({ i, s: "ü".repeat(i % 40) }));
  for (const l of lines) w.line(l);
  w.flush();
  const want = new TextEncoder().encode(lines.join("\n") + "\n");
  const got = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    got.set(c, o);
    o += c.length;
  }
  assert.equal(got.length, want.length);
  assert.ok(got.every((v, i) => v === want[i]));
});

Deno.test("LineWriter stops printing quietly when stdout is closed", () => {
  let calls = 0;
  const w = new LineWriter({
    writeSync(): number {
      calls++;
      throw new Deno.errors.BrokenPipe("closed");
    },
  });
  w.line("a");
  w.flush();
  w.line("b");
  w.flush();
  assert.equal(calls, 1);
});

Deno.test("formatRecordLine() shows time, chain, IP addresses with ports, TCP flags, length", () => {
  const line = formatRecordLine({
    AF_Packet: {
      Interface_Name: "eth0",
      Timestamp: "1591780863.720289123",
      Length: 74,
      Captured_Length: 74,
      Packet_Type: "outgoing",
    },
    Ethernet: { Source_Address: "00:11:22:33:44:55", Destination_Address: "00:11:22:33:44:66" },
    "802.1Q": { VLAN_ID: 5, Priority: 3 },
    IPv4: { Source_Address: "192.168.1.11", Destination_Address: "209.87.249.18" },
    TCP: {
      Source_Port: 33779,
      Destination_Port: 53,
      Flags: { SYN: true, ACK: true },
      Sequence_Number: 1,
      Acknowledgment_Number: 2,
      Window: 64240,
      Payload_Length: 0,
    },
  });
  assert.equal(
    line,
    `${timeOfDay("1591780863.720289123")} eth0 Out Ethernet/802.1Q/IPv4/TCP ` +
      "192.168.1.11.33779 > 209.87.249.18.53: vlan 5, p 3, Flags [S.], seq 1, ack 2, win 64240, " +
      "length 0, frame 74",
  );
  assert.match(timeOfDay("1591780863.720289123"), /^\d\d:\d\d:\d\d\.720289$/);
});

Deno.test("formatRecordLine() shows truncation and unknown protocols; flow records get a flow line", () => {
  const cut = formatRecordLine({
    AF_Packet: { Timestamp: "0.000000000", Length: 262144, Captured_Length: 19 },
    Ethernet: { Source_Address: "a", Destination_Address: "b", EtherType: 0x3030 },
    Payload: { Length: 5, Captured_Length: 5, Unknown_Protocol: "EtherType 0x3030" },
    Decode_Errors: [{ Layer: "IPv4", Problem: "truncated", Offset: 14 }],
  });
  assert.match(
    cut,
    / a > b: \[EtherType 0x3030\] \[\|IPv4: truncated\], frame 262144 \(captured 19\)$/,
  );
  const flow = formatRecordLine({
    Flow: {
      Protocol: "TCP",
      Source_Address: "10.0.0.1",
      Source_Port: 40000,
      Destination_Address: "10.0.0.2",
      Destination_Port: 80,
      End: "1700000000.500000000",
      Duration: 0.12,
      State: "SF",
      History: "ShADadFf",
      Originator_Packets: 5,
      Originator_Bytes: 420,
      Responder_Packets: 4,
      Responder_Bytes: 1200,
      End_Reason: "fin",
      Interim: false,
    },
  });
  assert.equal(
    flow,
    `${timeOfDay("1700000000.5")} flow TCP 10.0.0.1.40000 > 10.0.0.2.80: SF ShADadFf, ` +
      "5 pkts 420 B > 4 pkts 1200 B, 0.120000 s, end fin",
  );
});
