/**
 * Tests that need something the machine may lack (root, tshark, tcpdump, a network):
 * `Deno.test(gated({ name, needs: reason, fn }))` ignores the test when `needs` is a
 * reason (not null) and prints `SKIP: <test name>: <reason>` as it is registered, so
 * every skip says why; `.ci/run` lists those lines under its summary.
 */
import { have } from "./run.ts";
import { HAVE_TSHARK } from "./tshark.ts";

export type Gated = Deno.TestDefinition & { needs: string | null };

export function gated(def: Gated): Deno.TestDefinition {
  const { needs, ...rest } = def;
  if (needs !== null) console.log(`SKIP: ${def.name}: ${needs}`);
  return { ...rest, ignore: needs !== null || def.ignore === true } as Deno.TestDefinition;
}

/** Why a test needing `tool` cannot run here, or null. */
export function needsTool(tool: string): string | null {
  return have(tool) ? null : `needs ${tool} (scripts/setup.sh installs it)`;
}

export const NEEDS_TSHARK: string | null = HAVE_TSHARK ? null : needsTool("tshark");

/**
 * For a file whose tests share one options object: true (ignore them) when `reason` is
 * not null, printing `SKIP: tests of FILE: reason` once.
 */
export function skipFile(moduleUrl: string, reason: string | null): boolean {
  if (reason === null) return false;
  const file = new URL(moduleUrl).pathname.replace(/^.*\/tests\//, "tests/");
  console.log(`SKIP: every test of ${file}: ${reason}`);
  return true;
}
