/**
 * Files of the spool, opened so that nobody else can steer netmon's reads and writes:
 *
 * - every file is opened with `O_NOFOLLOW` (a symlink planted in place of a segment,
 *   the dead letter file or the lock is refused, never followed) and `O_NONBLOCK` (a
 *   FIFO planted there cannot block the open); what is opened must be a regular file
 *   with one link (no hard link to a file elsewhere);
 * - files netmon creates are 0600 and directories 0700 whatever the umask (an explicit
 *   chmod after creation);
 * - the spool directory must belong to the running user and must not be writable by
 *   group or others (PostgreSQL's rule for its data directory, Beats' `strict.perms`).
 *
 * Spool code reaches the file system only through {@link SpoolFs}, so a test can record
 * every write and sync in order (tests/submit/fsync_test.ts).
 *
 * @module
 */
import fs from "node:fs";
import fsp from "node:fs/promises";
import { RuntimeFailure, UsageError } from "../errors.ts";

const C = fs.constants;
/** Every open: no symlink, no blocking on a FIFO (Deno opens with O_CLOEXEC itself). */
const SAFE = C.O_NOFOLLOW | C.O_NONBLOCK;

/** The running user's uid (Linux: never null). */
export function myUid(): number {
  return Deno.uid() ?? -1;
}

/** How a spool file is opened. */
export type OpenMode =
  /** Append, created 0600 when missing. */
  | "append"
  /** Read only. */
  | "read"
  /** Read and write (truncating a torn line), never created. */
  | "update"
  /** Created for appending, failing when it exists (O_EXCL), 0600. */
  | "create";

/** An open spool file. */
export interface SpoolFile {
  /** Writes all of `data` at the end (append) or at `pos`. */
  write(data: Uint8Array, pos?: number): Promise<void>;
  /** fdatasync(2): the data (and the size) reached the disk. */
  datasync(): Promise<void>;
  truncate(len: number): Promise<void>;
  /** Reads up to `buf.length` bytes at `pos`; 0 at the end. */
  read(buf: Uint8Array, pos: number): Promise<number>;
  size(): Promise<number>;
  close(): Promise<void>;
}

/** The file operations the spool uses. */
export interface SpoolFs {
  open(path: string, mode: OpenMode): Promise<SpoolFile>;
  /** fsync(2) of a directory, after files in it were created, renamed or removed. */
  syncDir(path: string): Promise<void>;
}

const FLAGS: Record<OpenMode, number> = {
  append: C.O_WRONLY | C.O_APPEND | C.O_CREAT,
  read: C.O_RDONLY,
  update: C.O_RDWR,
  create: C.O_WRONLY | C.O_APPEND | C.O_CREAT | C.O_EXCL,
};

/** The errno code of a node:fs error ("ENOSPC", "EACCES", ...), or "". */
export function errorCode(e: unknown): string {
  const c = (e as { code?: unknown } | null)?.code;
  return typeof c === "string" ? c : "";
}

/** True for "the disk is full" (ENOSPC) and "over quota" (EDQUOT). */
export function isNoSpace(e: unknown): boolean {
  const c = errorCode(e);
  return c === "ENOSPC" || c === "EDQUOT";
}

export function isNotFound(e: unknown): boolean {
  return errorCode(e) === "ENOENT" || e instanceof Deno.errors.NotFound;
}

export function isPermission(e: unknown): boolean {
  const c = errorCode(e);
  return c === "EACCES" || c === "EPERM" || e instanceof Deno.errors.PermissionDenied;
}

/** A short reason for a file error: "permission denied", "a symbolic link", ... */
export function reason(e: unknown): string {
  switch (errorCode(e)) {
    case "ENOENT":
      return "no such file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ELOOP":
      return "a symbolic link (refused)";
    case "ENOSPC":
      return "no space left on device";
    case "EDQUOT":
      return "disk quota exceeded";
    case "EEXIST":
      return "already exists";
  }
  return e instanceof Error ? e.message.replace(/ \(os error \d+\)$/, "") : String(e);
}

/** A file that is not a plain, singly linked regular file (FIFO, device, hard link). */
export class NotPlainFile extends Error {
  readonly code = "ENOTPLAIN";
}

class NodeFile implements SpoolFile {
  constructor(private readonly fh: fsp.FileHandle) {}

  async write(data: Uint8Array, pos?: number): Promise<void> {
    let off = 0;
    while (off < data.length) {
      const at = pos === undefined ? null : pos + off;
      const { bytesWritten } = await this.fh.write(data, off, data.length - off, at);
      off += bytesWritten;
    }
  }

  datasync(): Promise<void> {
    return this.fh.datasync();
  }

  truncate(len: number): Promise<void> {
    return this.fh.truncate(len);
  }

  async read(buf: Uint8Array, pos: number): Promise<number> {
    return (await this.fh.read(buf, 0, buf.length, pos)).bytesRead;
  }

  async size(): Promise<number> {
    return (await this.fh.stat()).size;
  }

  close(): Promise<void> {
    return this.fh.close();
  }
}

/** The real file system, with the rules of this module. */
export const realFs: SpoolFs = {
  async open(path: string, mode: OpenMode): Promise<SpoolFile> {
    const fh = await fsp.open(path, FLAGS[mode] | SAFE, 0o600);
    try {
      const st = await fh.stat();
      if (!st.isFile() || st.nlink !== 1) {
        throw new NotPlainFile(
          `${path}: not a plain file (${
            st.isFile() ? `${st.nlink} hard links` : "not a regular file"
          })`,
        );
      }
      if (mode !== "read" && (st.mode & 0o777) !== 0o600 && st.uid === myUid()) {
        await fh.chmod(0o600);
      }
    } catch (e) {
      await fh.close();
      throw e;
    }
    return new NodeFile(fh);
  },
  async syncDir(path: string): Promise<void> {
    const fh = await fsp.open(path, C.O_RDONLY | C.O_DIRECTORY);
    try {
      await fh.sync();
    } catch {
      /* some file systems cannot sync a directory */
    } finally {
      await fh.close();
    }
  },
};

/** Reads a whole small file (lock, agent id) without following a symlink. */
export async function readSmall(sfs: SpoolFs, path: string, max = 4096): Promise<string> {
  const f = await sfs.open(path, "read");
  try {
    const buf = new Uint8Array(max);
    const n = await f.read(buf, 0);
    return new TextDecoder().decode(buf.subarray(0, n));
  } finally {
    await f.close();
  }
}

/** Creates `path` with `text` (0600, O_EXCL; synced unless `sync` is false). Throws when it exists. */
export async function createSmall(
  sfs: SpoolFs,
  path: string,
  text: string,
  sync = true,
): Promise<void> {
  const f = await sfs.open(path, "create");
  try {
    await f.write(new TextEncoder().encode(text));
    if (sync) await f.datasync();
  } finally {
    await f.close();
  }
}

/** User name of a uid from /etc/passwd, for messages ("uid 65534" when unknown). */
export function userName(uid: number): string {
  try {
    for (const line of Deno.readTextFileSync("/etc/passwd").split("\n")) {
      const f = line.split(":");
      if (f.length > 2 && Number(f[2]) === uid && f[2] !== "") return `${f[0]} (uid ${uid})`;
    }
  } catch { /* no passwd */ }
  return `uid ${uid}`;
}

/**
 * Creates the spool directory when missing (0700, parents too) and checks the rules:
 * a directory, owned by the running user, not writable by group or others. Throws a
 * one-line {@link RuntimeFailure} naming the fix.
 */
export async function prepareSpoolDir(dir: string): Promise<void> {
  let created = false;
  try {
    await Deno.stat(dir);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new RuntimeFailure(`cannot use spool directory ${dir}: ${reason(e)}`);
    }
    try {
      await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
      created = true;
    } catch (e2) {
      throw new RuntimeFailure(
        `cannot create spool directory ${dir}: ${reason(e2)}` +
          (isPermission(e2) ? `; create it for ${userName(myUid())} or pass --spool DIR` : ""),
      );
    }
  }
  if (created) await Deno.chmod(dir, 0o700);
  checkSpoolDir(dir, await Deno.stat(dir));
}

/** The ownership and mode rules for an existing spool directory. */
export function checkSpoolDir(dir: string, st: Deno.FileInfo): void {
  const uid = myUid();
  if (!st.isDirectory) throw new RuntimeFailure(`spool ${dir} is not a directory`);
  if (st.uid !== null && st.uid !== uid) {
    throw new RuntimeFailure(
      `spool directory ${dir} belongs to ${userName(st.uid)}, not to ${userName(uid)} ` +
        `who runs netmon: refused (chown it or pass --spool DIR)`,
    );
  }
  const mode = st.mode ?? 0;
  if ((mode & 0o022) !== 0) {
    throw new RuntimeFailure(
      `spool directory ${dir} is writable by ${mode & 0o020 ? "its group" : "others"} ` +
        `(mode ${(mode & 0o777).toString(8).padStart(4, "0")}): refused (chmod 700 ${dir})`,
    );
  }
}

/** Can `user` (uid, primary gid only, as after --user) search directory `st`? */
function searchable(st: Deno.FileInfo, user: { uid: number; gid: number }): boolean {
  const m = st.mode ?? 0;
  if (user.uid === 0) return true;
  if (st.uid === user.uid) return (m & 0o100) !== 0;
  if (st.gid === user.gid) return (m & 0o010) !== 0;
  return (m & 0o001) !== 0;
}

/**
 * Before root drops to `--user`: creates a missing spool directory for that user (0700,
 * owned by them; missing parents 0755) so the agent can use it after the drop. Throws a
 * one-line UsageError when the user could not reach it (e.g. the default spool under
 * root's home): pass --spool then. An existing directory is left as it is (Spool.open
 * checks it after the drop).
 */
export async function prepareSpoolFor(
  dir: string,
  user: { name: string; uid: number; gid: number },
): Promise<void> {
  const abs = dir.startsWith("/") ? dir : `${Deno.cwd()}/${dir}`;
  const parts = abs.split("/").filter((p) => p !== "");
  const missing: string[] = [];
  let path = "";
  for (const p of parts) {
    path += "/" + p;
    let st: Deno.FileInfo;
    try {
      st = await Deno.stat(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
      missing.push(path);
      continue;
    }
    if (missing.length > 0) break;
    if (st.isDirectory && path !== abs && !searchable(st, user)) {
      throw new UsageError(
        `--user ${user.name} cannot reach the spool directory ${dir} (${path} is not open to ` +
          `${user.name}): pass --spool DIR with a directory ${user.name} may use`,
      );
    }
  }
  if (missing.length === 0) return;
  for (const m of missing) {
    const leaf = m === missing[missing.length - 1];
    await Deno.mkdir(m, { mode: leaf ? 0o700 : 0o755 });
    await Deno.chmod(m, leaf ? 0o700 : 0o755);
  }
  await Deno.chown(missing[missing.length - 1], user.uid, user.gid);
}
