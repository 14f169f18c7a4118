/**
 * Who is shipping: a stable agent id per host and a fresh run id per process.
 *
 * Agent_ID is derived from /etc/machine-id (hashed with a netmon-specific prefix, as
 * machine-id(5) recommends, so the raw id never leaves the host); without a machine id
 * a random id is kept in the spool directory. Run_ID is new for every start, so record
 * sequences (which restart at 1) and batch keys never collide between runs, even
 * within one boot.
 */

import { createSmall, readSmall, realFs } from "./files.ts";

export interface Identity {
  agentId: string;
  runId: string;
}

const MACHINE_ID_FILES = ["/etc/machine-id", "/var/lib/dbus/machine-id"];

async function sha256Hex(text: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(d), (x) => x.toString(16).padStart(2, "0")).join("");
}

function randomHex(bytes: number): string {
  const a = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(a, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** The stable agent id: from the machine id, else from `<spoolDir>/agent-id` (created once). */
export async function agentId(spoolDir: string): Promise<string> {
  const override = Deno.env.get("NETMON_AGENT_ID");
  if (override && /^[A-Za-z0-9_-]{1,64}$/.test(override)) return override;
  for (const f of MACHINE_ID_FILES) {
    try {
      const id = (await Deno.readTextFile(f)).trim();
      if (/^[0-9a-f]{32}$/.test(id)) return (await sha256Hex(`netmon-agent:${id}`)).slice(0, 16);
    } catch { /* next */ }
  }
  // Inside the spool: never through a symlink, 0600 (files.ts).
  const file = `${spoolDir}/agent-id`;
  try {
    const id = (await readSmall(realFs, file, 64)).trim();
    if (/^[0-9a-f]{16}$/.test(id)) return id;
    await Deno.remove(file);
  } catch { /* create below */ }
  const id = randomHex(8);
  await createSmall(realFs, file, id + "\n");
  return id;
}

/** A run id: start time (base 36 milliseconds) plus randomness; sorts by start time. */
export function newRunId(): string {
  return Date.now().toString(36) + randomHex(3);
}

export async function loadIdentity(spoolDir: string): Promise<Identity> {
  return { agentId: await agentId(spoolDir), runId: newRunId() };
}
