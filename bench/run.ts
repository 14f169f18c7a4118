/**
 * `deno task bench`: runs every benchmark script in bench/ (each prints a markdown
 * table comparing netmon with a peer), one after the other, and collects the tables
 * in bench/out/results.md. `deno task bench decode flow` runs only those.
 */
const dir = new URL(".", import.meta.url).pathname;
const only = Deno.args;
const skip = new Set(["run.ts", "gen_pcap.ts"]);
const scripts = [...Deno.readDirSync(dir)]
  .filter((e) => e.isFile && e.name.endsWith(".ts") && !skip.has(e.name) && !e.name.startsWith("_"))
  .map((e) => e.name)
  .filter((n) => only.length === 0 || only.includes(n.replace(/\.ts$/, "")))
  .sort();
Deno.mkdirSync(`${dir}out`, { recursive: true });
const results: string[] = [`# netmon benchmarks (${new Date().toISOString()})`, ""];
let failed = 0;
for (const name of scripts) {
  console.error(`== bench/${name}`);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${dir}${name}`],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  console.log(text);
  results.push(`## ${name}`, "", text.trim(), "");
  if (!out.success) {
    failed++;
    results.push(`(exited with ${out.code})`, "");
  }
}
Deno.writeTextFileSync(`${dir}out/results.md`, results.join("\n"));
console.error(`results in bench/out/results.md; ${scripts.length - failed} ok, ${failed} failed`);
Deno.exit(failed > 0 ? 1 : 0);
