/** docs/config.md's settings table, read as the documentation of every default. */
import assert from "node:assert/strict";
import { ROOT } from "../helpers/run.ts";
import type { SettingSpec } from "../../src/config/settings.ts";

/** The default column of docs/config.md's settings table: "section.key" -> cell text. */
export async function documentedDefaults(): Promise<Map<string, string>> {
  const doc = await Deno.readTextFile(`${ROOT}docs/config.md`);
  const out = new Map<string, string>();
  for (const line of doc.split("\n")) {
    // | section | key | type | default | env | meaning |   (a \| inside a cell is text)
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
    if (cells.length !== 8 || !/^\w+$/.test(cells[1]) || cells[1] === "section") continue;
    out.set(`${cells[1]}.${cells[2]}`, cells[4]);
  }
  return out;
}

/** The value a documented default cell stands for (`spool` is the default spool dir). */
export function documentedValue(spec: SettingSpec, cell: string, spool: string): unknown {
  if (cell === "(empty)" || cell === "(none)") return spec.type === "list" ? [] : "";
  const m = /^`([^`]*)`( ¹)?$/.exec(cell);
  assert.ok(m, `[${spec.section}] ${spec.key}: default cell ${JSON.stringify(cell)}`);
  const text = m[1];
  if (text === "~/.local/state/netmon/spool") return spool;
  switch (spec.type) {
    case "int":
    case "number":
      return Number(text);
    case "bool":
      assert.ok(text === "true" || text === "false", cell);
      return text === "true";
    default:
      return text;
  }
}
