/**
 * Small synchronous file reads for sysfs and procfs trees. A scan touches tens of thousands of
 * tiny attributes; the synchronous calls into one reused buffer cost a fraction of
 * `fs.promises.readFile` per file, and sysfs attributes answer from kernel memory, so nothing
 * waits on a disk. Every helper answers null when the file is absent or unreadable: a missing
 * attribute is information (no `reset_method`, no `msi_irqs`), not an error.
 */
import { closeSync, openSync, readSync, readdirSync, readlinkSync } from 'node:fs';
import { posix as path } from 'node:path';

const scratch = Buffer.allocUnsafe(64 * 1024);

/** The whole file as latin1 text (sysfs attributes are ASCII), or null. */
export function readText(file: string): string | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    let total = 0;
    for (;;) {
      const n = readSync(fd, scratch, total, scratch.length - total, null);
      if (n === 0) break;
      total += n;
      if (total === scratch.length) break;
    }
    return scratch.toString('latin1', 0, total);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** The first line of a text attribute, trimmed; null when absent or empty. */
export function readLine(file: string): string | null {
  const text = readText(file);
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

/** Up to `max` bytes of a binary attribute (`config`), or null. */
export function readBytes(file: string, max = 4096): Uint8Array | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const out = Buffer.allocUnsafe(max);
    let total = 0;
    while (total < max) {
      const n = readSync(fd, out, total, max - total, total);
      if (n === 0) break;
      total += n;
    }
    return new Uint8Array(out.buffer, out.byteOffset, total);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

export function listDir(dir: string): string[] | null {
  try {
    return readdirSync(dir);
  } catch {
    return null;
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
