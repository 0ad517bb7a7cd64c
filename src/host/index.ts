/** The host room: what a sysfs root says about each PCI function, and whether it can be assigned. */
export { scanHost, readHost, describeHost, type HostSources, type HostInventory, type HostReading } from './inventory.js';
export type { HostDevice, HostReason, Severity } from './host-device.js';
export { assess, type AssignContext } from './assignability.js';
export type { Protection, ProtectionKind } from './protected-devices.js';
export type { Bar } from './resources.js';
export { HostWatcher, watchHost, diffInventories, type WatchOptions, type WatcherTuning } from './watcher.js';
export { loadHostConfig, parseHostConfig, ConfigError, type HostConfig } from './host-config.js';
export { readFunction, listFunctions, type SysfsFunction } from './sysfs-reader.js';
export {
  buildHostTree,
  buildSysfs,
  specsFromConfigDumps,
  addFunctions,
  removeFunction,
  bindDriver,
  unbindDriver,
  setDriverOverride,
  setMsiIrqs,
  setResetMethods,
  setDefaultRoute,
  writeProcInterrupts,
  type HostSpec,
  type FunctionSpec,
  type BarSpec,
  type MountSpec,
  type BuiltTree,
} from './sysfs-builder.js';
