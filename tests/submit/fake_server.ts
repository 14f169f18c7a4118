/**
 * A scriptable HTTP server on 127.0.0.1 for the fault tests: it stores batches like
 * `netmon serve` (dedup by Idempotency-Key) unless the script answers first.
 */
export interface Seen {
  key: string;
  records: number;
  status: number;
  method: string;
  headers: Headers;
  url: string;
}

export type Script = (n: number, req: Request, body: Uint8Array) => Response | null;

/** The envelope of a stored record. */
export interface StoredEnvelope {
  Run_ID: string;
  Sequence: number;
  Batch?: number;
}

/** What the server keeps: shared by a server and its "restarted" successor (like a database). */
export class Store {
  readonly keys = new Set<string>();
  /** Stored record lines (decoded JSON envelopes) in arrival order. */
  readonly stored: StoredEnvelope[] = [];
  /** Stored lines as text, in arrival order. */
  readonly lines: string[] = [];
}

export class FakeServer {
  readonly seen: Seen[] = [];
  readonly keys: Set<string>;
  /** Stored record lines (decoded JSON envelopes) in arrival order. */
  readonly stored: StoredEnvelope[];
  private server: Deno.HttpServer<Deno.NetAddr>;
  private n = 0;

  constructor(public script: Script = () => null, port = 0, readonly store = new Store()) {
    this.keys = store.keys;
    this.stored = store.stored;
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
        this.seen.push({
          key,
          records: lines.length,
          status,
          method: req.method,
          headers: req.headers,
          url: req.url,
        });
        if (res) return res;
        if (this.keys.has(key)) return Response.json({ duplicate: true, stored: 0 });
        const recs: Record<string, unknown>[] = [];
        for (const [i, l] of lines.entries()) {
          try {
            const r = JSON.parse(l);
            if (typeof r !== "object" || r === null || Array.isArray(r)) {
              throw new Error("no object");
            }
            recs.push(r);
          } catch {
            // Like netmon serve: a line that is not a JSON object refuses the batch.
            return Response.json({ error: `line ${i + 1}: not JSON` }, { status: 400 });
          }
        }
        this.keys.add(key);
        for (const [i, r] of recs.entries()) {
          const l = lines[i];
          const env = r.Netmon as StoredEnvelope | undefined;
          this.stored.push(env ?? { Run_ID: String(r.Run_ID), Sequence: Number(r.Sequence) });
          store.lines.push(l);
        }
        return Response.json({ stored: lines.length });
      },
    );
  }

  get url(): string {
    return `http://127.0.0.1:${this.server.addr.port}/`;
  }

  get port(): number {
    return this.server.addr.port;
  }

  async close(): Promise<void> {
    await this.server.shutdown();
  }
}
