/**
 * Private files of the store: the SQLite database is created 0600 before SQLite opens it
 * (SQLite gives the -wal and -shm files the database file's mode) and missing parent
 * directories 0700, whatever the umask (chmod after create). An existing database readable
 * by other users is left as it is and reported.
 *
 * @example
 * ```ts
 * import { preparePrivateFile } from "./files.ts";
 * preparePrivateFile("/var/lib/netmon/netmon.sqlite", log); // then open it with SQLite
 * ```
 * @module
 */
import type { Logger } from "../log/mod.ts";

function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  if (i < 0) return ".";
  return i === 0 ? "/" : path.slice(0, i);
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** Creates the missing directories of `dir`, each 0700 (chmod after mkdir: umask-proof). */
export function makePrivateDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; d !== "/" && d !== "." && !exists(d); d = dirname(d)) missing.push(d);
  for (const d of missing.reverse()) {
    try {
      Deno.mkdirSync(d, { mode: 0o700 });
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      continue; // made by someone else meanwhile: not ours to chmod
    }
    Deno.chmodSync(d, 0o700);
  }
}

/**
 * Makes sure the database file exists with mode 0600 before SQLite opens it; an existing
 * file readable by others is kept as it is and reported.
 */
export function preparePrivateFile(path: string, log?: Logger): void {
  if (path === ":memory:" || path === "" || path.startsWith("file:")) return;
  makePrivateDirs(dirname(path));
  try {
    const f = Deno.openSync(path, { write: true, createNew: true, mode: 0o600 });
    f.close();
    Deno.chmodSync(path, 0o600);
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    const mode = (Deno.statSync(path).mode ?? 0) & 0o777;
    if ((mode & 0o077) !== 0) {
      log?.warn(
        `serve: database ${path} is readable by other users (mode ${
          mode.toString(8).padStart(4, "0")
        }); chmod 600 ${path} ${path}-wal ${path}-shm`,
      );
    }
  }
}
