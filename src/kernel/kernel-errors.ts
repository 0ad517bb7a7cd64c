/**
 * The kernel answers a sysfs write with an errno; these turn it into a sentence that names the
 * operation, the device and the file, and says what the errno means for that operation.
 */
import { KernelError, type KernelOp, type SysfsWrite } from './kernel-port.js';

/** What an errno means, whatever was written. */
const GENERIC: Record<string, string> = {
  EACCES: 'permission denied: writing sysfs needs root',
  EPERM: 'operation not permitted: writing sysfs needs root (CAP_SYS_ADMIN)',
  EBUSY: 'the device or its driver is busy',
  ENODEV: 'no such device, or not bound to that driver',
  ENOENT: 'the file does not exist: the device or this attribute is missing',
  ENOTTY: 'the kernel does not support this operation on this function',
  EINVAL: 'the kernel rejected the value',
  EROFS: 'the sysfs root is mounted read-only',
  EIO: 'input/output error: the device did not respond',
  ENXIO: 'the device is not reachable (powered down or removed)',
  ERANGE: 'the value is out of range for this device',
  EAGAIN: 'the device is locked by another operation; try again',
  ENOMEM: 'the kernel ran out of memory',
  ENOSPC: 'no space left for the new value',
  EEXIST: 'it already exists',
  EISDIR: 'the path is a directory, not an attribute',
  ENOTDIR: 'a part of the path is not a directory',
  EOPNOTSUPP: 'operation not supported',
  ETIMEDOUT: 'timed out',
};

/** What an errno means for one operation, where the kernel's reason is known. */
const BY_OP: Partial<Record<KernelOp, Record<string, string>>> = {
  unbind: {
    ENODEV: 'the device is not bound to that driver (it moved or was unbound meanwhile)',
    ENOENT: 'the device has no driver bound',
    EBUSY: 'the driver refuses to let go of the device now',
  },
  setDriverOverride: {
    EINVAL: 'the driver name is too long or empty',
  },
  driversProbe: {
    ENODEV: 'no such device on the PCI bus',
    EINVAL: 'the driver refused the device',
  },
  reset: {
    ENOTTY: 'no reset method works for this function now, e.g. a bus reset with a sibling still on the bus',
    ENOENT: 'the function has no reset file: the kernel knows no way to reset it',
    EINVAL: 'the kernel cannot use this reset method for the function now (e.g. a bus reset while another function shares the bus)',
    EAGAIN: 'the device is locked by another operation; try again',
    ENXIO: 'the device could not be woken up for the reset',
  },
  setNumVfs: {
    EBUSY: 'VFs are already enabled, and the count must go through 0 first (write 0, then the new count; that removes every VF)',
    ERANGE: 'more VFs than the device supports (see sriov_totalvfs)',
    ENOENT: 'the PF has no driver bound, or its driver cannot configure SR-IOV through sysfs',
    EINVAL: 'not a VF count the kernel accepts',
    EPERM: 'the PF driver refuses while VFs are assigned',
  },
  waitForDriver: {
    EINVAL: 'vfio-pci needs an IOMMU group and this function has none; it stays unbound',
    EBUSY: 'another driver holds the device',
  },
};

export function errnoMeaning(op: KernelOp, code: string): string {
  return BY_OP[op]?.[code] ?? GENERIC[code] ?? `the kernel returned ${code}`;
}

/** A name for the operation in the operator's words, e.g. `driver_override=vfio-pci`. */
export function opLabel(op: KernelOp, detail?: string): string {
  switch (op) {
    case 'unbind':
      return 'unbind';
    case 'setDriverOverride':
      return `driver_override=${detail ?? ''}`;
    case 'clearDriverOverride':
      return 'clearing driver_override';
    case 'driversProbe':
      return 'drivers_probe';
    case 'reset':
      return detail ? `${detail} reset` : 'reset';
    case 'setNumVfs':
      return `sriov_numvfs=${detail ?? ''}`;
    case 'waitForDriver':
      return detail ? `binding to ${detail}` : 'waiting for the driver to let go';
    case 'read':
      return 'reading';
  }
}

/** The errno name of a Node or simulator error (`EBUSY`), or EIO when it has none. */
export function errnoOf(err: unknown): string {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return 'EIO';
}

/** The error for a write the kernel refused. */
export function writeError(w: SysfsWrite, code: string, opts: { label?: string; meaning?: string } = {}): KernelError {
  const label = opts.label ?? opLabel(w.op);
  const meaning = opts.meaning ?? errnoMeaning(w.op, code);
  const msg = `${label} of ${w.bdf} failed: the kernel refused (${code}: ${meaning}); wrote ${JSON.stringify(w.value)} to ${w.path}`;
  return new KernelError(w.op, w.bdf, w.path, code, msg, w.value);
}

/** The error for a failure that is not one write (a wait, a missing file seen by a read). */
export function stateError(op: KernelOp, bdf: string, path: string, code: string, text: string): KernelError {
  const where = text.includes(code) ? path : `${code}; ${path}`;
  return new KernelError(op, bdf, path, code, `${text} (${where})`);
}
