/**
 * How a port touches files: the real kernel's sysfs, a recorder for `--dry-run`, or the
 * simulator. The port's logic (which file, which value, in which order) is the same for all.
 */
import { constants, promises as fs, readFileSync, readlinkSync, statSync } from 'node:fs';
import type { SysfsWrite } from './kernel-port.js';

export interface SysfsIo {
  /** Writes `w.value` to `w.path`; rejects with an error carrying the errno as `code`. */
  write(w: SysfsWrite): Promise<void>;
  /** The file's text, or null when it does not exist. */
  readText(path: string): Promise<string | null>;
  /** A symlink's target, or null when there is no link. */
  readLink(path: string): Promise<string | null>;
  /** Whether the path exists (following links). */
  exists(path: string): Promise<boolean>;
}

function isMissing(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Reads as everyone does; shared by the real, recording and simulated I/O. They are synchronous:
 * a sysfs attribute, link or directory is answered from the kernel's memory at once, and a trip
 * through libuv's thread pool for each would cost more than the read. Writes stay asynchronous: a
 * store to `reset` or `drivers_probe` can take seconds.
 */
function readTextSync(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

function readLinkSync(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch (err) {
    if (isMissing(err) || (err as { code?: unknown }).code === 'EINVAL') return null;
    throw err;
  }
}

function existsNow(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
}

/** A failure becomes a rejection, as the asynchronous contract promises. */
const settled =
  <T>(read: (path: string) => T) =>
  (path: string): Promise<T> => {
    try {
      return Promise.resolve(read(path));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  };

export const fileReads: Pick<SysfsIo, 'readText' | 'readLink' | 'exists'> = {
  readText: settled(readTextSync),
  readLink: settled(readLinkSync),
  exists: settled(existsNow),
};

/**
 * Writes the way `echo` into sysfs does, but without ever creating a file: one open for writing
 * (truncating, which sysfs ignores), one write(2) of the whole value, so the kernel sees it in
 * a single store call and its errno comes back from that call.
 */
export async function writeSysfsFile(path: string, value: string): Promise<void> {
  const handle = await fs.open(path, constants.O_WRONLY | constants.O_TRUNC);
  try {
    const buf = Buffer.from(value, 'utf8');
    const { bytesWritten } = await handle.write(buf, 0, buf.length, null);
    if (bytesWritten !== buf.length) {
      throw Object.assign(new Error(`short write to ${path}`), { code: 'EIO' });
    }
  } finally {
    await handle.close();
  }
}

export const realIo: SysfsIo = {
  ...fileReads,
  write: (w) => writeSysfsFile(w.path, w.value),
};

/**
 * Records writes and performs none. A write to a file that does not exist fails as it would
 * for real (ENOENT), so a dry run lists only writes the kernel would receive.
 */
export class RecordingIo implements SysfsIo {
  readonly writes: SysfsWrite[] = [];
  readText = fileReads.readText;
  readLink = fileReads.readLink;
  exists = fileReads.exists;

  async write(w: SysfsWrite): Promise<void> {
    if (!(await this.exists(w.path))) {
      throw Object.assign(new Error(`no such file: ${w.path}`), { code: 'ENOENT' });
    }
    this.writes.push({ ...w });
  }
}
