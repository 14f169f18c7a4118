/** Shared test helpers: running netmon as a subprocess, tool detection, namespaces. */

export const ROOT = new URL("../../", import.meta.url).pathname;
export const MAIN = `${ROOT}main.ts`;
export const FIXTURES = `${ROOT}fixtures/`;
export const PCAPS = `${ROOT}fixtures/pcaps/`;

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno run -A main.ts ...args` and collects its output. */
export async function runNetmon(
  args: string[],
  opts: { env?: Record<string, string>; stdin?: string; cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  return await run([Deno.execPath(), "run", "-A", MAIN, ...args], opts);
}

/** Runs a command (argv) and collects its output; kills it after timeoutMs (default 60 s). */
export async function run(
  argv: string[],
  opts: { env?: Record<string, string>; stdin?: string; cwd?: string; timeoutMs?: number } = {},
): Promise<RunResult> {
  const cmd = new Deno.Command(argv[0], {
    args: argv.slice(1),
    env: opts.env,
    cwd: opts.cwd,
    stdin: opts.stdin !== undefined ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  });
  const child = cmd.spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, opts.timeoutMs ?? 60_000);
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** True when `cmd` is on PATH. */
export function have(cmd: string): boolean {
  try {
    const out = new Deno.Command("sh", {
      args: ["-c", `command -v ${cmd}`],
      stdout: "null",
      stderr: "null",
    })
      .outputSync();
    return out.success;
  } catch {
    return false;
  }
}

/** True when running as root (needed for namespaces and AF_PACKET). */
export function isRoot(): boolean {
  return Deno.uid() === 0;
}

/** Runs a shell command, throwing with its stderr on failure. */
export function sh(script: string): string {
  const out = new Deno.Command("sh", { args: ["-c", script], stdout: "piped", stderr: "piped" })
    .outputSync();
  const dec = new TextDecoder();
  if (!out.success) {
    throw new Error(`sh failed (${out.code}): ${script}\n${dec.decode(out.stderr)}`);
  }
  return dec.decode(out.stdout);
}

/** A unique short suffix for namespace and link names (names are limited to 15 chars). */
export function uniq(): string {
  return (Deno.pid % 10000).toString(36) + Math.floor(Math.random() * 1296).toString(36);
}

/** Why a test that needs root and tools is skipped, or null when it can run. */
export function skipUnless(opts: { root?: boolean; tools?: string[] }): string | null {
  if (opts.root && !isRoot()) return "needs root (network namespaces, AF_PACKET)";
  for (const t of opts.tools ?? []) if (!have(t)) return `needs ${t} (run scripts/setup.sh)`;
  return null;
}
