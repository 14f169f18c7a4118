/** createLogger(): levels, one line per event on stderr, the optional log file. */
import assert from "node:assert/strict";
import { ROOT, run } from "../helpers/run.ts";
import { createLogger, formatLine } from "../../src/log/mod.ts";
import { UsageError } from "../../src/errors.ts";

const LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO |WARN |ERROR) netmon: .*$/;

/** Runs a snippet with createLogger in a subprocess and returns its stderr. */
async function logIn(body: string): Promise<{ code: number; stderr: string }> {
  const src = `import { createLogger } from "${ROOT}src/log/mod.ts";\n${body}`;
  return await run([Deno.execPath(), "eval", "--ext=ts", src]);
}

Deno.test("formatLine() is one line: timestamp, level, message; newlines are folded", () => {
  const l = formatLine("warn", "a\nb", new Date(0));
  assert.equal(l, "1970-01-01T00:00:00.000Z WARN  netmon: a | b\n");
});

Deno.test("createLogger() drops levels below its own and writes one line per event", async () => {
  const r = await logIn(`
    const log = createLogger("info");
    log.debug("hidden"); log.info("one"); log.warn("two"); log.error("three\\nstill three");
    await log.close();
  `);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 3, r.stderr);
  for (const l of lines) assert.match(l, LINE);
  assert.deepEqual(lines.map((l) => l.replace(/^\S+ /, "")), [
    "INFO  netmon: one",
    "WARN  netmon: two",
    "ERROR netmon: three | still three",
  ]);
});

Deno.test("createLogger(level, file) appends the same lines to the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/netmon.log`;
    await Deno.writeTextFile(file, "earlier line\n");
    const r = await logIn(`
      const log = createLogger("debug", ${JSON.stringify(file)});
      for (let i = 0; i < 5000; i++) log.debug("event " + i);
      log.error("last");
      await log.close();
    `);
    assert.equal(r.code, 0);
    const text = await Deno.readTextFile(file);
    const lines = text.trimEnd().split("\n");
    assert.equal(lines[0], "earlier line");
    assert.equal(lines.length, 5002);
    assert.match(lines[1], /DEBUG netmon: event 0$/);
    assert.match(lines[5001], /ERROR netmon: last$/);
    assert.equal(r.stderr.trimEnd().split("\n").length, 5001);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createLogger() with a log file it cannot open is a usage error", () => {
  assert.throws(
    () => createLogger("info", "/nonexistent-dir/netmon.log"),
    (e: unknown) =>
      e instanceof UsageError &&
      /^log file \/nonexistent-dir\/netmon\.log: cannot open/.test(e.message),
  );
});
