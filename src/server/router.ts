/**
 * Routes for the server: method + path pattern -> handler. HEAD is answered wherever GET
 * is (the transport drops the body); a known path with another method answers 405 with
 * `Allow`; a {@link ParamError} from a handler answers 400 naming the parameter; an
 * {@link HttpError} answers its status. Paths are exact, with `:name` segments captured.
 *
 * @example
 * ```ts
 * import { Router } from "./router.ts";
 * const r = new Router();
 * r.get("/api/health", () => jsonResponse(200, { ok: true }));
 * r.get("/api/flows/:id", (_req, _ctx, m) => jsonResponse(200, { id: m.params.id }));
 * serveHttp(opts, r.handle);
 * ```
 * @module
 */
import { errorResponse, HttpError, jsonResponse } from "./errors.ts";
import type { RequestContext } from "./http.ts";
import { ParamError } from "./params.ts";

/** What a route handler gets beside the request. */
export interface RouteMatch {
  readonly url: URL;
  /** Values of the pattern's `:name` segments (URL-decoded). */
  readonly params: Record<string, string>;
}

export type RouteHandler = (
  req: Request,
  ctx: RequestContext,
  match: RouteMatch,
) => Response | Promise<Response>;

interface Route {
  segments: string[];
  methods: Map<string, RouteHandler>;
}

export class Router {
  readonly #exact = new Map<string, Route>();
  readonly #patterns: Route[] = [];
  #fallback: RouteHandler | null = null;

  get(path: string, h: RouteHandler): this {
    return this.route("GET", path, h);
  }

  post(path: string, h: RouteHandler): this {
    return this.route("POST", path, h);
  }

  route(method: string, path: string, h: RouteHandler): this {
    const segments = path.split("/");
    const dynamic = segments.some((s) => s.startsWith(":"));
    let r = dynamic
      ? this.#patterns.find((p) => p.segments.join("/") === path)
      : this.#exact.get(path);
    if (r === undefined) {
      r = { segments, methods: new Map() };
      if (dynamic) this.#patterns.push(r);
      else this.#exact.set(path, r);
    }
    if (r.methods.has(method)) throw new Error(`route ${method} ${path} defined twice`);
    r.methods.set(method, h);
    return this;
  }

  /** Handles requests no route matches (default: 404). */
  fallback(h: RouteHandler): this {
    this.#fallback = h;
    return this;
  }

  /** The transport handler. */
  readonly handle = async (req: Request, ctx: RequestContext): Promise<Response> => {
    const url = new URL(req.url);
    let route = this.#exact.get(url.pathname);
    let params: Record<string, string> = {};
    if (route === undefined) {
      const parts = url.pathname.split("/");
      for (const p of this.#patterns) {
        const m = matchSegments(p.segments, parts);
        if (m !== null) {
          route = p;
          params = m;
          break;
        }
      }
    }
    try {
      if (route === undefined) {
        if (this.#fallback !== null) return await this.#fallback(req, ctx, { url, params });
        return jsonResponse(404, { error: `no such endpoint ${url.pathname}` });
      }
      const h = route.methods.get(req.method) ??
        (req.method === "HEAD" ? route.methods.get("GET") : undefined);
      if (h === undefined) {
        const allow = [...route.methods.keys()];
        if (allow.includes("GET")) allow.push("HEAD");
        return jsonResponse(405, { error: `use ${allow.join(" or ")}` }, {
          allow: allow.join(", "),
        });
      }
      return await h(req, ctx, { url, params });
    } catch (e) {
      if (e instanceof ParamError) return errorResponse(new HttpError(400, e.message));
      throw e;
    }
  };
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | null {
  if (pattern.length !== parts.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p.startsWith(":")) {
      if (parts[i] === "") return null;
      try {
        out[p.slice(1)] = decodeURIComponent(parts[i]);
      } catch {
        return null;
      }
    } else if (p !== parts[i]) return null;
  }
  return out;
}
