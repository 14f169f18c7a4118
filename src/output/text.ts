/**
 * One human line per record, in the spirit of tcpdump: time, protocol chain,
 * addresses, ports, flags, length. (Placeholder; the full format lands with issue 2.)
 */
import type { PacketRecord } from "../decode/record.ts";

export function formatRecordLine(rec: PacketRecord): string {
  return Object.keys(rec).join(" > ");
}
