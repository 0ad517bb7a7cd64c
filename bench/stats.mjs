// Order statistics the benchmarks report: medians of rounds, percentiles of latencies.

/** The value at percentile `p` (0-100) of `xs`, nearest rank. */
export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/** The median (for an even count, the upper of the two middle values). */
export const median = (xs) => percentile(xs, 50);
