/**
 * Small synchronous file reads for sysfs and procfs trees. A scan touches tens of thousands of
 * tiny attributes; the synchronous calls into one reused buffer cost a fraction of
 * `fs.promises.readFile` per file, and sysfs attributes answer from kernel memory, so nothing
 * waits on a disk. Every helper answers null when the file is absent or unreadable: a missing
 * attribute is information (no `reset_method`, no `msi_irqs`), not an error.
 */
import { closeSync, existsSync, openSync, opendirSync, readSync, readdirSync, readlinkSync } from 'node:fs';
import { posix as path } from 'node:path';

const scratch = Buffer.allocUnsafe(64 * 1024);

/** `read` on the open file, or null when it cannot be opened or read; the file is always closed. */
function withFile<T>(file: string, read: (fd: number) => T): T | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    return read(fd);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/**
 * A sysfs attribute as latin1 text (they are ASCII), or null. The kernel renders an attribute
 * whole (at most a page) on the first read, so one read is enough; procfs files that span
 * pages need `readText`.
 */
export function readAttr(file: string): string | null {
  return withFile(file, (fd) => scratch.toString('latin1', 0, readSync(fd, scratch, 0, scratch.length, 0)));
}

/** The whole file as latin1 text, read to its end, or null. */
export function readText(file: string): string | null {
  return withFile(file, (fd) => {
    // procfs files (interrupts on a many-CPU host, mountinfo) outgrow the scratch buffer: keep
    // each full buffer and go on to the end.
    const parts: string[] = [];
    let total = 0;
    for (;;) {
      const n = readSync(fd, scratch, total, scratch.length - total, null);
      if (n === 0) break;
      total += n;
      if (total === scratch.length) {
        parts.push(scratch.toString('latin1', 0, total));
        total = 0;
      }
    }
    parts.push(scratch.toString('latin1', 0, total));
    return parts.join('');
  });
}

/** The first line of a text attribute, trimmed; null when absent or empty. */
export function readLine(file: string): string | null {
  const text = readAttr(file);
  if (text === null) return null;
  const nl = text.indexOf('\n');
  const line = (nl < 0 ? text : text.slice(0, nl)).trim();
  return line === '' ? null : line;
}

/** A decimal or `0x` hexadecimal attribute (`irq`, `numa_node`, `vendor`), or null. */
export function readNumber(file: string): number | null {
  const line = readLine(file);
  return line === null ? null : parseNumber(line);
}

export function parseNumber(text: string): number | null {
  const s = text.trim();
  if (/^-?\d+$/.test(s)) return parseInt(s, 10);
  if (/^0x[0-9a-f]+$/i.test(s)) return parseInt(s.slice(2), 16);
  return null;
}

/**
 * Binary attributes are carved from shared slabs: a scan reads thousands of 4 KiB configuration
 * spaces, and one allocation per slab instead of per file keeps the garbage collector out of it.
 */
const SLAB = 1 << 20;
let slab = Buffer.allocUnsafeSlow(SLAB);
let slabUsed = 0;

/** Up to `max` bytes of a binary attribute (`config`), or null. */
export function readBytes(file: string, max = 4096): Uint8Array | null {
  return withFile(file, (fd) => {
    if (slabUsed + max > SLAB) {
      slab = Buffer.allocUnsafeSlow(Math.max(SLAB, max));
      slabUsed = 0;
    }
    let total = 0;
    while (total < max) {
      const want = max - total;
      const n = readSync(fd, slab, slabUsed + total, want, total);
      total += n;
      // A short read is the end: `config` is 64, 256 or 4096 bytes and comes in one piece.
      if (n < want) break;
    }
    const bytes = new Uint8Array(slab.buffer, slab.byteOffset + slabUsed, total);
    slabUsed += (total + 7) & ~7;
    return bytes;
  });
}

/** Whether a path exists, without the cost of a thrown error when it does not. */
export function exists(file: string): boolean {
  return existsSync(file);
}

export function listDir(dir: string): string[] | null {
  try {
    return readdirSync(dir);
  } catch {
    return null;
  }
}

/** Whether a directory has any entry, from its first one alone (a listing of thousands costs more). */
export function hasEntries(dir: string): boolean {
  try {
    const d = opendirSync(dir);
    try {
      return d.readSync() !== null;
    } finally {
      d.closeSync();
    }
  } catch {
    return false;
  }
}

export function readLink(link: string): string | null {
  try {
    return readlinkSync(link);
  } catch {
    return null;
  }
}

/** The last component of where a symlink points (`driver` -> `igb`, `iommu_group` -> `11`). */
export function linkName(link: string): string | null {
  const target = readLink(link);
  return target === null ? null : path.basename(target);
}

/**
 * Where a symlink points, as a path relative to `root`, following the link text only (as the
 * kernel's links are relative, this stays inside a snapshot tree). Null when it is not a link or
 * leaves the root.
 */
export function resolveLinkUnder(root: string, link: string): string | null {
  const target = readLink(link);
  if (target === null) return null;
  const absolute = path.resolve(path.dirname(link), target);
  const rel = path.relative(root, absolute);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return null;
  return rel;
}
