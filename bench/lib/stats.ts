/** Small statistics for benchmark figures. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
export const median = (values: readonly number[]) => percentile(values, 50);
export const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** The figures of one measured quantity over its repetitions. */
export function summary(values: readonly number[]) {
  return { median: round(median(values)), p99: round(percentile(values, 99)), min: round(Math.min(...values)), max: round(Math.max(...values)), n: values.length };
}
