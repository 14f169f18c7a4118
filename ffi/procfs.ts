/**
 * Reads of /proc for process attribution and netmon proc: directory listings, and the scan
 * of every `/proc/<pid>/fd/<n>` link with getdents64(2) and readlinkat(2) into reused
 * buffers, no string or object per descriptor ({@link NumericDir}; the kernel's readlink of
 * a /proc fd link, about 8 µs, is then most of the cost). Also pidfd_open(2), which lets
 * `netmon proc` wait for its target to exit.
 *
 * glibc on 64-bit Linux: `struct dirent` (readdir) and `struct linux_dirent64` (getdents64)
 * are d_ino u64, d_off i64, d_reclen u16, d_type u8, then d_name (NUL-terminated) at 19.
 *
 * @example
 * ```ts
 * import { listDir, NumericDir } from "./ffi/procfs.ts";
 * console.log(listDir("/proc")?.length);
 * const d = new NumericDir();
 * d.each("/proc/self/fd", (fd, dirfd) => console.log(fd, d.socketInode(dirfd)));
 * ```
 * @module
 */

const SYMBOLS = {
  opendir: { parameters: ["buffer"], result: "pointer" },
  readdir: { parameters: ["pointer"], result: "pointer" },
  closedir: { parameters: ["pointer"], result: "i32" },
  dirfd: { parameters: ["pointer"], result: "i32" },
  readlink: { parameters: ["buffer", "buffer", "usize"], result: "isize" },
  syscall: { parameters: ["i64", "i64", "i64"], result: "i64" },
  getdents64: { name: "syscall", parameters: ["i64", "i32", "buffer", "usize"], result: "i64" },
  open: { parameters: ["buffer", "i32"], result: "i32" },
  readlinkatBuf: {
    name: "readlinkat",
    parameters: ["i32", "buffer", "buffer", "usize"],
    result: "isize",
  },
  close: { parameters: ["i32"], result: "i32" },
  pollWait: {
    name: "poll",
    parameters: ["buffer", "u64", "i32"],
    result: "i32",
    nonblocking: true,
  },
  __errno_location: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
let libc: Libc | null = null;
function lib(): Libc {
  if (libc === null) libc = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  return libc;
}

/** Offset of d_name in glibc's struct dirent (64-bit). */
const D_NAME = 19;
/** SYS_pidfd_open on x86_64 and aarch64 (the same number on every architecture since 5.3). */
const SYS_PIDFD_OPEN = 434;
const POLLIN = 0x001;

const enc = new TextEncoder();
function cpath(s: string): Uint8Array<ArrayBuffer> {
  const b = enc.encode(s);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

function errno(): number {
  const p = lib().__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

/** An open directory: entries as raw pointers, for callers that read names themselves. */
export interface Dir {
  /** File descriptor of the directory (for readLinkAt). */
  fd: number;
  /** Next entry's d_name pointer, or null at the end. "." and ".." included. */
  next(): Deno.PointerObject | null;
}

/**
 * Runs `fn` on the open directory `path` and closes it; returns null when the directory
 * cannot be opened (gone, or permission denied: `errno` says which).
 */
export function withDir<T>(path: string, fn: (d: Dir) => T): { value: T } | { errno: number } {
  const c = lib();
  const dp = c.opendir(cpath(path));
  if (dp === null) return { errno: errno() };
  try {
    const d: Dir = {
      fd: c.dirfd(dp),
      next() {
        const e = c.readdir(dp);
        return e === null ? null : Deno.UnsafePointer.offset(e, D_NAME);
      },
    };
    return { value: fn(d) };
  } finally {
    c.closedir(dp);
  }
}

/** Names in `path` (without "." and ".."), or null when it cannot be listed. */
export function listDir(path: string): string[] | null {
  const r = withDir(path, (d) => {
    const out: string[] = [];
    for (let p = d.next(); p !== null; p = d.next()) {
      const name = Deno.UnsafePointerView.getCString(p);
      if (name !== "." && name !== "..") out.push(name);
    }
    return out;
  });
  return "value" in r ? r.value : null;
}

const dec = new TextDecoder();

/** readlink(2) of `path` as text, or null when it cannot be read. */
export function readLink(path: string, buf = new Uint8Array(256)): string | null {
  const n = Number(lib().readlink(cpath(path), buf, BigInt(buf.length)));
  return n < 0 ? null : dec.decode(buf.subarray(0, n));
}

/** SYS_getdents64 (x86_64 217, aarch64 61). */
const SYS_GETDENTS64 = Deno.build.arch === "aarch64" ? 61 : 217;
const O_RDONLY_DIRECTORY_CLOEXEC = 0o2000000 | 0o200000;
/** struct linux_dirent64: d_ino u64, d_off i64, d_reclen u16, d_type u8, d_name. */
const DENT = { RECLEN: 16, NAME: 19 } as const;

/**
 * Reads a directory whose entries are numbers (/proc, /proc/<pid>/fd) with getdents64(2)
 * into one buffer: calls `fn(n, nameBuf)` for each numeric entry, with the name also as a
 * NUL-terminated C string in `nameBuf` (valid during the call). No allocation per entry.
 * Returns the directory's fd to the caller through `fn`'s third argument; -1 when the
 * directory cannot be opened.
 */
export class NumericDir {
  readonly #dents = new Uint8Array(32768);
  readonly #dv = new DataView(this.#dents.buffer);
  readonly #name = new Uint8Array(24);
  readonly #path = new Uint8Array(64);
  readonly #link = new Uint8Array(64);

  /** `path` as a C string in a reused buffer (paths here are short). */
  #cpath(path: string): Uint8Array {
    const r = enc.encodeInto(path, this.#path);
    this.#path[r.written] = 0;
    return this.#path;
  }

  /** Calls `fn(number, dirfd)` per numeric entry; returns false when `path` cannot be read. */
  each(path: string, fn: (n: number, dirfd: number) => void): boolean {
    const c = lib();
    const fd = c.open(this.#cpath(path), O_RDONLY_DIRECTORY_CLOEXEC);
    if (fd < 0) return false;
    try {
      const buf = this.#dents, dv = this.#dv, name = this.#name;
      for (;;) {
        const n = Number(c.getdents64(BigInt(SYS_GETDENTS64), fd, buf, BigInt(buf.length)));
        if (n <= 0) break;
        for (let off = 0; off < n;) {
          const reclen = dv.getUint16(off + DENT.RECLEN, true);
          let v = 0, k = 0, i = off + DENT.NAME;
          for (; buf[i] !== 0; i++, k++) {
            const d = buf[i] - 48;
            if (d < 0 || d > 9) {
              v = -1;
              break;
            }
            v = v * 10 + d;
            name[k] = buf[i];
          }
          if (v >= 0 && k > 0) {
            name[k] = 0;
            fn(v, fd);
          }
          off += reclen;
        }
      }
      return true;
    } finally {
      c.close(fd);
    }
  }

  /** The number in a `socket:[N]` link of the entry last passed to `each`'s callback, or -1. */
  socketInode(dirfd: number): number {
    const link = this.#link;
    const len = Number(lib().readlinkatBuf(dirfd, this.#name, link, BigInt(link.length)));
    // "socket:[" ... "]"
    if (
      len < 10 || link[0] !== 115 || link[6] !== 58 || link[7] !== 91 || link[len - 1] !== 93
    ) return -1;
    let ino = 0;
    for (let i = 8; i < len - 1; i++) ino = ino * 10 + (link[i] - 48);
    return ino;
  }
}

/** A pidfd for `pid` (pidfd_open(2)), or -1 when the kernel or the process says no. */
export function pidfdOpen(pid: number): number {
  const r = Number(lib().syscall(BigInt(SYS_PIDFD_OPEN), BigInt(pid), 0n));
  return r < 0 ? -1 : r;
}

/**
 * Resolves when the process behind `pidfd` has exited (the pidfd polls readable), or after
 * `timeoutMs` with false. Runs poll(2) on a helper thread, so the event loop keeps going.
 */
export async function waitPidfd(pidfd: number, timeoutMs: number): Promise<boolean> {
  const pfd = new Uint8Array(8);
  const v = new DataView(pfd.buffer);
  v.setInt32(0, pidfd, true);
  v.setInt16(4, POLLIN, true);
  const n = await lib().pollWait(pfd, 1n, timeoutMs);
  return n > 0;
}

/** close(2). */
export function closeFd(fd: number): void {
  if (fd >= 0) lib().close(fd);
}
