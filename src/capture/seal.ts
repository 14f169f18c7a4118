/**
 * Before `--user` drops root: no descriptor or shared mapping this process holds may let
 * the unprivileged process write to files root trusts later. Under `deno run`, Deno keeps
 * its cache databases (`$DENO_DIR/*_cache_v2`, their `-wal` and `-shm` files) open
 * read-write and mapped shared; a compromised decoder running as the user could poison
 * the V8 code cache that root loads next time.
 *
 * Each such file is sealed: its content is copied into an anonymous memory file
 * (memfd_create) which takes the place of every descriptor (dup2) and every shared
 * mapping (mmap MAP_FIXED at the same address, protection and offset). SQLite inside
 * Deno goes on working on the private copy; root's files are never touched again. Found
 * through /proc/self/fd, /proc/self/fdinfo and /proc/self/maps, and checked afterwards:
 * if anything writable is left, the drop is refused. A compiled netmon has no such
 * cache; there is then nothing to seal.
 */
import { errno, libc, SysError } from "../../ffi/libc.ts";
import { MAP_FIXED, MAP_SHARED, MFD_CLOEXEC } from "../../ffi/constants.ts";
import { UsageError } from "../errors.ts";

const O_ACCMODE = 3;
/** Deno's cache databases (by name, wherever DENO_DIR is). */
const CACHE_DB = /\/[a-z0-9_]+_cache_v\d+(-wal|-shm|-journal)?$/;

/** Where Deno keeps its caches (DENO_DIR, else the XDG cache, else ~/.cache/deno). */
function denoDirs(): string[] {
  const env = Deno.env.toObject();
  const dirs = [
    env.DENO_DIR,
    env.XDG_CACHE_HOME && `${env.XDG_CACHE_HOME}/deno`,
    env.HOME && `${env.HOME}/.cache/deno`,
  ];
  return dirs.filter((d): d is string => typeof d === "string" && d !== "").map((d) =>
    d.replace(/\/+$/, "") + "/"
  );
}

function trusted(path: string, dirs: string[]): boolean {
  return CACHE_DB.test(path) || dirs.some((d) => path.startsWith(d));
}

interface Mapping {
  start: bigint;
  len: bigint;
  prot: number;
  offset: bigint;
}

/** Writable descriptors and shared mappings of trusted files, by path. */
function scan(dirs: string[]): Map<string, { fds: number[]; maps: Mapping[] }> {
  const out = new Map<string, { fds: number[]; maps: Mapping[] }>();
  const entry = (p: string) => {
    let e = out.get(p);
    if (e === undefined) out.set(p, e = { fds: [], maps: [] });
    return e;
  };
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    const fd = Number(e.name);
    let target: string;
    let flags: number;
    try {
      target = Deno.readLinkSync(`/proc/self/fd/${fd}`);
      const info = Deno.readTextFileSync(`/proc/self/fdinfo/${fd}`);
      flags = parseInt(/^flags:\s*([0-7]+)/m.exec(info)?.[1] ?? "0", 8);
    } catch {
      continue; // closed meanwhile (the fd of the directory listing itself)
    }
    if (!target.startsWith("/") || (flags & O_ACCMODE) === 0 || !trusted(target, dirs)) continue;
    entry(target).fds.push(fd);
  }
  for (const line of Deno.readTextFileSync("/proc/self/maps").split("\n")) {
    // start-end perms offset dev inode path
    const m = /^([0-9a-f]+)-([0-9a-f]+) ([rwxps-]{4}) ([0-9a-f]+) \S+ \d+\s+(\/.*)$/.exec(line);
    if (m === null || m[3][3] !== "s" || !trusted(m[5], dirs)) continue;
    const start = BigInt("0x" + m[1]);
    const prot = (m[3][0] === "r" ? 1 : 0) | (m[3][1] === "w" ? 2 : 0) | (m[3][2] === "x" ? 4 : 0);
    entry(m[5]).maps.push({
      start,
      len: BigInt("0x" + m[2]) - start,
      prot,
      offset: BigInt("0x" + m[4]),
    });
  }
  return out;
}

function check(ok: boolean, call: string): void {
  if (!ok) throw new SysError(call, errno());
}

/** Puts a private copy of `path` in place of its descriptors and shared mappings. */
function sealOne(path: string, fds: number[], maps: Mapping[]): void {
  const lc = libc();
  const data = Deno.readFileSync(path);
  const memfd = lc.memfd_create(new TextEncoder().encode("netmon-sealed\0"), MFD_CLOEXEC);
  check(memfd >= 0, "memfd_create");
  try {
    let off = 0;
    while (off < data.length) {
      const n = Number(lc.write(memfd, data.subarray(off), BigInt(data.length - off)));
      check(n > 0, "write");
      off += n;
    }
    for (const m of maps) {
      const p = lc.mmap(
        Deno.UnsafePointer.create(m.start),
        m.len,
        m.prot,
        MAP_SHARED | MAP_FIXED,
        memfd,
        m.offset,
      );
      check(Deno.UnsafePointer.value(p) === m.start, "mmap");
    }
    for (const fd of fds) check(lc.dup2(memfd, fd) === fd, "dup2");
  } finally {
    lc.close(memfd);
  }
}

/**
 * Seals every writable descriptor and shared mapping of Deno's cache files; returns
 * their paths. Throws a one-line UsageError when one is left afterwards.
 */
export function sealTrustedFiles(user: string): string[] {
  const dirs = denoDirs();
  const found = scan(dirs);
  try {
    for (const [path, e] of found) sealOne(path, e.fds, e.maps);
  } catch (e) {
    throw new UsageError(
      `--user ${user}: cannot seal Deno's cache files before dropping root (${
        (e as Error).message
      }); run the compiled netmon`,
    );
  }
  const left = scan(dirs);
  if (left.size > 0) {
    throw new UsageError(
      `--user ${user}: still holding writable descriptors on ${
        [...left.keys()].join(", ")
      }; refusing to drop root with them`,
    );
  }
  return [...found.keys()];
}
