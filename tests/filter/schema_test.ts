/**
 * The filter schema knows every name the decoders emit: decode every fixture with
 * netmon's own reader and decoders and look each layer and attribute up.
 */
import assert from "node:assert/strict";
import { layerOf, SCALARS, SCHEMA, type ValueKind } from "../../src/filter/schema.ts";
import { LAYER } from "../../src/decode/record.ts";
import { decodeFile } from "../helpers/decode_file.ts";
import { FIXTURES, PCAPS } from "../helpers/run.ts";

Deno.test("every layer and attribute in the records of every fixture is known to the filter schema", async () => {
  const unknown = new Map<string, string>(); // name -> where first seen
  const badType = new Map<string, string>();
  let records = 0;
  const files = [...Deno.readDirSync(PCAPS)].map((e) => PCAPS + e.name)
    .filter((n) => /\.(pcap|pcapng)$/.test(n)).sort();
  // The tunnel and reassembly captures (issue 15).
  for (const n of ["encap.pcap", "fragments.pcap", "netns_vxlan.pcap"]) {
    files.push(`${FIXTURES}conformance/${n}`);
  }
  for (const path of files) {
    const e = { name: path.slice(path.lastIndexOf("/") + 1) };
    for (const rec of await decodeFile(path)) {
      records++;
      for (const [key, value] of Object.entries(rec)) {
        if (Object.hasOwn(SCALARS, key)) continue;
        const lo = layerOf(key);
        if (lo === null) {
          if (!unknown.has(key)) unknown.set(key, e.name);
          continue;
        }
        const schema = SCHEMA[lo.name];
        const bodies = Array.isArray(value) ? value : [value];
        for (const body of bodies) {
          for (const attr of Object.keys(body as Record<string, unknown>)) {
            const name = `${lo.name}.${attr}`;
            if (!Object.hasOwn(schema.attrs, attr)) {
              if (!unknown.has(name)) unknown.set(name, e.name);
              continue;
            }
            const v = (body as Record<string, unknown>)[attr];
            if (!fits(schema.attrs[attr], v) && !badType.has(name)) {
              badType.set(name, `${JSON.stringify(v)} for ${schema.attrs[attr].kind} (${e.name})`);
            }
          }
        }
      }
    }
  }
  assert.ok(records > 250, `decoded ${records} records`);
  assert.deepEqual([...unknown].map(([n, f]) => `${n} (${f})`), []);
  assert.deepEqual([...badType].map(([n, f]) => `${n}: ${f}`), []);
});

/** Whether a record value has the JSON type the schema's kind expects (null: not known). */
function fits(kind: ValueKind, v: unknown): boolean {
  if (v === null) return true;
  switch (kind.kind) {
    case "number":
      return typeof v === "number" || (typeof v === "string" && /^\d+(\.\d+)?$/.test(v));
    case "string":
    case "ipv4":
    case "ipv6":
    case "ip":
    case "mac":
      return typeof v === "string";
    case "enum":
      return typeof v === "string" && kind.values.includes(v);
    case "bool":
      return typeof v === "boolean";
    case "flags":
      return typeof v === "object" && !Array.isArray(v) &&
        Object.entries(v as object).every(([k, b]) =>
          kind.names.includes(k) && typeof b === "boolean"
        );
    case "json":
      return typeof v === "object";
  }
}

Deno.test("every layer key the decoders use is a filter layer", () => {
  for (const name of Object.values(LAYER)) assert.ok(Object.hasOwn(SCHEMA, name), name);
});
