/**
 * A scriptable HTTP server on 127.0.0.1 for the fault tests: it stores batches like
 * `netmon serve` (dedup by Idempotency-Key) unless the script answers first.
 */
export interface Seen {
  key: string;
  records: number;
  status: number;
  headers: Headers;
  url: string;
}

export type Script = (n: number, req: Request, body: Uint8Array) => Response | null;

export class FakeServer {
  readonly seen: Seen[] = [];
  readonly keys = new Set<string>();
  /** Stored record lines (decoded JSON envelopes) in arrival order. */
  readonly stored: { Run_ID: string; Sequence: number }[] = [];
  private server: Deno.HttpServer<Deno.NetAddr>;
  private n = 0;

  constructor(public script: Script = () => null, port = 0) {
    this.server = Deno.serve(
      { hostname: "127.0.0.1", port, onListen: () => {} },
      async (req) => {
        let body = new Uint8Array(await req.arrayBuffer());
        if (req.headers.get("content-encoding") === "gzip") {
          const s = new Blob([body]).stream().pipeThrough(new DecompressionStream("gzip"));
          body = new Uint8Array(await new Response(s).arrayBuffer());
        }
        const key = req.headers.get("idempotency-key") ?? "";
        const text = new TextDecoder().decode(body);
        const lines = text.split("\n").filter((l) => l !== "");
        const res = this.script(++this.n, req, body);
        const status = res ? res.status : 200;
        this.seen.push({ key, records: lines.length, status, headers: req.headers, url: req.url });
        if (res) return res;
        if (this.keys.has(key)) return Response.json({ duplicate: true, stored: 0 });
        this.keys.add(key);
        for (const l of lines) {
          const r = JSON.parse(l);
          this.stored.push(r.Netmon ?? { Run_ID: r.Run_ID, Sequence: r.Sequence });
        }
        return Response.json({ stored: lines.length });
      },
    );
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.addr.port}/`;
  }

  async close(): Promise<void> {
    await this.server.shutdown();
  }
}
