/** "Did you mean ...?" for filter names: the closest candidate by edit distance. */

/** Optimal string alignment distance (Levenshtein plus adjacent swaps), case-insensitive. */
export function editDistance(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = [];
  for (let i = 0; i < rows; i++) {
    d.push(new Array<number>(cols).fill(0));
    d[i][0] = i;
  }
  for (let j = 0; j < cols; j++) d[0][j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, d[i - 2][j - 2] + 1);
      }
      d[i][j] = v;
    }
  }
  return d[rows - 1][cols - 1];
}

function commonPrefix(a: string, b: string): number {
  a = a.toLowerCase();
  b = b.toLowerCase();
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/**
 * The candidate closest to `name`; ties go to the longer common prefix, then the first.
 *
 * @example
 * ```ts
 * import { closest } from "./src/filter/suggest.ts";
 * closest("Source_Adress", ["Source_Address", "Destination_Address"]); // "Source_Address"
 * ```
 */
export function closest(name: string, candidates: readonly string[]): string {
  let best = candidates[0] ?? "";
  let bestD = Infinity;
  let bestP = -1;
  for (const c of candidates) {
    const d = editDistance(name, c);
    const p = commonPrefix(name, c);
    if (d < bestD || (d === bestD && p > bestP)) {
      bestD = d;
      bestP = p;
      best = c;
    }
  }
  return best;
}
