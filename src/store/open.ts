/**
 * Opens the store a `--store` URL names: `sqlite:FILE` (or a bare path) or
 * `clickhouse://[user:pass@]HOST:PORT/DB` (HTTP interface; `clickhouses://` for HTTPS).
 */
import { UsageError } from "../errors.ts";
import type { Logger } from "../log/mod.ts";
import type { RetentionOptions } from "./retention.ts";
import type { Store } from "./store.ts";
import { openSqlite } from "./sqlite.ts";
import { openClickHouse } from "./clickhouse.ts";

export interface OpenOptions {
  retention: RetentionOptions;
  log: Logger;
}

export async function openStore(where: string, o: OpenOptions): Promise<Store> {
  if (/^clickhouses?:\/\//.test(where)) {
    let u: URL;
    try {
      u = new URL(where);
    } catch {
      throw new UsageError(`serve: --store: not a URL: '${where}'`);
    }
    const db = u.pathname.replace(/^\//, "") || "netmon";
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(db)) {
      throw new UsageError(`serve: --store: bad database name '${db}'`);
    }
    try {
      return await openClickHouse({
        url: `${u.protocol === "clickhouses:" ? "https" : "http"}://${u.host}/`,
        user: decodeURIComponent(u.username),
        password: decodeURIComponent(u.password),
        database: db,
        retention: o.retention,
        log: o.log,
      });
    } catch (e) {
      throw new UsageError(`serve: ClickHouse at ${u.host}: ${(e as Error).message}`, 1);
    }
  }
  const path = where.startsWith("sqlite:") ? where.slice("sqlite:".length) : where;
  if (path === "") throw new UsageError("serve: --store sqlite: wants a file name");
  try {
    return openSqlite({ path, retention: o.retention, log: o.log });
  } catch (e) {
    throw new UsageError(`serve: database ${path}: ${(e as Error).message}`, 1);
  }
}
