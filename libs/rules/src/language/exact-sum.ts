// Exact floating-point summation (Shewchuk's algorithm, as in Python's math.fsum). A sum is
// kept as non-overlapping partials, so it does not depend on the order values were added in:
// summing per bucket and then across buckets gives bit-for-bit the same result as summing the
// events one by one. That is what lets incremental sums agree exactly with the oracle.

/** Non-overlapping partials whose exact total is the sum; [] is zero. */
export type ExactSum = readonly number[];

export function addToSum(partials: ExactSum, value: number): number[] {
  const next: number[] = [];
  let x = value;
  for (const partial of partials) {
    let y = partial;
    if (Math.abs(x) < Math.abs(y)) [x, y] = [y, x];
    const high = x + y;
    const low = y - (high - x);
    if (low !== 0) next.push(low);
    x = high;
  }
  if (x !== 0 || next.length === 0) next.push(x);
  return next.length === 1 && next[0] === 0 ? [] : next;
}

export function mergeSums(a: ExactSum, b: ExactSum): number[] {
  return b.reduce<number[]>((sum, partial) => addToSum(sum, partial), [...a]);
}

/** The correctly rounded value of an exact sum. */
export function sumValue(partials: ExactSum): number {
  let index = partials.length;
  if (index === 0) return 0;
  index -= 1;
  let high = partials[index] as number;
  let low = 0;
  while (index > 0) {
    index -= 1;
    const x = high;
    const y = partials[index] as number;
    high = x + y;
    const yr = high - x;
    low = y - yr;
    if (low !== 0) break;
  }
  if (
    index > 0 &&
    ((low < 0 && (partials[index - 1] as number) < 0) ||
      (low > 0 && (partials[index - 1] as number) > 0))
  ) {
    const y = low * 2;
    const x = high + y;
    const yr = x - high;
    if (y === yr) high = x;
  }
  return high;
}

export function exactSumOf(values: readonly number[]): number {
  return sumValue(values.reduce<number[]>((sum, value) => addToSum(sum, value), []));
}
