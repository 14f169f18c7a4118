/**
 * The HTTP/1.1 transport (src/server/http.ts) against real clients: curl (chunked upload,
 * Expect: 100-continue, keep-alive reuse, HEAD, chunked answers), Deno's fetch (streamed
 * request and answer bodies) and raw sockets (pipelining, smuggling attempts, bad framing,
 * oversized heads, HTTP/1.0, bodies the handler leaves unread). curl and fetch are the
 * oracles: they must parse every answer.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { ByteBudget } from "../../src/server/budget.ts";
import { type HttpServer, serveHttp } from "../../src/server/http.ts";
import { createLogger } from "../../src/log/mod.ts";
import { run } from "../helpers/run.ts";
import { enc, RawClient, rawRequest, sleep, statuses } from "./helpers.ts";

const log = createLogger("error");

/** Test routes: /echo reads the body, /hello ignores it, /stream answers in pieces. */
async function handler(req: Request): Promise<Response> {
  const url = new URL(req.url);
  if (url.pathname === "/echo") {
    const h = createHash("sha256");
    let n = 0;
    if (req.body) {
      for await (const c of req.body) {
        h.update(c);
        n += c.length;
      }
    }
    return Response.json({ method: req.method, bytes: n, sha256: h.digest("hex") });
  }
  if (url.pathname === "/stream") {
    const pieces = Number(url.searchParams.get("n") ?? 5);
    let i = 0;
    return new Response(
      new ReadableStream<Uint8Array>({
        async pull(c) {
          if (i === pieces) return c.close();
          await sleep(5);
          c.enqueue(enc.encode(`piece ${i++}\n`));
        },
      }),
      { headers: { "content-type": "text/plain" } },
    );
  }
  return new Response(`hello ${url.pathname}${url.search}\n`);
}

async function withTransport(fn: (srv: HttpServer, base: string) => Promise<void>): Promise<void> {
  const srv = serveHttp({
    hostname: "127.0.0.1",
    port: 0,
    budget: new ByteBudget(1 << 26, 1000),
    log,
  }, handler);
  try {
    await fn(srv, `http://127.0.0.1:${srv.addr.port}`);
  } finally {
    await srv.shutdown();
  }
}

function sha256(b: Uint8Array): string {
  return createHash("sha256").update(b).digest("hex");
}

Deno.test("transport: curl uploads chunked and with Expect: 100-continue, reuses the connection, HEAD has no body", async () => {
  await withTransport(async (_srv, base) => {
    const dir = await Deno.makeTempDir();
    try {
      const data = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) & 0xff);
      await Deno.writeFile(`${dir}/body`, data);
      const chunked = await run([
        "curl",
        "-sS",
        "-H",
        "Transfer-Encoding: chunked",
        "--data-binary",
        `@${dir}/body`,
        `${base}/echo`,
      ]);
      assert.equal(chunked.code, 0, chunked.stderr);
      assert.deepEqual(JSON.parse(chunked.stdout), {
        method: "POST",
        bytes: data.length,
        sha256: sha256(data),
      });
      const expect = await run([
        "curl",
        "-sS",
        "-v",
        "-H",
        "Expect: 100-continue",
        "--data-binary",
        `@${dir}/body`,
        `${base}/echo`,
      ]);
      assert.equal(expect.code, 0, expect.stderr);
      assert.match(expect.stderr, /< HTTP\/1\.1 100 Continue/);
      assert.equal(JSON.parse(expect.stdout).sha256, sha256(data));
      const reuse = await run(["curl", "-sS", "-v", `${base}/a`, `${base}/b?x=1`]);
      assert.equal(reuse.code, 0, reuse.stderr);
      assert.equal(reuse.stdout, "hello /a\nhello /b?x=1\n");
      assert.match(reuse.stderr, /Re-using existing connection/);
      const head = await run(["curl", "-sS", "-I", `${base}/a`]);
      assert.match(head.stdout, /^HTTP\/1\.1 200 OK\r\n/);
      assert.match(head.stdout, /content-length: 9\r\n/);
      const stream = await run(["curl", "-sS", "-v", `${base}/stream?n=20`]);
      assert.equal(stream.code, 0, stream.stderr);
      assert.match(stream.stderr, /transfer-encoding: chunked/);
      assert.equal(stream.stdout, Array.from({ length: 20 }, (_, i) => `piece ${i}\n`).join(""));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("transport: fetch streams a request body and reads a streamed answer", async () => {
  await withTransport(async (_srv, base) => {
    const pieces = Array.from({ length: 50 }, (_, i) => new Uint8Array(10_000).fill(i));
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        const p = pieces.shift();
        if (p) c.enqueue(p);
        else c.close();
      },
    });
    const r = await fetch(`${base}/echo`, { method: "POST", body });
    const j = await r.json();
    assert.equal(j.bytes, 500_000);
    const s = await fetch(`${base}/stream?n=3`);
    assert.equal(await s.text(), "piece 0\npiece 1\npiece 2\n");
    // 20 requests on keep-alive connections in a row.
    for (let i = 0; i < 20; i++) {
      assert.equal(await (await fetch(`${base}/k${i}`)).text(), `hello /k${i}\n`);
    }
  });
});

Deno.test("transport: pipelined requests are answered in order, also when a head spans reads", async () => {
  await withTransport(async (srv) => {
    const c = await RawClient.connect(srv.addr.port);
    // 150 requests in one write (more than the 4 KiB head buffer), then one in two halves.
    let burst = "";
    for (let i = 0; i < 150; i++) burst += `GET /p${i} HTTP/1.1\r\nHost: x\r\n\r\n`;
    await c.write(burst);
    await sleep(100);
    await c.write("GET /last HTTP/1.1\r\nHo");
    await sleep(100);
    await c.write("st: x\r\nConnection: close\r\n\r\n");
    assert.notEqual(await c.closedWithin(10_000), null, "connection not closed after the last");
    const bodies = [...c.text().matchAll(/hello (\/\w+)/g)].map((m) => m[1]);
    assert.deepEqual(bodies, [...Array.from({ length: 150 }, (_, i) => `/p${i}`), "/last"]);
    c.close();
  });
});

Deno.test("transport: malformed and smuggling requests get 4xx/5xx and a closed connection", async () => {
  await withTransport(async (srv) => {
    const p = srv.addr.port;
    const cases: [string, number][] = [
      [
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        400,
      ],
      ["POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501],
      [
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
        400,
      ],
      ["POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\n\r\n", 400],
      ["GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505],
      ["GARBAGE\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n", 417],
      [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`, 431],
    ];
    for (const [req, want] of cases) {
      const r = await rawRequest(p, req);
      assert.deepEqual(statuses(r.text), [want], `${JSON.stringify(req.slice(0, 60))}: ${r.text}`);
      assert.notEqual(r.closedAfter, null, "connection left open");
      assert.match(r.text, /\{"error":"[^"]+"\}/);
    }
    // Bad chunked framing is refused by the handler's body read.
    const bad = await rawRequest(
      p,
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
    );
    assert.deepEqual(statuses(bad.text), [400]);
  });
});

Deno.test("transport: chunk extensions and trailers, GET bodies drained, HTTP/1.0 closes", async () => {
  await withTransport(async (srv) => {
    const p = srv.addr.port;
    const c = await RawClient.connect(p);
    await c.write(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
        "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n" +
        "GET /after HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" +
        "GET /final HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert.notEqual(await c.closedWithin(10_000), null);
    const t = c.text();
    assert.deepEqual(statuses(t), [200, 200, 200], t);
    assert.match(
      t,
      /"bytes":5,"sha256":"36bbe50ed96841d10443bcb670d6554f0a34b761be67ec9c4a8ad2c0c44ca42c"/,
    );
    assert.match(t, /hello \/after[\s\S]*hello \/final/);
    c.close();
    const old = await rawRequest(p, "GET /old HTTP/1.0\r\n\r\n");
    assert.match(old.text, /connection: close/);
    assert.notEqual(old.closedAfter, null);
    const ka = await RawClient.connect(p);
    await ka.write("GET /ka HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
    assert.equal(await ka.closedWithin(500), null, "HTTP/1.0 keep-alive closed");
    assert.match(ka.text(), /connection: keep-alive/);
    ka.close();
  });
});

Deno.test("transport: an answer before the body is read still reaches the client (lingering close)", async () => {
  await withTransport(async (_srv, base) => {
    const big = new Uint8Array(8 * 1024 * 1024);
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${base}/hello`, { method: "POST", body: big });
      assert.equal(r.status, 200);
      assert.equal(await r.text(), "hello /hello\n");
    }
  });
});
