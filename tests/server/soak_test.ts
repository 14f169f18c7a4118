/**
 * Issue 11 soak: `netmon serve` with its default limits under 200 slow clients, 16
 * concurrent gzip bombs and 50 agents for 60 s (and two consoles polling the query API).
 * Afterwards its peak RSS (VmHWM from /proc) is under the cap docs/server.md states,
 * every batch the server acknowledged is in the database exactly once (read with
 * node:sqlite from the file after the server stopped), and nothing is stored that no
 * agent sent.
 *
 * The agents follow the contract of docs/server.md: a batch keeps its Idempotency-Key and
 * bytes across retries, 503 waits Retry-After, a failed connection is retried; some send
 * gzip. The test also checks that the load really happened (bombs refused, slow clients
 * closed by timeouts, agents acknowledged), so it cannot pass by idling.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  enc,
  gzip,
  gzipBomb,
  memMiB,
  RawClient,
  rssCapMiB,
  ServeProcess,
  sleep,
} from "./helpers.ts";

const SECONDS = 60;

interface Sent {
  agent: string;
  run: string;
  first: number;
  last: number;
  acked: boolean;
}

async function agent(url: string, n: number, until: number, sent: Sent[]): Promise<void> {
  const run = `soak${n}`;
  let seq = 0;
  for (let batch = 1; Date.now() < until; batch++) {
    const count = 1 + Math.floor(Math.random() * (n % 10 === 0 ? 20_000 : 1_500));
    const first = seq + 1;
    const lines: string[] = [];
    for (let i = 0; i < count; i++) {
      seq++;
      lines.push(JSON.stringify({
        AF_Packet: {
          Interface_Name: "eth0",
          Timestamp: `${Math.floor(Date.now() / 1000)}.000000000`,
          Length: 60,
        },
        IPv4: { Source_Address: `10.0.${n}.${i & 255}`, Destination_Address: "10.1.0.1" },
        UDP: { Source_Port: 40000 + (i & 1023), Destination_Port: 53, Length: 40 + (i & 63) },
        Netmon: {
          Record_Type: "packet",
          Agent_ID: `agent${n}`,
          Run_ID: run,
          Sequence: seq,
          Batch: batch,
        },
      }));
    }
    const raw = enc.encode(lines.join("\n") + "\n");
    const zipped = n % 3 === 0;
    const body = zipped ? gzip(raw) : raw;
    const s: Sent = { agent: `agent${n}`, run, first, last: seq, acked: false };
    sent.push(s);
    const headers: Record<string, string> = {
      "content-type": "application/x-ndjson",
      "idempotency-key": `agent${n}.${run}.${batch}`,
      ...(zipped ? { "content-encoding": "gzip" } : {}),
    };
    while (Date.now() < until + 20_000) {
      let wait = 500;
      try {
        const r = await fetch(url, {
          method: "POST",
          body,
          headers,
          signal: AbortSignal.timeout(30_000),
        });
        const text = await r.text();
        if (r.status === 200) {
          const j = JSON.parse(text);
          assert.ok(j.stored === count || j.duplicate === true, text);
          s.acked = true;
          break;
        }
        assert.equal(r.status, 503, `agent ${n}: ${r.status} ${text}`);
        wait = 1000 * Number(r.headers.get("retry-after") ?? 1);
      } catch (e) {
        if (e instanceof assert.AssertionError) throw e;
        // Connection trouble: the same batch again.
      }
      if (Date.now() >= until) break; // the window closed: this batch stays unacknowledged
      await sleep(wait * (0.5 + Math.random() / 2));
    }
  }
}

async function bomber(url: string, bomb: Uint8Array<ArrayBuffer>, until: number, seen: number[]) {
  while (Date.now() < until) {
    try {
      const r = await fetch(url, {
        method: "POST",
        body: bomb,
        headers: { "content-encoding": "gzip" },
        signal: AbortSignal.timeout(30_000),
      });
      await r.body?.cancel();
      seen.push(r.status);
    } catch {
      seen.push(0);
    }
    await sleep(300);
  }
}

/** A console polling the query API: answers 200, or 503 while the budget is used up. */
async function dashboard(url: string, until: number, seen: number[]) {
  const paths = [
    "api/top?table=packets&by=Source_Address&metric=packets&limit=10",
    "api/series?table=packets&metric=bytes",
    "api/stats",
  ];
  for (let i = 0; Date.now() < until; i++) {
    const r = await fetch(`${url}${paths[i % paths.length]}`, {
      signal: AbortSignal.timeout(30_000),
    })
      .catch(() => null);
    if (r !== null) {
      await r.body?.cancel();
      seen.push(r.status);
    }
    await sleep(1000);
  }
}

/** A slow client: trickles a head (even) or a body (odd) until the server closes it, again. */
async function slowClient(port: number, n: number, until: number, closes: number[]) {
  while (Date.now() < until) {
    let c: RawClient;
    try {
      c = await RawClient.connect(port);
    } catch {
      await sleep(500);
      continue;
    }
    if (n % 2 === 0) await c.write("POST / HTTP/1.1\r\nHost: slow\r\n");
    else {
      await c.write(
        "POST / HTTP/1.1\r\nHost: slow\r\nContent-Length: 262144\r\n\r\n" +
          '{"Slow":"' + "s".repeat(2000),
      );
    }
    let open = true;
    c.closed.then(() => (open = false));
    while (open && Date.now() < until) {
      await sleep(n % 2 === 0 ? 1000 : 5000);
      if (open) await c.write(n % 2 === 0 ? "x" : "s".repeat(100));
    }
    if (!open) closes.push(1);
    c.close();
  }
}

Deno.test("issue 11 soak: 200 slow clients, 16 gzip bombs, 50 agents for 60 s: RSS under the cap, acknowledged batches stored exactly once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netmon-soak-" });
  const db = `${dir}/soak.sqlite`;
  let srv: ServeProcess | null = await ServeProcess.start(db);
  try {
    const bomb = gzipBomb(10e6).body;
    const until = Date.now() + SECONDS * 1000;
    const sent: Sent[] = [];
    const bombs: number[] = [];
    const closes: number[] = [];
    const slow = Array.from({ length: 200 }, (_, i) => slowClient(srv!.port, i, until, closes));
    await sleep(500);
    const queries: number[] = [];
    const load = [
      ...slow,
      ...Array.from({ length: 2 }, () => dashboard(srv!.url, until, queries)),
      ...Array.from({ length: 16 }, () => bomber(srv!.url, bomb, until, bombs)),
      ...Array.from({ length: 50 }, (_, i) => agent(srv!.url, i, until, sent)),
    ];
    const samples: number[] = [];
    const sampler = setInterval(
      () => samples.push(Math.round(memMiB(srv!.child.pid, "VmRSS"))),
      5000,
    );
    await Promise.all(load);
    clearInterval(sampler);
    console.log(`RSS every 5 s (MiB): ${samples.join(" ")}`);
    const stats = await srv.stats();
    const peak = memMiB(srv.child.pid);
    await srv.stop();
    srv = null;
    const cap = rssCapMiB();
    const acked = sent.filter((s) => s.acked);
    const ackedRecords = acked.reduce((n, s) => n + s.last - s.first + 1, 0);
    console.log(
      `soak: ${acked.length}/${sent.length} batches (${ackedRecords} records) acknowledged; ` +
        `${bombs.length} bombs (${bombs.filter((s) => s === 413).length} x 413, ` +
        `${bombs.filter((s) => s === 503).length} x 503); ${closes.length} slow clients closed ` +
        `(${stats.transport.header_timeouts} header, ${stats.transport.body_timeouts} body timeouts); ` +
        `${stats.busy} answers 503; in flight peak ${
          (stats.transport.bytes_in_flight_peak / 2 ** 20).toFixed(0)
        } MiB; ` +
        `serve peak RSS ${peak.toFixed(0)} MiB (cap ${cap} MiB)`,
    );
    console.log(`queries: ${queries.length} (${queries.filter((q) => q === 200).length} x 200)`);
    assert.ok(queries.every((q) => q === 200 || q === 503), `query answers: ${queries}`);
    // The load happened.
    assert.ok(acked.length >= 200, `only ${acked.length} batches acknowledged`);
    // Bombs: 413 when inflated to max_body_bytes, 503 when the budget was used up first.
    assert.ok(bombs.length >= 32, `only ${bombs.length} bombs sent`);
    assert.ok(bombs.every((s) => s === 413 || s === 503 || s === 0), `bombs: ${bombs}`);
    assert.ok(stats.too_large >= 1, `no bomb was inflated to the limit`);
    assert.ok(
      stats.transport.header_timeouts >= 100 && closes.length >= 100,
      `slow: ${closes.length}`,
    );
    assert.ok(peak < cap, `serve peak RSS ${peak.toFixed(0)} MiB > cap ${cap} MiB`);
    // Exactly once.
    const d = new DatabaseSync(db, { readOnly: true });
    try {
      // (Agent_ID, Run_ID, Sequence) is a unique key of the table: count per range.
      const inRange = d.prepare(
        "SELECT count(*) AS n FROM packets WHERE Agent_ID = ? AND Run_ID = ? AND Sequence BETWEEN ? AND ?",
      );
      let sentRecords = 0;
      for (const s of sent) {
        const n = Number((inRange.get(s.agent, s.run, s.first, s.last) as { n: number }).n);
        const size = s.last - s.first + 1;
        sentRecords += n;
        if (s.acked) {
          assert.equal(n, size, `acknowledged ${s.run} ${s.first}-${s.last}: ${n} stored`);
        } else assert.ok(n === 0 || n === size, `batch ${s.run} ${s.first}-${s.last} half stored`);
      }
      const total = Number(
        (d.prepare("SELECT (SELECT count(*) FROM packets) + (SELECT count(*) FROM flows) AS n")
          .get() as { n: number }).n,
      );
      // Each stored record has its text, too.
      const texts = Number(
        (d.prepare("SELECT count(*) AS n FROM packets p JOIN packet_records r ON r.id = p.id")
          .get() as { n: number }).n,
      );
      assert.equal(texts, total);
      assert.equal(total, sentRecords, "records stored that no agent sent");
    } finally {
      d.close();
    }
  } finally {
    await srv?.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
