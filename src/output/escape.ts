/**
 * Terminal-safe text: every human output (capture text lines, the exit summary, log
 * lines, error lines, the `proc` view and the listings) passes wire strings through
 * {@link escapeControl}, so a frame cannot move the cursor, clear the screen, set the
 * window title or fake a summary line. Like tshark: C0 controls and DEL become `\n`,
 * `\t`, `\x1b`..., C1 controls and Unicode format characters (bidi overrides, zero
 * width) become `\u009b`, `\u202e`...; everything else is kept, and backslashes stay as
 * they are, so escaping twice changes nothing.
 *
 * @example
 * ```ts
 * escapeControl("S1\x1b]0;pwned\x07"); // "S1\\x1b]0;pwned\\a"
 * ```
 * @module
 */

const UNSAFE = /[\p{Cc}\p{Cf}]/u;
const UNSAFE_ALL = /[\p{Cc}\p{Cf}]/gu;

const NAMED: Record<string, string> = {
  "\x07": "\\a",
  "\b": "\\b",
  "\t": "\\t",
  "\n": "\\n",
  "\v": "\\v",
  "\f": "\\f",
  "\r": "\\r",
};

function escapeOne(c: string): string {
  const named = NAMED[c];
  if (named !== undefined) return named;
  const code = c.codePointAt(0)!;
  if (code < 0x80) return "\\x" + code.toString(16).padStart(2, "0");
  return "\\u" + code.toString(16).padStart(code > 0xffff ? 6 : 4, "0");
}

/** `s` with control and format characters replaced by visible escapes. */
export function escapeControl(s: string): string {
  return UNSAFE.test(s) ? s.replace(UNSAFE_ALL, escapeOne) : s;
}
