/**
 * Reading filter arguments: inline JSON (the argument starts with `{` or `[`) or the
 * path of a file. Both are JSONC: comments and trailing commas are accepted
 * (jsonc-parser), anything else that is not JSON is an error with line and column.
 */
import { parse, type ParseError, printParseErrorCode } from "jsonc-parser";

/** The text of one filter argument and how to name it in messages. */
export interface FilterSource {
  /** "inline" or the file path as given. */
  origin: string;
  text: string;
}

/** True when the argument is inline JSON rather than a file path. */
export function isInline(arg: string): boolean {
  return /^\s*[[{]/.test(arg);
}

/** Reads the argument's text (the file for a path). Throws Error with a short reason. */
export async function readFilterSource(arg: string): Promise<FilterSource> {
  if (isInline(arg)) return { origin: "inline", text: arg };
  try {
    return { origin: arg, text: await Deno.readTextFile(arg) };
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "no such file (inline JSON must start with { or [)"
      : e instanceof Error
      ? e.message
      : String(e);
    throw new Error(`cannot read: ${why}`);
  }
}

/**
 * Parses JSONC text. Throws Error "line L column C: <problem>" at the first syntax error.
 *
 * @example
 * ```ts
 * import { parseJsonc } from "./src/filter/load.ts";
 * parseJsonc('{ "TCP": { "Destination_Port": 5000, } } // trailing comma ok');
 * ```
 */
export function parseJsonc(text: string): unknown {
  const errors: ParseError[] = [];
  const value: unknown = parse(text, errors, {
    allowTrailingComma: true,
    disallowComments: false,
    allowEmptyContent: false,
  });
  if (errors.length > 0) {
    const e = errors[0];
    const before = text.slice(0, e.offset);
    const line = before.split("\n").length;
    const column = e.offset - before.lastIndexOf("\n");
    throw new Error(
      `line ${line} column ${column}: invalid JSON (${problemText(printParseErrorCode(e.error))})`,
    );
  }
  return value;
}

/** "PropertyNameExpected" -> "property name expected". */
function problemText(code: string): string {
  return code.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}
