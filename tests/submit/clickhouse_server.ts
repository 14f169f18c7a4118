/**
 * A throwaway ClickHouse server for tests and the bench: Debian's clickhouse-server
 * started on 127.0.0.1 with its own config and data directory and ephemeral ports.
 */
import { have } from "../helpers/run.ts";

/** Why ClickHouse tests cannot run here, or null. */
export function clickHouseMissing(): string | null {
  if (!have("clickhouse-server")) {
    return "clickhouse-server not installed (Debian: apt-get install clickhouse-server)";
  }
  return null;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}

export class ClickHouse {
  private constructor(
    readonly child: Deno.ChildProcess,
    readonly dir: string,
    readonly httpPort: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.httpPort}/`;
  }

  static async start(): Promise<ClickHouse> {
    const dir = await Deno.makeTempDir({ prefix: "netmon-clickhouse-" });
    for (const d of ["log", "data", "tmp", "user_files"]) await Deno.mkdir(`${dir}/${d}`);
    const http = freePort();
    const tcp = freePort();
    await Deno.writeTextFile(
      `${dir}/users.xml`,
      `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
  </interval></default></quotas>
</yandex>
`,
    );
    await Deno.writeTextFile(
      `${dir}/config.xml`,
      `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/log/server.log</log>
    <errorlog>${dir}/log/err.log</errorlog><size>10M</size><count>1</count></logger>
  <http_port>${http}</http_port>
  <tcp_port>${tcp}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
</yandex>
`,
    );
    const child = new Deno.Command("clickhouse-server", {
      args: [`--config-file=${dir}/config.xml`],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const ch = new ClickHouse(child, dir, http);
    for (let i = 0; i < 300; i++) {
      try {
        const r = await fetch(`${ch.url}ping`);
        if ((await r.text()).startsWith("Ok")) return ch;
      } catch { /* not yet */ }
      await new Promise((r) => setTimeout(r, 100));
    }
    await ch.stop();
    throw new Error("clickhouse-server did not answer /ping within 30 s");
  }

  /** Runs one statement; returns the text answer (throws on an error status). */
  async query(sql: string): Promise<string> {
    const r = await fetch(this.url, { method: "POST", body: sql });
    const t = await r.text();
    if (!r.ok) throw new Error(`ClickHouse: ${t}`);
    return t;
  }

  async stop(): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch { /* gone */ }
    await this.child.status;
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}
