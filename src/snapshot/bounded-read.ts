/**
 * One file read for a snapshot: at most `max` bytes, never through a symlink, never from anything
 * but a regular file, and the kernel's errno kept when the read fails (sysfs answers EINVAL for
 * the speed of a link that is down, ENOTSUP for a port id the driver does not have).
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { errnoOf } from '../kernel/kernel-errors.js';

export type BoundedRead = { ok: true; data: Buffer; truncated: boolean } | { ok: false; errno: string };

const scratch = Buffer.allocUnsafe(64 * 1024);

export function readBounded(file: string, max: number): BoundedRead {
  let fd: number;
  try {
    // O_NOFOLLOW: a link swapped in after the directory was listed is not followed out of the tree.
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    return { ok: false, errno: errnoOf(err) };
  }
  try {
    if (!fstatSync(fd).isFile()) return { ok: false, errno: 'EINVAL' };
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      // Sequential reads: binary attributes such as `config` answer at the file offset.
      const n = readSync(fd, scratch, 0, Math.min(scratch.length, max - total + 1), null);
      if (n === 0) break;
      chunks.push(Buffer.from(scratch.subarray(0, n)));
      total += n;
      if (total > max) {
        const data = Buffer.concat(chunks).subarray(0, max);
        return { ok: true, data, truncated: true };
      }
    }
    return { ok: true, data: Buffer.concat(chunks), truncated: false };
  } catch (err) {
    return { ok: false, errno: errnoOf(err) };
  } finally {
    closeSync(fd);
  }
}
