/**
 * Interrupt counts from /proc/interrupts only ever grow (until a driver rebinds and the vectors
 * are new): the rate is the difference between samples; a drop means a reset, shown as 0.
 */
export function interruptRates(counts: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < counts.length; i++) out.push(Math.max(0, counts[i] - counts[i - 1]));
  return out;
}

/** The newest `n` values, for a chart that is `n` columns wide. */
export function newest(values: readonly number[], n: number): number[] {
  return n <= 0 ? [] : values.slice(Math.max(0, values.length - n));
}

/** `03:00.0 now 120 max 410`, or a word on why there is nothing to draw. */
export function rateTitle(bdf: string | null, rates: readonly number[]): string {
  if (!bdf) return 'no device';
  const short = bdf.startsWith('0000:') ? bdf.slice(5) : bdf;
  if (rates.length === 0) return `${short} no samples`;
  return `${short} now ${rates[rates.length - 1]} max ${Math.max(...rates)}`;
}
