/**
 * What the simulated kernel knows about drivers: which ones are stubs, which VF driver goes with
 * which PF driver, and the id table (who binds a device without an override) as first seen in a tree.
 */
import type { SimState } from './sim-state.js';
import type { SimTree } from './sim-tree.js';
import { parseResetMethods } from '../pci/sysfs-attributes.js';

/** Drivers that bind whatever they are told to by `driver_override`, and are nobody's own driver. */
export const STUB_DRIVERS = new Set(['vfio-pci', 'pci-stub']);

/** A PF driver's VF driver, loaded by udev when the first VF appears. */
export const VF_DRIVERS: Record<string, string> = {
  igb: 'igbvf',
  ixgbe: 'ixgbevf',
  i40e: 'iavf',
  ice: 'iavf',
  bnxt_en: 'bnxt_en',
  mlx5_core: 'mlx5_core',
  qede: 'qede',
};

/**
 * Drivers of the devices QEMU emulates in the lab, for a tree first seen with such a device on a
 * stub (the `assigned` snapshot's e1000e): nothing in sysfs says whose it was. Used only when the
 * tree has that driver loaded and no device of the same id shows its driver.
 */
const WELL_KNOWN_DRIVERS: Record<string, string> = {
  '8086:10d3': 'e1000e',
  '8086:100e': 'e1000',
  '8086:10c9': 'igb',
  '8086:10ca': 'igbvf',
  '1b36:0010': 'nvme',
  '1af4:1000': 'virtio-pci',
  '1af4:1041': 'virtio-pci',
};

/**
 * Fills the id table from the tree as it is: each device's `vendor:device` -> its bound driver
 * (stubs aside, they are nobody's own), then the lab's well-known drivers for ids only seen on a
 * stub, then `extra`; and every function's `reset_method` as enumerated (what `default` restores).
 */
export function seedStateFromTree(tree: SimTree, state: SimState, extra: Record<string, string>): void {
  const devices = tree.listDevices();
  for (const bdf of devices) {
    const driver = tree.driverOf(bdf);
    if (driver !== null && !STUB_DRIVERS.has(driver)) state.natives[tree.deviceId(bdf)] ??= driver;
    const methods = parseResetMethods(tree.readAttr(bdf, 'reset_method'));
    if (methods !== null) state.resetDefaults[bdf] = methods;
  }
  for (const bdf of devices) {
    const id = tree.deviceId(bdf);
    const known = WELL_KNOWN_DRIVERS[id];
    if (state.natives[id] === undefined && known !== undefined && tree.hasDriver(known)) state.natives[id] = known;
  }
  Object.assign(state.natives, extra);
}
