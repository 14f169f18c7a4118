/** Option value parsers for commander that raise one-line usage errors. */
import { InvalidArgumentError } from "@commander-js/extra-typings";

export function intArg(min: number, max: number) {
  return (v: string): number => {
    if (!/^-?\d+$/.test(v.trim())) {
      throw new InvalidArgumentError(`expected an integer, got '${v}'`);
    }
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`must be between ${min} and ${max}`);
    return n;
  };
}

export function numArg(min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (v.trim() === "" || !Number.isFinite(n)) {
      throw new InvalidArgumentError(`expected a number, got '${v}'`);
    }
    if (n < min || n > max) throw new InvalidArgumentError(`must be between ${min} and ${max}`);
    return n;
  };
}

/** Collects a repeatable option into a list. */
export function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}
