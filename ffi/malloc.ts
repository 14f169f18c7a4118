/**
 * glibc malloc tuning for `netmon serve`, through Deno's FFI. Request bodies are held in
 * buffers of 64 KiB to a few MiB; glibc raises its mmap threshold each time such a buffer
 * is freed, after which freed buffers stay in the heap instead of going back to the
 * kernel, so RSS keeps the high-water mark of every burst. A fixed threshold
 * (`M_MMAP_THRESHOLD`, which also turns the adjusting off) sends them back at once, and
 * `malloc_trim(0)` after a burst returns what the heaps keep free.
 *
 * Does nothing where there is no glibc or no FFI permission.
 *
 * @example
 * ```ts
 * import { tuneMalloc } from "./ffi/malloc.ts";
 * const trim = tuneMalloc(256 * 1024); // null when not available
 * trim?.();
 * ```
 */

const SYMBOLS = {
  mallopt: { parameters: ["i32", "i32"], result: "i32" },
  malloc_trim: { parameters: ["usize"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** mallopt(3) parameter numbers (glibc malloc.h). */
const M_MMAP_THRESHOLD = -3;

/**
 * Fixes glibc's mmap threshold at `mmapThreshold` bytes; returns a function that calls
 * malloc_trim(0), or null when glibc is not there (or FFI is not allowed).
 */
export function tuneMalloc(mmapThreshold: number): (() => void) | null {
  if (Deno.build.os !== "linux") return null;
  let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  try {
    lib = Deno.dlopen("libc.so.6", SYMBOLS);
  } catch {
    return null; // musl, or --allow-ffi not given
  }
  if (lib.symbols.mallopt(M_MMAP_THRESHOLD, mmapThreshold) !== 1) return null;
  return () => void lib.symbols.malloc_trim(0n);
}
