/**
 * A filter that is a list of many filter objects (issue 11, item 12): compiled without
 * spreading arguments (100k entries used to overflow the stack), in linear time and
 * memory, with the same meaning as a short list; beyond the limit a clear error.
 */
import assert from "node:assert/strict";
import { compileFilterSet } from "../../src/filter/mod.ts";
import { compileFilterValue, FilterError, MAX_FILTER_LIST } from "../../src/filter/compile.ts";

const addr = (i: number) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;

Deno.test("a list of 100k filter objects (file and inline) compiles and keeps its meaning", async () => {
  const n = 100_000;
  const list = Array.from(
    { length: n },
    (_, i) =>
      i % 2 === 0
        ? { IPv4: { Source_Address: addr(i) } }
        : { UDP: { Destination_Port: 1000 + (i % 5000) }, IPv4: { Destination_Address: addr(i) } },
  );
  const file = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(file, JSON.stringify(list));
    const heap0 = Deno.memoryUsage().heapUsed;
    const t0 = performance.now();
    // Keep and drop lists of 100k at once, plus a short one (generated code for few filters).
    const fs = await compileFilterSet([file, '{"ARP":{}}'], [JSON.stringify(list.slice(0, 10))]);
    const ms = performance.now() - t0;
    const heapMb = (Deno.memoryUsage().heapUsed - heap0) / 1048576;
    console.log(`100k filters compiled in ${ms.toFixed(0)} ms, heap +${heapMb.toFixed(0)} MiB`);
    const keep = fs.packets!;
    const src = (i: number) => ({
      IPv4: { Source_Address: addr(i), Destination_Address: "1.1.1.1" },
    });
    assert.equal(keep(src(99_998)), true, "the last even entry");
    assert.equal(keep(src(50_000)), true);
    assert.equal(keep(src(4)), false, "excluded by the drop list");
    assert.equal(keep(src(99_999)), false, "odd entries need UDP too");
    assert.equal(
      keep({
        IPv4: { Source_Address: "9.9.9.9", Destination_Address: addr(99_999) },
        UDP: { Destination_Port: 1000 + (99_999 % 5000) },
      }),
      true,
    );
    assert.equal(
      keep({
        IPv4: { Source_Address: "9.9.9.9", Destination_Address: addr(99_999) },
        UDP: { Destination_Port: 1 },
      }),
      false,
    );
    assert.equal(keep({ ARP: { Operation: 1 } }), true, "the short keep filter");
    assert.equal(keep({ IPv4: { Source_Address: "11.0.0.1" } }), false);
    // Bounded: about a kilobyte per filter object, not the quadratic growth of before.
    assert.ok(heapMb < 400, `heap grew by ${heapMb.toFixed(0)} MiB`);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("a list longer than the limit is refused with one clear error naming the limit", () => {
  const one = { IPv4: {} };
  const list = new Array(MAX_FILTER_LIST + 1).fill(one);
  assert.throws(
    () => compileFilterValue(list),
    (e) => e instanceof FilterError && /at most 1000000 in one list/.test(e.message),
  );
});

Deno.test("errors in a long list still name the entry", () => {
  const list: unknown[] = Array.from(
    { length: 5000 },
    (_, i) => ({ IPv4: { Source_Address: addr(i) } }),
  );
  list[4321] = { IPv4: { Source_Adress: "10.0.0.1" } };
  assert.throws(
    () => compileFilterValue(list),
    (e) => e instanceof FilterError && e.path === "[4321].IPv4.Source_Adress",
  );
});
