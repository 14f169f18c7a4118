/**
 * libc through Deno's FFI: only the calls live capture needs. The library is opened on
 * first use, so commands that never capture live do not need `--allow-ffi`.
 *
 * Synchronous symbols run on the JS thread, so `errno()` read right after a failed call
 * belongs to that call. `pollWait` is declared `nonblocking: true`: it runs on a helper
 * thread and returns a Promise, so the event loop keeps running while it waits (its errno
 * is not readable; callers treat a negative result as "woke up, look again").
 *
 * @example
 * ```ts
 * import { libc, errno } from "./ffi/libc.ts";
 * const fd = libc().socket(17, 3, 0);
 * if (fd < 0) console.log("socket failed, errno", errno());
 * ```
 */

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  mmap: { parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"], result: "pointer" },
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
  /** poll(2) on the JS thread; only with a zero timeout. */
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  /** poll(2) on a helper thread: the way to wait without blocking the event loop. */
  pollWait: {
    name: "poll",
    parameters: ["buffer", "u64", "i32"],
    result: "i32",
    nonblocking: true,
  },
  recvmmsg: { parameters: ["i32", "buffer", "u32", "i32", "pointer"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  if_nametoindex: { parameters: ["buffer"], result: "u32" },
  getpwnam: { parameters: ["buffer"], result: "pointer" },
  setgroups: { parameters: ["usize", "buffer"], result: "i32" },
  setgid: { parameters: ["u32"], result: "i32" },
  setuid: { parameters: ["u32"], result: "i32" },
  /** For sealing descriptors before --user (src/capture/seal.ts). */
  memfd_create: { parameters: ["buffer", "u32"], result: "i32" },
  dup2: { parameters: ["i32", "i32"], result: "i32" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  strerror: { parameters: ["i32"], result: "pointer" },
  __errno_location: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | null = null;

/** The libc symbols (opens libc.so.6 on first call). */
export function libc(): Libc {
  if (lib === null) lib = Deno.dlopen("libc.so.6", SYMBOLS);
  return lib.symbols;
}

/** errno of the last failed synchronous call on this thread. */
export function errno(): number {
  const p = libc().__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32(0);
}

/** strerror(n) as a JS string. */
export function strerror(n: number): string {
  const p = libc().strerror(n);
  return p === null ? `errno ${n}` : Deno.UnsafePointerView.getCString(p);
}

/** A NUL-terminated copy of `s` for `buffer` parameters. */
export function cstr(s: string): Uint8Array<ArrayBuffer> {
  const b = new TextEncoder().encode(s);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

/** Host-to-network byte order for 16-bit values. */
export function htons(v: number): number {
  return ((v & 0xff) << 8) | ((v >> 8) & 0xff);
}

/** An error from a libc call, carrying errno. */
export class SysError extends Error {
  readonly errno: number;
  readonly call: string;
  constructor(call: string, err: number) {
    super(`${call}: ${strerror(err)}`);
    this.name = "SysError";
    this.call = call;
    this.errno = err;
  }
}

/** Throws a {@link SysError} with the current errno when `rc < 0`. */
export function check(rc: number, call: string): number {
  if (rc < 0) throw new SysError(call, errno());
  return rc;
}
