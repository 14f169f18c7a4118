/**
 * A record as one JSON line. Process attribution puts the same `Process` / `Peer_Process`
 * object (one per process and role) into every record of a flow's packets; serializing it
 * again for each packet would cost as much as the rest of a small record, so its JSON text
 * is made once and spliced in. The text is what JSON.stringify gives for the whole record,
 * except that those two keys come last.
 *
 * @module
 */
import type { PacketRecord } from "../decode/record.ts";

const cache = new WeakMap<object, string>();

function shared(v: unknown): string {
  if (typeof v !== "object" || v === null) return JSON.stringify(v);
  let s = cache.get(v);
  if (s === undefined) {
    s = JSON.stringify(v);
    cache.set(v, s);
  }
  return s;
}

/**
 * `JSON.stringify(rec)`, with Process and Peer_Process serialized once per object.
 *
 * @example
 * ```ts
 * const p = { PID: 1, Name: "curl" };
 * recordJson({ TCP: { Source_Port: 1 }, Process: p }); // '{"TCP":{"Source_Port":1},"Process":{"PID":1,"Name":"curl"}}'
 * ```
 */
export function recordJson(rec: PacketRecord): string {
  const p = rec.Process;
  if (p === undefined) return JSON.stringify(rec);
  const q = rec.Peer_Process;
  // Undefined values are left out by JSON.stringify; the keys stay, so the record keeps its shape.
  rec.Process = undefined;
  if (q !== undefined) rec.Peer_Process = undefined;
  try {
    const s = JSON.stringify(rec);
    const tail = `"Process":${shared(p)}${q !== undefined ? `,"Peer_Process":${shared(q)}` : ""}}`;
    return s.length > 2 ? `${s.slice(0, -1)},${tail}` : `{${tail}`;
  } finally {
    rec.Process = p;
    if (q !== undefined) rec.Peer_Process = q;
  }
}
