/** Shared bits of the packaging tests: telling "offline" from "broken", task command lines. */
import { ROOT } from "../helpers/run.ts";

/**
 * True when a failed `deno compile` says it could not connect to the host it downloads
 * its runtime (denort) from: the one failure that means "offline" (no network, no DNS
 * here). Anything else, a timeout or a certificate problem included, is a real failure.
 */
export function runtimeDownloadFailed(stderr: string): boolean {
  // deno: "error sending request for url (https://HOST/release/vX/denort-...zip): client
  // error (Connect): dns error: ..." (the failed connection, then its causes).
  // deno-lint-ignore no-control-regex
  const text = stderr.replace(/\x1b\[[0-9;]*m/g, "");
  const m =
    /error sending request for url \((https:\/\/[^)\s]+\/denort-[^)\s]+)\): client error \(Connect\)/
      .exec(text);
  return m !== null;
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
