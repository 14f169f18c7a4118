/**
 * Precedence of the four sources, flag > environment > file > default, on a setting
 * whose effect is seen from outside: the server URL. Three real HTTP servers stand for
 * the flag's, the environment's and the file's URL; the records of a capture file must
 * reach exactly the one that wins (and no server at all with the default, empty URL:
 * they stay in the spool).
 */
import assert from "node:assert/strict";
import { PCAPS, runNetmon } from "../helpers/run.ts";

/** An HTTP server on 127.0.0.1 counting the NDJSON records POSTed to it. */
class Counter {
  records = 0;
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  constructor() {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (req) => {
        const text = await req.text();
        const n = text.split("\n").filter((l) => l !== "").length;
        this.records += n;
        return Response.json({ stored: n });
      },
    );
  }
  get url(): string {
    return `http://127.0.0.1:${this.#server.addr.port}/`;
  }
  close(): Promise<void> {
    return this.#server.shutdown();
  }
}

async function spooled(dir: string): Promise<number> {
  let n = 0;
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile) continue;
    const text = await Deno.readTextFile(`${dir}/${e.name}`);
    n += text.split("\n").filter((l) => l.startsWith("{")).length;
  }
  return n;
}

Deno.test("server URL: a flag beats the environment, which beats the file, which beats the default", async () => {
  const flag = new Counter(), env = new Counter(), file = new Counter();
  const dir = await Deno.makeTempDir();
  try {
    const ini = `${dir}/netmon.ini`;
    await Deno.writeTextFile(ini, `[server]\nurl = ${file.url}\n`);
    const run = async (args: string[], envUrl: string, spool: string) => {
      await Deno.mkdir(spool);
      const r = await runNetmon(
        ["capture", "-r", PCAPS + "dns_tcp.pcap", "--no-flows", "--spool", spool, ...args],
        { env: { NETMON_SERVER: envUrl } },
      );
      assert.equal(r.code, 0, r.stderr);
      return [flag.records, env.records, file.records, await spooled(spool)];
    };
    // 11 packet records (flows off) go to the winner each time.
    assert.deepEqual(
      await run(["--server", flag.url, "--config", ini], env.url, `${dir}/s1`),
      [11, 0, 0, 0],
      "flag > env > file",
    );
    assert.deepEqual(
      await run(["--config", ini], env.url, `${dir}/s2`),
      [11, 11, 0, 0],
      "env > file",
    );
    assert.deepEqual(
      await run(["--config", ini], "", `${dir}/s3`),
      [11, 11, 11, 0],
      "file > default",
    );
    assert.deepEqual(await run([], "", `${dir}/s4`), [11, 11, 11, 11], "default: spool only");
  } finally {
    await Promise.all([flag.close(), env.close(), file.close()]);
    await Deno.remove(dir, { recursive: true });
  }
});
