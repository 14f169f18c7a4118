/** tshark as an independent oracle: field extraction per frame. */
import { have } from "./run.ts";

/** tshark preferences that turn on checksum verification everywhere. */
export const CHECKSUM_PREFS = [
  "-o",
  "ip.check_checksum:TRUE",
  "-o",
  "tcp.check_checksum:TRUE",
  "-o",
  "udp.check_checksum:TRUE",
];

export const HAVE_TSHARK = have("tshark");
if (!HAVE_TSHARK) {
  console.log("SKIP: the tshark checks inside tests that also check other things: needs tshark");
}

/**
 * Runs `tshark -r file -T fields -e f1 -e f2 ...` and returns one row per frame,
 * each cell the raw field text ("" when absent; repeated fields joined by ",").
 */
export function tsharkFields(file: string, fields: string[], extra: string[] = []): string[][] {
  const args = [
    "-r",
    file,
    "-T",
    "fields",
    "-E",
    "separator=\t",
    "-E",
    "occurrence=a",
    "-E",
    "aggregator=,",
  ];
  for (const f of fields) args.push("-e", f);
  args.push(...extra);
  const out = new Deno.Command("tshark", {
    args,
    stdout: "piped",
    stderr: "piped",
    env: { HOME: "/tmp" },
  })
    .outputSync();
  if (!out.success) throw new Error(`tshark failed: ${new TextDecoder().decode(out.stderr)}`);
  const text = new TextDecoder().decode(out.stdout);
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines.map((l) => l.split("\t"));
}

/** Runs `tshark -r file -T json` (plus extra args) and returns the parsed list of frames. */
export function tsharkJson(file: string, extra: string[] = []): Record<string, unknown>[] {
  const out = new Deno.Command("tshark", {
    args: ["-r", file, "-T", "json", ...extra],
    stdout: "piped",
    stderr: "piped",
    env: { HOME: "/tmp" },
  }).outputSync();
  if (!out.success) throw new Error(`tshark failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(new TextDecoder().decode(out.stdout));
}
