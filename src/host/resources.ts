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

/** Resources that are assigned (non-zero), with kinds that depend on whether this is a bridge. */
export function parseResources(text: string | null, pageSize = 4096): Bar[] {
  if (text === null) return [];
  const bars: Bar[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index];
    // Most lines are unassigned resources: all zeros, flags included.
    if (line.endsWith(' 0x0000000000000000') || line === '') continue;
    const parts = line.trim().split(/\s+/);
    if (parts.length < 3) continue;
    const [startHex, endHex, flagsHex] = parts;
    const flags = parseInt(flagsHex, 16);
    if (!flags || !(flags & (IORESOURCE_IO | IORESOURCE_MEM))) continue;
    const start = BigInt(startHex);
    const end = BigInt(endHex);
    if (end <= start && start === 0n) continue;
    const size = Number(end - start + 1n);
    const space = flags & IORESOURCE_MEM ? 'mem' : 'io';
    bars.push({
      index,
      kind: kindOf(index),
      space,
      is64Bit: (flags & IORESOURCE_MEM_64) !== 0,
      prefetchable: (flags & IORESOURCE_PREFETCH) !== 0,
      start: '0x' + start.toString(16),
      size,
      pageAligned: space === 'mem' && start % BigInt(pageSize) === 0n,
    });
  }
  return bars;
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
