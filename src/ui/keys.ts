/**
 * Decodes raw terminal input (as read in raw mode) into key events. Pure.
 *
 * @module
 */

export type KeyName =
  | "tab"
  | "backtab"
  | "left"
  | "right"
  | "up"
  | "down"
  | "pageup"
  | "pagedown"
  | "home"
  | "end"
  | "enter"
  | "backspace"
  | "escape"
  | "ctrl-c"
  | "ctrl-d"
  | "ctrl-l"
  | "char"
  | "unknown";

export interface Key {
  name: KeyName;
  /** The character for `char`. */
  ch?: string;
}

/** CSI / SS3 final sequences -> key. */
const SEQUENCES: Record<string, KeyName> = {
  "[A": "up",
  "[B": "down",
  "[C": "right",
  "[D": "left",
  "OA": "up",
  "OB": "down",
  "OC": "right",
  "OD": "left",
  "[Z": "backtab",
  "[5~": "pageup",
  "[6~": "pagedown",
  "[H": "home",
  "[F": "end",
  "OH": "home",
  "OF": "end",
  "[1~": "home",
  "[4~": "end",
  "[7~": "home",
  "[8~": "end",
};

const dec = new TextDecoder();

/**
 * Splits one read of raw input into keys.
 *
 * @example
 * ```ts
 * parseKeys(new TextEncoder().encode("\x1b[Cq")); // [{name: "right"}, {name: "char", ch: "q"}]
 * ```
 */
export function parseKeys(bytes: Uint8Array): Key[] {
  const s = dec.decode(bytes);
  const keys: Key[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    const code = c.charCodeAt(0);
    if (c === "\x1b") {
      // ESC [ params final | ESC O final | lone ESC
      const m = /^(\[[0-9;]*[A-Za-z~]|O[A-Za-z])/.exec(s.slice(i + 1));
      if (m) {
        // Drop modifier parameters (e.g. "[1;5C" -> "[C") except for the ~ forms.
        const seq = m[1].endsWith("~") ? m[1] : m[1].replace(/^\[[0-9;]*/, "[");
        keys.push({ name: SEQUENCES[seq] ?? "unknown" });
        i += m[0].length;
      } else keys.push({ name: "escape" });
    } else if (c === "\t") keys.push({ name: "tab" });
    else if (c === "\r" || c === "\n") keys.push({ name: "enter" });
    else if (code === 0x7f || code === 0x08) keys.push({ name: "backspace" });
    else if (code === 0x03) keys.push({ name: "ctrl-c" });
    else if (code === 0x04) keys.push({ name: "ctrl-d" });
    else if (code === 0x0c) keys.push({ name: "ctrl-l" });
    else if (code < 0x20) keys.push({ name: "unknown" });
    else keys.push({ name: "char", ch: c });
  }
  return keys;
}
