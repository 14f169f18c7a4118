/**
 * After `--user`, nothing writable that root trusts is left (issue 11, item 16): under
 * `deno run`, Deno's cache databases were open read-write and mapped shared; now every
 * descriptor and shared mapping of them points to a private copy. Checked from outside
 * in /proc/PID/fd, fdinfo and maps once the process runs as nobody; capture goes on.
 */
import assert from "node:assert/strict";
import { MAIN, skipUnless } from "../helpers/run.ts";
import { gated } from "../helpers/skip.ts";

const skip = skipUnless({ root: true, tools: ["ping"] });
const DENO_DIR = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`;
const CACHE_DB = /_cache_v\d+(-wal|-shm|-journal)?$/;

function trusted(path: string): boolean {
  return path.startsWith(DENO_DIR + "/") || CACHE_DB.test(path);
}

Deno.test(gated({
  name: "--user nobody: no writable descriptor or shared mapping of Deno's cache files is left",
  needs: skip,
  fn: async () => {
    const nm = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "capture",
        "-i",
        "lo",
        "--user",
        "nobody",
        "--json",
        "--duration",
        "4",
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    try {
      const pid = nm.pid;
      let dropped = false;
      for (let i = 0; i < 1200 && !dropped; i++) {
        await new Promise((r) => setTimeout(r, 25));
        dropped = /^Uid:\s+65534\s/m.test(
          await Deno.readTextFile(`/proc/${pid}/status`).catch(() => ""),
        );
      }
      assert.ok(dropped, "netmon never ran as nobody");
      const writable: string[] = [];
      let cacheFiles = 0;
      for (const e of Deno.readDirSync(`/proc/${pid}/fd`)) {
        let target = "";
        let flags = 0;
        try {
          target = Deno.readLinkSync(`/proc/${pid}/fd/${e.name}`);
          flags = parseInt(
            /^flags:\s*([0-7]+)/m.exec(Deno.readTextFileSync(`/proc/${pid}/fdinfo/${e.name}`))![1],
            8,
          );
        } catch {
          continue;
        }
        if (target.includes("netmon-sealed")) cacheFiles++;
        if (trusted(target) && (flags & 3) !== 0) writable.push(`fd ${e.name} -> ${target}`);
      }
      const maps = Deno.readTextFileSync(`/proc/${pid}/maps`).split("\n")
        .filter((l) => trusted(l.split(/\s+/).slice(5).join(" ")));
      assert.deepEqual(writable, [], "writable descriptors on files root trusts");
      assert.deepEqual(maps, [], "mappings of files root trusts");
      // Under deno run there was something to seal (a compiled netmon has none).
      if (!Deno.execPath().endsWith("/netmon")) assert.ok(cacheFiles > 0, "no sealed copies found");
      // Capture goes on as nobody.
      const ping = new Deno.Command("ping", {
        args: ["-c", "3", "-i", "0.2", "-q", "127.0.0.1"],
        stdout: "null",
        stderr: "null",
      });
      await ping.output();
      const out = await nm.output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 0, stderr);
      const lines = new TextDecoder().decode(out.stdout).trim().split("\n").filter((l) => l);
      assert.ok(lines.length >= 3, `${lines.length} records:\n${stderr}`);
      for (const l of lines) JSON.parse(l);
      assert.doesNotMatch(stderr, /cache database|panicked/i);
    } finally {
      try {
        nm.kill("SIGKILL");
      } catch { /* exited */ }
      await nm.status;
    }
  },
}));
