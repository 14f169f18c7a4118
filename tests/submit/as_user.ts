/**
 * Running netmon as a second user (nobody) for the permission tests: `setpriv` drops
 * to the user, and a copy of the npm packages in a DENO_DIR of that user lets
 * `deno run --cached-only main.ts` start without root's cache (which it cannot read).
 */
import { MAIN, run, type RunResult, skipUnless } from "../helpers/run.ts";

export const NOBODY = { uid: 65534, gid: 65534, name: "nobody" };

/** Why the tests cannot run as another user, or null. */
export const asUserSkip = skipUnless({ root: true, tools: ["setpriv"] });

let denoDir: string | null = null;

/** The DENO_DIR of this process (keep it when a test changes HOME). */
export const DENO_DIR = Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`;

/** A DENO_DIR owned by `uid` holding the npm packages netmon imports (made once). */
async function userDenoDir(uid: number, gid: number): Promise<string> {
  if (denoDir !== null) return denoDir;
  const src = `${DENO_DIR}/npm`;
  const dir = await Deno.makeTempDir({ prefix: "netmon-deno-user-" });
  const reg = "registry.npmjs.org";
  await Deno.mkdir(`${dir}/npm/${reg}`, { recursive: true });
  for await (const e of Deno.readDir(`${src}/${reg}`)) {
    // Only what main.ts needs (no browser or bundler packages).
    if (/^(playwright|@esbuild|esbuild|uplot)/.test(e.name)) continue;
    const r = await run(["cp", "-r", `${src}/${reg}/${e.name}`, `${dir}/npm/${reg}/`]);
    if (r.code !== 0) throw new Error(`cp: ${r.stderr}`);
  }
  await run(["chown", "-R", `${uid}:${gid}`, dir]);
  await Deno.chmod(dir, 0o700);
  denoDir = dir;
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* gone */ }
  });
  return dir;
}

/** Runs `netmon ...args` as `user` (no supplementary groups, no capabilities). */
export async function runNetmonAs(
  user: { uid: number; gid: number },
  args: string[],
  env: Record<string, string> = {},
): Promise<RunResult> {
  const dir = await userDenoDir(user.uid, user.gid);
  const vars = Object.entries({ HOME: "/tmp", DENO_DIR: dir, ...env }).map(([k, v]) => `${k}=${v}`);
  return await run([
    "setpriv",
    `--reuid=${user.uid}`,
    `--regid=${user.gid}`,
    "--clear-groups",
    "--inh-caps=-all",
    "env",
    ...vars,
    Deno.execPath(),
    "run",
    "-A",
    "--cached-only",
    MAIN,
    ...args,
  ]);
}

/** chown -R for test fixtures. */
export async function chown(path: string, user: { uid: number; gid: number }): Promise<void> {
  const r = await run(["chown", "-R", `${user.uid}:${user.gid}`, path]);
  if (r.code !== 0) throw new Error(`chown: ${r.stderr}`);
}
