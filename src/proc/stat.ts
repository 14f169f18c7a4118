/**
 * /proc/<pid>/stat: process state and start time. The file has no header; its fields are
 * fixed by proc(5). The command name (field 2) is in parentheses and may itself contain
 * spaces and parentheses, so fields are counted from the *last* `)`.
 *
 * @module
 */

export interface ProcStat {
  pid: number;
  comm: string;
  /** One letter: R, S, D, Z (zombie), T, t, X (dead), I, ... */
  state: string;
  /** Field 22: start time in clock ticks after boot; changes when the pid is reused. */
  startTime: number;
}

/** Parses /proc/<pid>/stat, or returns null when it does not have the expected shape. */
export function parseStat(text: string): ProcStat | null {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return null;
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 1).trim().split(/\s+/);
  // rest[0] is field 3 (state), so field N is rest[N - 3].
  const state = rest[0];
  const start = Number(rest[22 - 3]);
  if (!Number.isInteger(pid) || !state || !Number.isFinite(start)) return null;
  return { pid, comm: text.slice(open + 1, close), state, startTime: start };
}
