/**
 * The host inventory: every PCI function of a sysfs root as a `HostDevice`, with its assignability.
 * Reading (files) and describing (pure, from what was read) are separate steps so the watcher can
 * re-read only what changed and describe again from memory.
 */
import { posix as path } from 'node:path';
import type { PciNames } from '../pci/pci-ids.js';
import { assess } from './assignability.js';
import { viewFunction, resetOf, type FunctionView, type HostDevice } from './host-device.js';
import { interruptsOf, procInterruptsLookup, type IrqLookup } from './interrupts.js';
import { groupMembers, iommuPresent } from './iommu-groups.js';
import { findProtected, readInUse, type InUse } from './protected-devices.js';
import { listFunctions, readFunction, type SysfsFunction } from './sysfs-reader.js';
import { linkName, listDir, readText } from './sysfs-files.js';
import { isBdf } from '../pci/bdf.js';
import { Topology } from './topology.js';

export interface HostSources {
  sysfsRoot: string;
  procRoot: string;
  names?: PciNames;
  /** Config `protect` list, normalised BDFs. */
  protect?: readonly string[];
  /** Config `allow` list, normalised BDFs: when given, every other device is refused (`not-allowed`). */
  allow?: readonly string[] | null;
  /** Config `reservations`: BDF -> the one guest it may go to (`reserved`). */
  reservations?: ReadonlyMap<string, string>;
  /** Named in protection, allow-list and reservation messages. */
  configFile?: string;
  pageSize?: number;
  /**
   * Devices that guests hold, by BDF (from QMP: query-pci and qom-get `host`). sysfs alone only
   * says vfio-pci; this turns the owner into the guest and adds the `with-guest` reason.
   */
  guestHolders?: ReadonlyMap<string, { guest: string; qdevId?: string }>;
}

/** Everything read from the files in one pass. */
export interface HostReading {
  iommu: boolean;
  functions: Map<string, SysfsFunction>;
  inUse: InUse;
  /** The text of /proc/interrupts. */
  interrupts: string | null;
}

export interface HostInventory {
  iommu: boolean;
  /** Sorted by BDF. */
  devices: HostDevice[];
  byBdf: Map<string, HostDevice>;
  groups: Map<number, string[]>;
  /** BDF -> the one guest it may go to, from the configuration. */
  reservations: ReadonlyMap<string, string>;
}

/** Reads every function, or only those named in `only`. */
export function readHost(src: HostSources, only?: readonly string[]): HostReading {
  const functions = new Map<string, SysfsFunction>();
  for (const bdf of only ?? listFunctions(src.sysfsRoot)) {
    const f = readFunction(src.sysfsRoot, bdf);
    if (f) functions.set(bdf, f);
  }
  return {
    iommu: iommuPresent(src.sysfsRoot),
    functions,
    inUse: readInUse(src.procRoot),
    interrupts: readText(path.join(src.procRoot, 'interrupts')),
  };
}

/** Keeps decoded config per function while its raw reading is the same object. */
export type ViewCache = Map<string, FunctionView>;

export function describeHost(reading: HostReading, src: HostSources, cache: ViewCache = new Map()): HostInventory {
  const views: FunctionView[] = [];
  for (const raw of reading.functions.values()) {
    let v = cache.get(raw.bdf);
    if (!v || v.raw !== raw) {
      v = viewFunction(raw, src.names);
      cache.set(raw.bdf, v);
    }
    views.push(v);
  }
  for (const bdf of cache.keys()) if (!reading.functions.has(bdf)) cache.delete(bdf);
  views.sort((a, b) => (a.raw.bdf < b.raw.bdf ? -1 : a.raw.bdf > b.raw.bdf ? 1 : 0));

  const topology = new Topology(
    views.map((v) => ({ bdf: v.raw.bdf, headerType: v.cfg.headerType, pcieType: v.cfg.pcie?.portType ?? null, parents: v.raw.parents })),
  );
  const irqLines = procInterruptsLookup(reading.interrupts);
  const protections = findProtected({
    sysfsRoot: src.sysfsRoot,
    inUse: reading.inUse,
    functions: views.map((v) => ({ bdf: v.raw.bdf, classCode: v.raw.classCode ?? v.cfg.classCode, bootVga: v.raw.bootVga })),
    configProtect: src.protect ?? [],
    configFile: src.configFile,
  });
  const virtfns = new Map<string, string[]>();
  for (const v of views) {
    if (!v.raw.physfn) continue;
    const list = virtfns.get(v.raw.physfn) ?? [];
    list.push(v.raw.bdf);
    virtfns.set(v.raw.physfn, list);
  }

  const devices = views.map((v) => hostDevice(v, topology, irqLines, protections.get(v.raw.bdf) ?? [], virtfns.get(v.raw.bdf) ?? []));
  for (const d of devices) {
    const held = src.guestHolders?.get(d.bdf);
    if (held) d.owner = { kind: 'guest', guest: held.guest, ...(held.qdevId ? { qdevId: held.qdevId } : {}) };
  }
  const byBdf = new Map(devices.map((d) => [d.bdf, d]));
  const groups = groupMembers(devices);
  const intxLines = new Map<number, string[]>();
  for (const d of devices) {
    if (d.interrupts.mode !== 'intx' || d.interrupts.irq === null) continue;
    const list = intxLines.get(d.interrupts.irq) ?? [];
    list.push(d.bdf);
    intxLines.set(d.interrupts.irq, list);
  }
  const reservations = src.reservations ?? new Map<string, string>();
  const policy = { allow: src.allow ? new Set(src.allow) : null, reservations, configFile: src.configFile ?? null };
  const ctx = { iommu: reading.iommu, devices: byBdf, groups, topology, intxLines, pageSize: src.pageSize ?? 4096, policy };
  for (const d of devices) d.assignable = assess(d, ctx);
  return { iommu: reading.iommu, devices, byBdf, groups, reservations };
}

function hostDevice(
  v: FunctionView,
  topology: Topology,
  irqLines: IrqLookup,
  protections: HostDevice['protected'],
  virtfns: string[],
): HostDevice {
  const { raw, base } = v;
  const hex = (n: number | null) => (n === null ? null : '0x' + n.toString(16).padStart(4, '0'));
  // Every field spelled out, in the contract's order: one object shape for all devices, which
  // V8 builds and serialises fastest.
  return {
    bdf: base.bdf,
    vendorId: base.vendorId,
    deviceId: base.deviceId,
    classCode: base.classCode,
    vendorName: base.vendorName,
    deviceName: base.deviceName,
    headerType: base.headerType,
    pcieType: base.pcieType,
    driver: base.driver,
    iommuGroup: base.iommuGroup,
    owner: base.owner,
    interrupts: interruptsOf(raw, v.cfg, irqLines),
    reset: resetOf(v, topology.busNeighbourCount(raw.bdf)),
    acs: base.acs,
    sriov: base.sriov,
    capabilities: base.capabilities,
    assignable: { ok: false, reasons: [] },
    subsystemVendorId: hex(raw.subsystemVendorId ?? v.cfg.subsystemVendorId),
    subsystemDeviceId: hex(raw.subsystemDeviceId ?? v.cfg.subsystemId),
    driverOverride: raw.driverOverride,
    numaNode: raw.numaNode,
    resetFile: raw.resetFile,
    parents: raw.parents,
    physfn: raw.physfn,
    virtfns: virtfns.sort(),
    bootVga: raw.bootVga,
    bars: raw.resources,
    protected: protections,
  };
}

/** One full scan: read everything, describe everything. */
export function scanHost(src: HostSources): HostInventory {
  return describeHost(readHost(src), src);
}

/**
 * One device's IOMMU group alone (the device itself when it has none): who is in the group,
 * their drivers and the configuration's verdicts on them, which is all that taking a device back
 * from a guest needs. Verdicts that depend on the rest of the host (a bus reset's neighbours,
 * an attach's preflight) need the whole host: `scanHost`, or a `HostWatcher` kept up to date.
 * A BDF that is not on the host reads as no devices.
 */
export function scanGroupOf(src: HostSources, bdf: string): HostInventory {
  const group = linkName(path.join(src.sysfsRoot, 'bus/pci/devices', bdf, 'iommu_group'));
  const members = group === null ? null : listDir(path.join(src.sysfsRoot, 'kernel/iommu_groups', group, 'devices'));
  return describeHost(readHost(src, members?.filter(isBdf).sort() ?? [bdf]), src);
}
