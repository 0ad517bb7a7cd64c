/**
 * The `resource` attribute: one line per resource, `start end flags` in hex. Lines 0-5 are the
 * BARs, 6 the expansion ROM, 7-12 the SR-IOV VF BARs of a physical function, and on a bridge the
 * lines after them its windows (include/linux/pci.h, PCI_STD_RESOURCES .. PCI_BRIDGE_RESOURCES).
 */

/** include/linux/ioport.h */
const IORESOURCE_IO = 0x100;
const IORESOURCE_MEM = 0x200;
const IORESOURCE_PREFETCH = 0x2000;
const IORESOURCE_MEM_64 = 0x100000;

export const ROM_INDEX = 6;
const IOV_FIRST = 7;
const IOV_LAST = 12;

export type BarKind = 'bar' | 'rom' | 'vf-bar' | 'window';

export interface Bar {
  /** Line number in `resource` (BAR n is index n; VF BAR n is index 7+n). */
  index: number;
  kind: BarKind;
  space: 'mem' | 'io';
  is64Bit: boolean;
  prefetchable: boolean;
  /** Hex, exact: addresses may exceed 2^53. */
  start: string;
  size: number;
  /** Memory BARs only: the start is a multiple of the page size. */
  pageAligned: boolean;
}

/** The ending of an unassigned resource line: all zeros, flags included. */
const UNASSIGNED = ' 0x0000000000000000';

/** Resources that are assigned (non-zero), with kinds that depend on whether this is a bridge. */
export function parseResources(text: string | null, pageSize = 4096): Bar[] {
  if (text === null) return [];
  const bars: Bar[] = [];
  // Line by line without splitting: most lines are unassigned, and a scan reads thousands of files.
  for (let index = 0, start = 0; start <= text.length; index++) {
    const nl = text.indexOf('\n', start);
    const end = nl < 0 ? text.length : nl;
    const unassigned = end === start || (end - start >= UNASSIGNED.length && text.startsWith(UNASSIGNED, end - UNASSIGNED.length));
    if (!unassigned) {
      const bar = parseLine(text.slice(start, end), index, pageSize);
      if (bar) bars.push(bar);
    }
    if (nl < 0) break;
    start = nl + 1;
  }
  return bars;
}

/** The kernel's own format (`0x%016llx 0x%016llx 0x%016llx`), read without splitting. */
const KERNEL_LINE = /^0x[0-9a-f]{16} 0x[0-9a-f]{16} 0x[0-9a-f]{16}$/;

function parseLine(line: string, index: number, pageSize: number): Bar | null {
  const parts = KERNEL_LINE.test(line) ? [line.slice(0, 18), line.slice(19, 37), line.slice(38)] : line.trim().split(/\s+/);
  if (parts.length < 3) return null;
  const [startHex, endHex, flagsHex] = parts;
  const flags = parseInt(flagsHex, 16);
  if (!flags || !(flags & (IORESOURCE_IO | IORESOURCE_MEM))) return null;
  const space = flags & IORESOURCE_MEM ? 'mem' : 'io';
  // Addresses below 2^53 are exact as numbers, which cost far less than BigInts; above, BigInts.
  const start = exactHex(startHex);
  const end = exactHex(endHex);
  let at: { start: string; size: number; pageAligned: boolean } | null;
  if (start !== null && end !== null && Number.isSafeInteger(pageSize) && pageSize > 0) {
    at = end <= start && start === 0 ? null : { start: hexDigits(startHex), size: end - start + 1, pageAligned: space === 'mem' && start % pageSize === 0 };
  } else {
    const bigStart = BigInt(startHex);
    const bigEnd = BigInt(endHex);
    at =
      bigEnd <= bigStart && bigStart === 0n
        ? null
        : { start: bigStart.toString(16), size: Number(bigEnd - bigStart + 1n), pageAligned: space === 'mem' && bigStart % BigInt(pageSize) === 0n };
  }
  if (at === null) return null;
  // One literal with every field: the same object shape for every BAR.
  return {
    index,
    kind: kindOf(index),
    space,
    is64Bit: (flags & IORESOURCE_MEM_64) !== 0,
    prefetchable: (flags & IORESOURCE_PREFETCH) !== 0,
    start: '0x' + at.start,
    size: at.size,
    pageAligned: at.pageAligned,
  };
}

const HEX = /^0x[0-9a-f]+$/i;

/** The digits of a `0x` hex number as `toString(16)` writes its value: lower case, no leading zeros. */
function hexDigits(hex: string): string {
  let first = 2;
  while (first < hex.length - 1 && hex.charCodeAt(first) === 0x30) first++;
  return hex.slice(first).toLowerCase();
}

/** A `0x` hex number as a JavaScript number when that is exact, else null. */
function exactHex(s: string): number | null {
  if (!HEX.test(s)) return null;
  const n = parseInt(s.slice(2), 16);
  return n <= Number.MAX_SAFE_INTEGER ? n : null;
}

function kindOf(index: number): BarKind {
  if (index < ROM_INDEX) return 'bar';
  if (index === ROM_INDEX) return 'rom';
  if (index >= IOV_FIRST && index <= IOV_LAST) return 'vf-bar';
  return 'window';
}

/**
 * Memory BARs that vfio-pci cannot map into a guest directly: smaller than a page, or starting
 * off a page boundary. QEMU then traps every access to them, which is slow, and some devices
 * misbehave; I/O BARs are always trapped and do not count.
 */
export function unmappableBars(bars: readonly Bar[], pageSize = 4096): Bar[] {
  return bars.filter((b) => b.kind === 'bar' && b.space === 'mem' && (b.size < pageSize || !b.pageAligned));
}
