/**
 * The kernel's files, as paths under a sysfs root. A BDF becomes part of a path only after
 * parseBdf accepted it, and only in its canonical lower-case form.
 */
import { join } from 'node:path';
import { formatBdf, parseBdf } from '../pci/bdf.js';
import { KernelInputError } from './kernel-port.js';

/** The canonical `dddd:bb:dd.f` of a full address; throws BdfError for anything else. */
export function canonicalBdf(bdf: string): string {
  return formatBdf(parseBdf(bdf));
}

export interface DevicePaths {
  bdf: string;
  /** `bus/pci/devices/BDF` (a link into `devices/pci…`). */
  dir: string;
  driverLink: string;
  /** Through the `driver` link: the bound driver's own `unbind`. */
  unbind: string;
  driverOverride: string;
  reset: string;
  resetMethod: string;
  sriovNumVfs: string;
  sriovTotalVfs: string;
  iommuGroup: string;
}

export function devicePaths(sysfsRoot: string, bdf: string): DevicePaths {
  const canonical = canonicalBdf(bdf);
  const dir = join(sysfsRoot, 'bus/pci/devices', canonical);
  return {
    bdf: canonical,
    dir,
    driverLink: join(dir, 'driver'),
    unbind: join(dir, 'driver/unbind'),
    driverOverride: join(dir, 'driver_override'),
    reset: join(dir, 'reset'),
    resetMethod: join(dir, 'reset_method'),
    sriovNumVfs: join(dir, 'sriov_numvfs'),
    sriovTotalVfs: join(dir, 'sriov_totalvfs'),
    iommuGroup: join(dir, 'iommu_group'),
  };
}

export function driversProbePath(sysfsRoot: string): string {
  return join(sysfsRoot, 'bus/pci/drivers_probe');
}

/** Kernel driver names: letters, digits, `_`, `-`, `.`; never a path. */
const DRIVER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

export function checkDriverName(name: string): string {
  if (!DRIVER_NAME.test(name)) {
    throw new KernelInputError(`not a driver name: ${JSON.stringify(name)} (expected letters, digits, _ - ., e.g. vfio-pci)`);
  }
  return name;
}
