/**
 * Containers from cgroup paths (/proc/<pid>/cgroup). Container engines put each container in
 * a cgroup named after its 64-hex-digit id:
 *
 * | engine | cgroup path (v2 or v1) |
 * | --- | --- |
 * | Docker (systemd driver) | `/system.slice/docker-<id>.scope` |
 * | Docker (cgroupfs driver) | `/docker/<id>` |
 * | Podman | `/machine.slice/libpod-<id>.scope`, `/libpod_parent/libpod-<id>` |
 * | containerd (Kubernetes, systemd driver) | `/kubepods.slice/.../cri-containerd-<id>.scope` |
 * | containerd / Kubernetes (cgroupfs driver) | `/kubepods/besteffort/pod<uid>/<id>` |
 * | CRI-O | `/kubepods.slice/.../crio-<id>.scope` |
 *
 * The id is the last path component that is such a name (a container nested in another
 * one belongs to the inner). Pure functions.
 *
 * @module
 */

/** One line of /proc/<pid>/cgroup: `hierarchy-ID:controllers:path`. */
export interface CgroupLine {
  hierarchy: number;
  controllers: string;
  path: string;
}

/** Parses /proc/<pid>/cgroup (v1 and v2 lines; v2 is `0::/path`). */
export function parseCgroups(text: string): CgroupLine[] {
  const out: CgroupLine[] = [];
  for (const line of text.split("\n")) {
    const a = line.indexOf(":");
    const b = a < 0 ? -1 : line.indexOf(":", a + 1);
    if (b < 0) continue;
    const hierarchy = Number(line.slice(0, a));
    if (!Number.isInteger(hierarchy)) continue;
    out.push({ hierarchy, controllers: line.slice(a + 1, b), path: line.slice(b + 1) });
  }
  return out;
}

/**
 * The path netmon reports as the process's cgroup: the unified (v2) one, unless it is the
 * root while a v1 hierarchy places the process somewhere (hybrid hosts): then systemd's
 * named hierarchy, else the first v1 path that is not the root.
 */
export function mainCgroup(lines: CgroupLine[]): string {
  const v2 = lines.find((l) => l.hierarchy === 0 && l.controllers === "");
  if (v2 && v2.path !== "/") return v2.path;
  const systemd = lines.find((l) => l.controllers === "name=systemd");
  if (systemd && systemd.path !== "/") return systemd.path;
  const other = lines.find((l) => l.path !== "/" && l.path !== "");
  return other?.path ?? v2?.path ?? systemd?.path ?? "/";
}

const ID = "[0-9a-f]{64}";
/** A path component naming a container, with the id in group 1. */
const COMPONENT = new RegExp(
  `^(?:(?:docker|libpod|cri-containerd|crio|containerd)-(${ID})(?:\\.scope)?|(${ID}))$`,
);

/**
 * The container id in a cgroup path, or null.
 *
 * @example
 * ```ts
 * containerId("/system.slice/docker-" + "ab".repeat(32) + ".scope"); // "abab...ab"
 * containerId("/user.slice/user-1000.slice/session-2.scope");        // null
 * ```
 */
export function containerId(path: string): string | null {
  const parts = path.split("/");
  for (let i = parts.length - 1; i >= 0; i--) {
    const m = COMPONENT.exec(parts[i]);
    if (m) return m[1] ?? m[2];
  }
  return null;
}

/** The container id found in any of the process's cgroup paths (v2 first), or null. */
export function containerOf(lines: CgroupLine[]): string | null {
  const ordered = [...lines].sort((x, y) => x.hierarchy - y.hierarchy);
  for (const l of ordered) {
    const id = containerId(l.path);
    if (id !== null) return id;
  }
  return null;
}
