/**
 * /proc/<pid>/net/arp. Header names contain single spaces ("IP address", "HW type") and
 * columns are separated by runs of spaces, so the header splits on two or more spaces and
 * each data row on whitespace (values never contain spaces).
 *
 * @module
 */

/** ARP flags (include/uapi/linux/if_arp.h). */
export const ARP_FLAGS: [number, string][] = [
  [0x02, "complete"],
  [0x04, "permanent"],
  [0x08, "published"],
  [0x10, "trailers"],
  [0x20, "netmask"],
  [0x40, "dontpub"],
];

export interface ArpRow {
  IP_Address: string;
  HW_Type: number;
  Flags: number;
  Flag_Names: string[];
  HW_Address: string;
  Mask: string;
  Device: string;
  Extra?: Record<string, string>;
}

const KNOWN: Record<string, keyof ArpRow> = {
  "IP address": "IP_Address",
  "HW type": "HW_Type",
  "Flags": "Flags",
  "HW address": "HW_Address",
  "Mask": "Mask",
  "Device": "Device",
};

/** Parses /proc/net/arp by header name. */
export function parseArp(text: string): ArpRow[] {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  if (lines.length === 0) return [];
  const names = lines[0].trim().split(/\s{2,}/);
  const rows: ArpRow[] = [];
  for (const line of lines.slice(1)) {
    const tokens = line.trim().split(/\s+/);
    const row: ArpRow = {
      IP_Address: "",
      HW_Type: 0,
      Flags: 0,
      Flag_Names: [],
      HW_Address: "",
      Mask: "",
      Device: "",
    };
    const extra: Record<string, string> = {};
    names.forEach((name, i) => {
      const v = tokens[i] ?? "";
      const key = KNOWN[name];
      if (key === "HW_Type" || key === "Flags") row[key] = parseInt(v, 16) || 0;
      else if (key === "IP_Address" || key === "HW_Address" || key === "Mask" || key === "Device") {
        row[key] = v;
      } else extra[name] = v;
    });
    row.Flag_Names = ARP_FLAGS.filter(([bit]) => row.Flags & bit).map(([, n]) => n);
    if (Object.keys(extra).length > 0) row.Extra = extra;
    rows.push(row);
  }
  return rows;
}
