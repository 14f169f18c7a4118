/**
 * The read endpoints of `netmon serve` over the records table:
 * - `GET /api/records?limit=N&after=ID`: `{"records":[{"id","batch","record"}],"next":ID}`,
 *   oldest first; `limit` 1..10000 (default 100), `after` an id >= 0 (default 0). A page
 *   also ends after about 4 MiB of records (the first record always comes), so pass `next`
 *   as `after` until a page is empty. The page's bytes are taken from the in-flight
 *   budget until it is sent (503 when the budget is used up).
 * - `GET /api/health`: `{"ok":true}`.
 *
 * @example
 * ```ts
 * import { recordRoutes } from "./api.ts";
 * recordRoutes(router, db);
 * ```
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { HttpError, jsonResponse } from "./errors.ts";
import { int, parseParams } from "./params.ts";
import type { Router } from "./router.ts";

export const MAX_PAGE = 10_000;
export const PAGE_BYTES = 4 * 1024 * 1024;

const RECORDS_PARAMS = {
  limit: int({ min: 1, max: MAX_PAGE, default: 100 }),
  after: int({ min: 0, default: 0 }),
};

/** Adds /api/records and /api/health. */
export function recordRoutes(router: Router, db: DatabaseSync): void {
  const page = db.prepare(
    "SELECT id, batch_id, body FROM records WHERE id > ? ORDER BY id LIMIT ?",
  );
  router.get("/api/health", () => jsonResponse(200, { ok: true }));
  router.get("/api/records", async (_req, ctx, { url }) => {
    const p = parseParams(url.searchParams, RECORDS_PARAMS);
    const parts: string[] = [];
    let bytes = 0;
    let next = p.after;
    for (const row of page.iterate(p.after, p.limit)) {
      const r = row as { id: number; batch_id: number; body: string };
      const text = `{"id":${r.id},"batch":${r.batch_id},"record":${r.body}}`;
      parts.push(text);
      bytes += text.length;
      next = Number(r.id);
      if (bytes >= PAGE_BYTES) break;
    }
    if (!(await ctx.reservation.take(bytes))) {
      throw new HttpError(503, "server busy: too many bytes in flight; retry later", {
        "retry-after": "2",
      });
    }
    return new Response(`{"records":[${parts.join(",")}],"next":${next}}\n`, {
      headers: { "content-type": "application/json" },
    });
  });
}
