/**
 * Errors that reach the user. Anything thrown as a {@link UsageError} is printed
 * by main.ts as one line on stderr (no stack trace) and exits with its code.
 *
 * @example
 * ```ts
 * throw new UsageError("unknown interface 'eth9' (have: lo, eth0)");
 * ```
 */
export class UsageError extends Error {
  /** Process exit code: 2 for user mistakes (bad flags, bad config, bad filter). */
  readonly exitCode: number;
  constructor(message: string, exitCode = 2) {
    super(message);
    this.name = "UsageError";
    this.exitCode = exitCode;
  }
}

/** A runtime failure the user should see as one line (exit 1), e.g. a capture file cut short. */
export class RuntimeFailure extends UsageError {
  constructor(message: string, exitCode = 1) {
    super(message, exitCode);
    this.name = "RuntimeFailure";
  }
}

/** Short text for any thrown value, for one-line error output. */
export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
