/**
 * The query API over HTTP (`GET /api/...`), answers typed by src/query/api.ts. Errors
 * are `{"error": "..."}`: 400 for a bad request (one line naming the parameter), 404 for
 * an unknown endpoint or record, 503 when the store cannot answer now, 504 when a query
 * ran past its time limit.
 */
import type {
  ErrorAnswer,
  HealthAnswer,
  SchemaAnswer,
  StatsAnswer,
  StatsServer,
  StatsTransport,
  TableName,
} from "../query/api.ts";
import { METRIC_NAMES, TABLES } from "../query/api.ts";
import { agents, byId, list, series, top } from "../query/engine.ts";
import { BadRequest } from "../query/filter_sql.ts";
import {
  parseAggregate,
  parseList,
  type QueryLimits,
  readParams,
  sortable,
} from "../query/request.ts";
import { dimensionNames } from "../store/schema.ts";
import { QueryLimitError, type Store } from "../store/store.ts";
import type { Logger } from "../log/mod.ts";
import { int, ParamError, parseParams } from "./params.ts";
import { jsonResponse } from "./errors.ts";

const json = jsonResponse;

/** Server counters since start (ingest side), merged into /api/stats. */
export type ServerCounters = StatsServer;

export { jsonResponse as json };

const err = (status: number, error: string, headers: Record<string, string> = {}) =>
  json(status, { error } satisfies ErrorAnswer, headers);

/** The schema the console's pickers are built from. */
export function schemaAnswer(s: Store): SchemaAnswer {
  const table = (name: TableName) => {
    const t = s.schema[name];
    return {
      time: t.time,
      dimensions: dimensionNames(t),
      columns: t.columns.map((c) => ({
        name: c.name,
        type: c.type,
        dimension: c.dimension === true,
        doc: c.doc,
      })),
      sortable: sortable(t),
    };
  };
  return {
    tables: { flows: table("flows"), packets: table("packets") },
    metrics: [...METRIC_NAMES],
  };
}

const RECORDS_PARAMS = {
  limit: int({ min: 1, max: 10_000, default: 100 }),
  after: int({ min: 0, default: 0 }),
};

/** Legacy paging over every stored record (`/api/records?limit=&after=`, netmon 0.1). */
async function records(s: Store, url: URL, lim: QueryLimits): Promise<Response> {
  const { limit, after } = parseParams(url.searchParams, RECORDS_PARAMS);
  if (s.kind !== "sqlite") {
    throw new BadRequest("/api/records pages a SQLite store only; use /api/flows or /api/packets");
  }
  // Packet ids first, then flow ids offset by 2^40.
  const OFF = 2 ** 40;
  const out: string[] = [];
  let next = after;
  const steps: [typeof s.schema.packets, number, number][] = after < OFF
    ? [[s.schema.packets, 0, after], [s.schema.flows, OFF, 0]]
    : [[s.schema.flows, OFF, after - OFF]];
  for (const [t, off, from] of steps) {
    const want = limit - out.length;
    if (want <= 0) break;
    const rows = await s.select(
      `SELECT id, Agent_ID AS a, Run_ID AS r, Sequence AS q, ${
        s.dialect.record(t)
      } AS rec FROM ${t.name} WHERE id > ${from} ORDER BY id LIMIT ${want}`,
      { maxRows: want, timeoutMs: lim.timeoutMs },
    );
    for (const r of rows) {
      const env = JSON.stringify({
        Record_Type: t.record,
        Agent_ID: r.a,
        Run_ID: r.r,
        Sequence: Number(r.q),
      });
      const rec = String(r.rec);
      const body = rec === "{}" ? `{"Netmon":${env}}` : `${rec.slice(0, -1)},"Netmon":${env}}`;
      out.push(`{"id":${Number(r.id) + off},"record":${body}}`);
      next = Number(r.id) + off;
    }
  }
  return new Response(`{"records":[${out.join(",")}],"next":${next}}\n`, {
    headers: { "content-type": "application/json" },
  });
}

/** Answers one `GET /api/...` request. */
export async function answerApi(
  s: Store,
  url: URL,
  lim: QueryLimits,
  counters: () => ServerCounters,
  log: Logger,
  transport?: () => StatsTransport,
): Promise<Response> {
  const path = url.pathname;
  try {
    if (path === "/api/health") {
      readParams(url, []);
      return json(200, { ok: true, store: s.kind } satisfies HealthAnswer);
    }
    if (path === "/api/stats") {
      readParams(url, []);
      const st = await s.stats();
      const c = counters();
      const answer: StatsAnswer = {
        ...c,
        records: st.flows + st.packets,
        batches: st.batches,
        store: st.store,
        schema_version: st.schema_version,
        flows: st.flows,
        packets: st.packets,
        agents: st.agents,
        db_bytes: st.db_bytes,
        retention: st.retention,
        server: c,
        ...(transport ? { transport: transport() } : {}),
        details: st.details,
      };
      return json(200, answer);
    }
    if (path === "/api/schema") {
      readParams(url, []);
      return json(200, schemaAnswer(s));
    }
    if (path === "/api/agents") {
      readParams(url, []);
      return json(200, await agents(s));
    }
    if (path === "/api/top") {
      return json(200, await top(s, parseAggregate(url, "top", s.schema, lim), lim));
    }
    if (path === "/api/series") {
      return json(200, await series(s, parseAggregate(url, "series", s.schema, lim), lim));
    }
    if (path === "/api/records") return await records(s, url, lim);
    const m = /^\/api\/(flows|packets)(?:\/([^/]+))?$/.exec(path);
    if (m !== null) {
      const t = s.schema[m[1] as TableName];
      if (m[2] === undefined) return json(200, await list(s, parseList(url, t, lim), lim));
      readParams(url, []);
      const id = decodeURIComponent(m[2]);
      const r = await byId(s, t, id, lim);
      return r === null ? err(404, `no ${t.record} record ${id}`) : json(200, r);
    }
    return err(
      404,
      `no such endpoint ${path} (have: /api/top, /api/series, ${
        TABLES.map((t) => `/api/${t}`).join(", ")
      }, /api/agents, /api/stats, /api/schema, /api/health)`,
    );
  } catch (e) {
    if (e instanceof BadRequest || e instanceof ParamError) return err(400, e.message);
    if (e instanceof QueryLimitError) return err(504, e.message);
    log.error(`serve: query ${path} failed: ${(e as Error).message}`);
    return err(503, `the store cannot answer now: ${(e as Error).message}`, { "retry-after": "1" });
  }
}
