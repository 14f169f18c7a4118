/** Shared bits of the packaging tests: temp dirs and telling "offline" from "broken". */
import { ROOT } from "../helpers/run.ts";

/** stderr of a build that failed because a download was impossible (no network, no DNS). */
const OFFLINE =
  /dns error|failed to lookup address|Name or service not known|error sending request|network is unreachable|connection refused|timed out|Temporary failure in name resolution|certificate|Import .* failed|download/i;

/** True when a failed build's output says it could not download something. */
export function looksOffline(stderr: string): boolean {
  return OFFLINE.test(stderr);
}

/** The last meaningful line of a tool's error output, for a one-line skip reason. */
export function reason(stderr: string): string {
  // deno prints colour codes and a "Stack backtrace" section after the error.
  // deno-lint-ignore no-control-regex
  const clean = stderr.replace(/\x1b\[[0-9;]*m/g, "").split("Stack backtrace")[0];
  const lines = clean.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const err = lines.find((l) => /^error:/.test(l)) ?? lines[0] ?? "(no output)";
  const cause = lines.filter((l) => /^\d+: /.test(l)).pop();
  return cause ? `${err} (${cause.replace(/^\d+: /, "")})` : err;
}

/** The command line of a deno.json task, as words. */
export function taskWords(name: string): string[] {
  const cfg = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`));
  const task: string = cfg.tasks?.[name];
  if (typeof task !== "string") throw new Error(`deno.json has no task '${name}'`);
  return task.trim().split(/\s+/);
}
