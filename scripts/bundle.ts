/**
 * `deno task bundle`: builds dist/netmon.js, one JavaScript file with every dependency
 * (npm packages included) inlined, that `deno run -A dist/netmon.js ...` executes with no
 * deno.json, no node_modules and no network. The offline fallback of `deno task compile`.
 *
 * Uses `deno bundle` (esbuild inside Deno; its first run fetches esbuild from the npm
 * registry, like any npm dependency). Usage: deno run -A scripts/bundle.ts [OUTPUT]
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url).pathname;
const out = Deno.args[0] ?? `${ROOT}dist/netmon.js`;
/** The bundle starts with this line so `./dist/netmon.js` runs directly too. */
const SHEBANG = "#!/usr/bin/env -S deno run -A\n";

function fail(msg: string): never {
  console.error(`bundle: ${msg}`);
  Deno.exit(1);
}

await Deno.mkdir(out.replace(/\/[^/]*$/, "") || ".", { recursive: true });
const tmp = `${out}.tmp.js`;
const r = await new Deno.Command(Deno.execPath(), {
  args: ["bundle", "--quiet", "--platform", "deno", "--output", tmp, `${ROOT}main.ts`],
  cwd: ROOT,
  stdout: "inherit",
  stderr: "inherit",
}).output();
if (!r.success) fail(`deno bundle failed (exit ${r.code})`);

let js = await Deno.readTextFile(tmp);
await Deno.remove(tmp);
// Every npm package must be inlined: a left-over npm: import would need the network later.
const left = [...js.matchAll(/\bfrom\s*["'](npm:[^"']+)["']|import\(\s*["'](npm:[^"']+)["']/g)];
if (left.length > 0) {
  fail(`npm imports were not inlined: ${left.map((m) => m[1] ?? m[2]).join(", ")}`);
}
if (js.startsWith("#!")) js = js.slice(js.indexOf("\n") + 1);
await Deno.writeTextFile(out, SHEBANG + js);
await Deno.chmod(out, 0o755);
const size = (await Deno.stat(out)).size;
console.error(
  `bundle: wrote ${out} (${(size / 1024).toFixed(0)} KiB); run: deno run -A ${out} --help`,
);
