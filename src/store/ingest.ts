/**
 * The insert path: an ndjson batch body (records with the `Netmon` envelope, as the agent
 * ships them) parsed into typed rows of `flows` and `packets`, read through the column
 * table. Lines without an envelope (other shippers) are stored too, with an empty
 * Agent_ID, Run_ID `b<batch>` and their line number as Sequence, so they stay unique.
 */
import {
  type Envelope,
  type RecordObject,
  rowOf,
  type StoreSchema,
  type TableName,
  type Value,
} from "./schema.ts";

/** A line the server refuses (answered 400 naming the line). */
export class BadBatch extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BadBatch";
  }
}

export interface ParsedBatch {
  flows: Value[][];
  packets: Value[][];
  records: number;
  /** Agents seen in the batch: id -> [latest run, records]. */
  agents: Map<string, [string, number]>;
}

const MARK = ',"Netmon":{';

/** The record text without the envelope (the envelope is the last key, see submit/batch.ts). */
export function stripEnvelope(line: string): string {
  const at = line.lastIndexOf(MARK);
  if (at >= 0) return line.slice(0, at) + "}";
  if (line.startsWith('{"Netmon":{')) return "{}";
  return line;
}

/** An empty batch for {@link addLine}. */
export function emptyBatch(): ParsedBatch {
  return { flows: [], packets: [], records: 0, agents: new Map() };
}

/**
 * Adds one line of a body (without its newline) as line `lineNo`; blank lines are
 * skipped. Throws {@link BadBatch} naming the line.
 */
export function addLine(
  out: ParsedBatch,
  line: string,
  lineNo: number,
  schema: StoreSchema,
  nokeyRun: string,
): void {
  if (line.endsWith("\r")) line = line.slice(0, -1);
  if (line.trim() === "") return;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw new BadBatch(`line ${lineNo}: not JSON (${(e as Error).message})`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new BadBatch(`line ${lineNo}: not a JSON object`);
  }
  const rec = v as RecordObject;
  const n = rec.Netmon as Record<string, unknown> | undefined;
  let env: Envelope;
  let recordText: string;
  if (
    n !== undefined && typeof n === "object" && n !== null && typeof n.Agent_ID === "string" &&
    typeof n.Run_ID === "string" && typeof n.Sequence === "number"
  ) {
    env = { agent: n.Agent_ID, run: n.Run_ID, seq: n.Sequence };
    recordText = stripEnvelope(line);
  } else {
    env = { agent: "", run: nokeyRun, seq: lineNo };
    recordText = n === undefined ? line : stripEnvelope(line);
  }
  const type = n?.Record_Type === "flow" || rec.Flow !== undefined ? "flow" : "packet";
  const table: TableName = type === "flow" ? "flows" : "packets";
  out[table].push(rowOf(schema[table], rec, env, recordText));
  out.records++;
  const a = out.agents.get(env.agent);
  if (a === undefined) out.agents.set(env.agent, [env.run, 1]);
  else {
    a[0] = env.run;
    a[1]++;
  }
}

/**
 * Parses an ndjson body. `nokeyRun` names the run of lines without an envelope.
 * Throws {@link BadBatch} naming the first bad line.
 */
export function parseBatch(text: string, schema: StoreSchema, nokeyRun: string): ParsedBatch {
  const out = emptyBatch();
  let lineNo = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end);
    start = end + 1;
    addLine(out, line, ++lineNo, schema, nokeyRun);
  }
  if (out.records === 0) throw new BadBatch("no records in the body");
  return out;
}
