/**
 * PCI addresses. A BDF is `DDDD:BB:DD.F` in lower-case hex; anything else is rejected before it
 * can reach a sysfs path, so a name like `../../block` never becomes a file name.
 */

export interface Bdf {
  domain: number;
  bus: number;
  device: number;
  fn: number;
}

const FULL = /^([0-9a-f]{4}):([0-9a-f]{2}):([0-1][0-9a-f])\.([0-7])$/;
const SHORT = /^([0-9a-f]{2}):([0-1][0-9a-f])\.([0-7])$/;

export class BdfError extends Error {
  constructor(readonly input: string) {
    super(`not a PCI address: ${JSON.stringify(input)} (expected DDDD:BB:DD.F, e.g. 0000:03:00.0)`);
    this.name = 'BdfError';
  }
}

/** Parses a full `DDDD:BB:DD.F`; with `allowShort`, also `BB:DD.F` in domain 0. */
export function parseBdf(input: string, opts: { allowShort?: boolean } = {}): Bdf {
  const s = input.toLowerCase();
  // The device number's first digit is 0 or 1, so the patterns alone keep it within 0x1f.
  let m = FULL.exec(s);
  if (m) return { domain: parseInt(m[1], 16), bus: parseInt(m[2], 16), device: parseInt(m[3], 16), fn: parseInt(m[4], 16) };
  if (opts.allowShort) {
    m = SHORT.exec(s);
    if (m) return { domain: 0, bus: parseInt(m[1], 16), device: parseInt(m[2], 16), fn: parseInt(m[3], 16) };
  }
  throw new BdfError(input);
}

/** Whether `input` is a full BDF; cheap enough for every entry of a sysfs directory. */
export function isBdf(input: string): boolean {
  return FULL.test(input.toLowerCase());
}

export function formatBdf(b: Bdf): string {
  const h = (n: number, w: number) => n.toString(16).padStart(w, '0');
  return `${h(b.domain, 4)}:${h(b.bus, 2)}:${h(b.device, 2)}.${b.fn}`;
}

/** Canonical form of a user-typed address: `3:0.0` is not accepted, `03:00.0` becomes `0000:03:00.0`. */
export function normalizeBdf(input: string): string {
  return formatBdf(parseBdf(input, { allowShort: true }));
}
