/**
 * A query thread of the SQLite store: its own read-only connection (WAL lets it read while
 * the server writes), one SELECT at a time. Filters the SQL cannot express on typed
 * columns run here as `netmon_match(record, i)`: the record parsed and tested with the
 * very predicate `capture --filter` compiles (src/filter/compile.ts).
 */
import { DatabaseSync } from "node:sqlite";
import { compileFilterValue, type RecordPredicate } from "../filter/compile.ts";

let db: DatabaseSync | null = null;
let preds: RecordPredicate[] = [];

export interface Job {
  id: number;
  sql: string;
  maxRows: number;
  residuals: unknown[];
}

export function open(path: string): void {
  db = new DatabaseSync(path, { readOnly: true });
  db.exec("PRAGMA busy_timeout=5000");
  db.exec("PRAGMA cache_size=-65536");
  db.function("netmon_match", { deterministic: true }, (text: unknown, i: unknown) => {
    if (typeof text !== "string") return 0;
    const p = preds[Number(i)];
    if (p === undefined) return 0;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(text);
    } catch {
      return 0;
    }
    return p(rec) ? 1 : 0;
  });
}

/** Runs one SELECT (also used in-thread where no worker file exists, as in the bundle). */
export function run(j: Job): unknown[] {
  if (db === null) throw new Error("query thread has no database");
  preds = j.residuals.map((f) => compileFilterValue(f)[0].match);
  const st = db.prepare(j.sql);
  const out: unknown[] = [];
  for (const row of st.iterate()) {
    out.push(row);
    if (out.length > j.maxRows) {
      throw Object.assign(new Error(`answer has more than ${j.maxRows} rows; narrow the query`), {
        limit: true,
      });
    }
  }
  return out;
}

/** The worker side of the thread (typed here: the module is checked with the window types). */
const port = self as unknown as {
  onmessage: (ev: MessageEvent) => void;
  postMessage(m: unknown): void;
};

port.onmessage = (ev: MessageEvent) => {
  const m = ev.data as { open?: string } & Partial<Job>;
  if (m.open !== undefined) {
    try {
      open(m.open);
    } catch (e) {
      console.error(`netmon: query thread cannot open ${m.open}: ${(e as Error).message}`);
    }
    port.postMessage({ ready: true });
    return;
  }
  const j = m as Job;
  try {
    port.postMessage({ id: j.id, rows: run(j) });
  } catch (e) {
    const err = e as Error & { limit?: boolean };
    port.postMessage({ id: j.id, error: err.message, limit: err.limit === true });
  }
};
