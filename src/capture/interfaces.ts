/**
 * Interface lookup for live capture, from sysfs (/sys/class/net): name, index, ARPHRD
 * type. Kept small on purpose: `netmon interfaces` (src/net) has the full view.
 */
import { UsageError } from "../errors.ts";

/** What live capture needs to know about an interface. */
export interface LinkInfo {
  name: string;
  index: number;
  /** ARPHRD_* type from /sys/class/net/NAME/type (1 Ethernet, 772 loopback, ...). */
  type: number;
}

const SYS_NET = "/sys/class/net";

function readInt(path: string): number {
  try {
    return parseInt(Deno.readTextFileSync(path).trim(), 10);
  } catch {
    return -1;
  }
}

/** Every interface of this network namespace, ordered by index (lo first). */
export function listLinks(): LinkInfo[] {
  const out: LinkInfo[] = [];
  try {
    for (const e of Deno.readDirSync(SYS_NET)) {
      out.push({
        name: e.name,
        index: readInt(`${SYS_NET}/${e.name}/ifindex`),
        type: readInt(`${SYS_NET}/${e.name}/type`),
      });
    }
  } catch {
    // No sysfs (unusual container): the caller reports an empty list.
  }
  out.sort((a, b) => a.index - b.index || a.name.localeCompare(b.name));
  return out;
}

/**
 * The interface called `name`, or a {@link UsageError} (exit 2) that lists the
 * interfaces there are.
 *
 * @example
 * ```ts
 * const lo = findLink("lo"); // { name: "lo", index: 1, type: 772 }
 * ```
 */
export function findLink(name: string): LinkInfo {
  const links = listLinks();
  // Names with "/" or ".." would escape /sys/class/net: they are never interface names.
  const hit = name.includes("/") ? undefined : links.find((l) => l.name === name);
  if (hit === undefined || hit.index <= 0) {
    const names = links.map((l) => l.name).join(", ");
    throw new UsageError(`unknown interface '${name}' (available: ${names || "none"})`);
  }
  return hit;
}
