import { describe, expect, it } from 'vitest';
import { errnoMeaning } from '../../src/kernel/index.js';
import { writeError } from '../../src/kernel/kernel-errors.js';
import type { KernelOp } from '../../src/kernel/index.js';

const WRITE_OPS: KernelOp[] = ['unbind', 'setDriverOverride', 'clearDriverOverride', 'driversProbe', 'reset', 'setNumVfs'];
const ERRNOS = ['EBUSY', 'ENODEV', 'ENOTTY', 'EACCES', 'EPERM', 'EINVAL', 'ENOENT', 'EROFS', 'EIO', 'ERANGE', 'ENXIO', 'EAGAIN'];

describe('kernel errno sentences', () => {
  it.each(WRITE_OPS)('every common errno has its own words for %s, not a bare code', (op) => {
    for (const code of ERRNOS) expect(errnoMeaning(op, code)).not.toContain('the kernel returned');
  });

  it('an unknown errno is still named', () => {
    expect(errnoMeaning('reset', 'EHWPOISON')).toBe('the kernel returned EHWPOISON');
  });

  it('the sentence names the operation, the device, the errno, the value and the file', () => {
    const err = writeError({ op: 'unbind', bdf: '0000:03:00.0', path: '/sys/bus/pci/devices/0000:03:00.0/driver/unbind', value: '0000:03:00.0' }, 'EROFS');
    expect(err.message).toBe(
      'unbind of 0000:03:00.0 failed: the kernel refused (EROFS: the sysfs root is mounted read-only); wrote "0000:03:00.0" to /sys/bus/pci/devices/0000:03:00.0/driver/unbind',
    );
    expect(err).toMatchObject({ op: 'unbind', bdf: '0000:03:00.0', code: 'EROFS', path: '/sys/bus/pci/devices/0000:03:00.0/driver/unbind' });
  });

  it('the same errno reads differently where the kernel means something else by it', () => {
    expect(errnoMeaning('reset', 'ENOTTY')).toContain('no reset method works');
    expect(errnoMeaning('setNumVfs', 'EBUSY')).toContain('must go through 0 first');
    expect(errnoMeaning('unbind', 'ENODEV')).toContain('not bound to that driver');
    expect(errnoMeaning('driversProbe', 'ENODEV')).toContain('no such device');
  });
});
