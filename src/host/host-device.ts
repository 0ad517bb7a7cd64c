/**
 * A device as the live host shows it: the record of DESIGN.md section 4 built from config space
 * (`describeFromConfig`), then overlaid with what only sysfs knows, plus a few extra fields the
 * contract allows (driver_override, NUMA node, bridges above, SR-IOV links, BARs, protections).
 */
import { ownerOfDriver, type Device, type Reason, type ResetInfo } from '../core/device.js';
import { decodeConfigSpace } from '../pci/config-space.js';
import type { ConfigSpace } from '../pci/config-space-types.js';
import { acsOf, capabilitiesOf, resetFromConfig } from '../pci/device-from-config.js';
import type { PciNames } from '../pci/pci-ids.js';
import type { Protection } from './protected-devices.js';
import type { Bar } from './resources.js';
import type { SysfsFunction } from './sysfs-reader.js';

export type Severity = 'blocker' | 'warning';

/** A reason with its weight: blockers make `ok` false, warnings only inform. */
export interface HostReason extends Reason {
  severity: Severity;
}

export interface HostDevice extends Device {
  subsystemVendorId: string | null;
  subsystemDeviceId: string | null;
  driverOverride: string | null;
  numaNode: number | null;
  /** The kernel's write-only `reset` file exists. */
  resetFile: boolean;
  /** Parent bridges, nearest first, up to the root bus. */
  parents: string[];
  physfn: string | null;
  virtfns: string[];
  bootVga: boolean | null;
  bars: Bar[];
  /** Why the host must keep it; empty when it need not. */
  protected: Protection[];
  assignable: { ok: boolean; reasons: HostReason[] };
}

const hex = (n: number, width: number) => '0x' + n.toString(16).padStart(width, '0');

/** The fields of a device record that come from one function's own files. */
export type DeviceBase = Pick<
  Device,
  'bdf' | 'vendorId' | 'deviceId' | 'classCode' | 'vendorName' | 'deviceName' | 'headerType' | 'pcieType' | 'driver' | 'iommuGroup' | 'owner' | 'acs' | 'sriov' | 'capabilities'
>;

/**
 * The parts of a device that depend on this function's own files only; the watcher keeps them
 * while the function's files are unchanged. Interrupt mode, bus reset, protections, VFs and
 * assignability depend on other functions and are filled in by the inventory.
 */
export interface FunctionView {
  raw: SysfsFunction;
  cfg: ConfigSpace;
  base: DeviceBase;
}

/**
 * Config space overlaid with what sysfs knows better: the kernel's ids (right even for VFs, whose
 * config reads 0xffff), the class, the driver and group, and the SR-IOV counts.
 */
export function viewFunction(raw: SysfsFunction, names?: PciNames): FunctionView {
  const cfg = decodeConfigSpace(raw.config);
  const vendor = raw.vendorId ?? cfg.vendorId;
  const device = raw.deviceId ?? cfg.deviceId;
  const sriov = raw.sriov ?? cfg.sriov;
  const base: DeviceBase = {
    bdf: raw.bdf,
    vendorId: hex(vendor, 4),
    deviceId: hex(device, 4),
    classCode: hex(raw.classCode ?? cfg.classCode, 6),
    vendorName: names?.vendor(vendor) ?? null,
    deviceName: names?.device(vendor, device) ?? null,
    headerType: cfg.headerType,
    pcieType: cfg.pcie?.portType ?? null,
    driver: raw.driver,
    iommuGroup: raw.iommuGroup,
    owner: ownerOfDriver(raw.driver),
    acs: acsOf(cfg),
    sriov: sriov ? { totalVFs: sriov.totalVFs, numVFs: sriov.numVFs } : null,
    capabilities: capabilitiesOf(cfg),
  };
  return { raw, cfg, base };
}

/**
 * The kernel's reset facts: `reset_method` when the kernel has it; on kernels before 5.15 (a
 * `reset` file but no `reset_method`) what config space allows. `busResetPossible` is true only
 * when a bus reset is offered and nothing else shares the bus, which is when the kernel carries
 * it out (pci_parent_bus_reset refuses otherwise, with ENOTTY).
 */
export function resetOf(v: FunctionView, busNeighbours: number): ResetInfo {
  const alone = busNeighbours === 0 && v.raw.parents.length > 0 && v.cfg.headerType === 'endpoint';
  const fromConfig = resetFromConfig(v.cfg, alone);
  if (v.raw.resetMethods !== null) {
    const methods = v.raw.resetMethods;
    return { ...fromConfig, methods, busResetPossible: methods.includes('bus') && busNeighbours === 0 };
  }
  if (v.raw.resetFile) return fromConfig;
  return { ...fromConfig, methods: [], busResetPossible: false };
}
