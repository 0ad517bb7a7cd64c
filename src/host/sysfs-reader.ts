/**
 * What a sysfs root says about each PCI function, attribute by attribute, before any judgement.
 * Paths follow the kernel's layout (Documentation/ABI/testing/sysfs-bus-pci):
 * `bus/pci/devices/BDF -> ../../../devices/pci0000:00/.../BDF`.
 */
import { posix as path } from 'node:path';
import { isBdf } from '../pci/bdf.js';
import { parseDriverOverride, parseResetMethods } from '../pci/sysfs-attributes.js';
import { parseResources, type Bar } from './resources.js';
import { exists, linkName, listDir, parseNumber, readAttr, readBytes, readLine, readLink, readNumber, resolveLinkUnder } from './sysfs-files.js';

export type MsiMode = 'msi' | 'msix';

export interface SysfsFunction {
  bdf: string;
  /** The device directory relative to the sysfs root, e.g. `devices/pci0000:00/0000:00:10.0/0000:01:00.0`. */
  path: string;
  /** From `uevent`/`vendor`/`device`/`class`: the kernel's values, right even for VFs whose config reads 0xffff. */
  vendorId: number | null;
  deviceId: number | null;
  subsystemVendorId: number | null;
  subsystemDeviceId: number | null;
  classCode: number | null;
  /** Raw configuration space as far as it could be read (64 bytes for an unprivileged reader). */
  config: Uint8Array;
  driver: string | null;
  /** `(null)` in sysfs when unset. */
  driverOverride: string | null;
  iommuGroup: number | null;
  /** The write-only `reset` file exists: the kernel knows at least one way to reset the function. */
  resetFile: boolean;
  /** `reset_method` split on spaces; null when the attribute is absent (no method, or a pre-5.15 kernel). */
  resetMethods: string[] | null;
  resources: Bar[];
  /**
   * `msi_irqs/`: present only while MSI or MSI-X is enabled. A function uses one of the two at a
   * time, so the mode of the first vector is the mode of all.
   */
  msi: { mode: MsiMode; irqs: number[] } | null;
  irq: number | null;
  numaNode: number | null;
  /** A VF's physical function. */
  physfn: string | null;
  sriov: { totalVFs: number; numVFs: number; offset: number | null; stride: number | null; vfDeviceId: number | null } | null;
  /** Present only on VGA-class functions. */
  bootVga: boolean | null;
  /** Parent bridges, nearest first, up to the root bus. */
  parents: string[];
  /** The host bridge's directory name, e.g. `pci0000:00`. */
  rootBus: string;
}

export const PCI_DEVICES = 'bus/pci/devices';


/** BDFs under `bus/pci/devices`, sorted; an unreadable or absent directory gives none. */
export function listFunctions(sysfsRoot: string): string[] {
  const names = listDir(path.join(sysfsRoot, PCI_DEVICES)) ?? [];
  return names.filter(isBdf).sort();
}

/** The device directory of `bdf` relative to the root, from its `bus/pci/devices` link. */
export function functionPath(sysfsRoot: string, bdf: string): string | null {
  const link = `${sysfsRoot}/${PCI_DEVICES}/${bdf}`;
  const target = readLink(link);
  if (target === null) return null;
  // The kernel's own shape, `../../../devices/...`, needs no path arithmetic.
  if (target.startsWith('../../../devices/') && !target.includes('..', 9)) return target.slice(9);
  return resolveLinkUnder(sysfsRoot, link);
}

/** Everything sysfs says about one function; null when it is gone. */
export function readFunction(sysfsRoot: string, bdf: string): SysfsFunction | null {
  const rel = functionPath(sysfsRoot, bdf);
  // A fixture or an odd kernel may keep the directory itself under bus/pci/devices.
  const dirRel = rel ?? `${PCI_DEVICES}/${bdf}`;
  const dir = `${sysfsRoot}/${dirRel}/`;
  // Optional attributes are probed with a cheap existence check or a read that may fail; a
  // listing of the directory would cost more than all of them together (a readdir of a device
  // directory costs as much as six existence checks, and a scan makes one or two per function).
  const ids = readIds(dir);
  if (ids === null) return null;
  const { parents, rootBus } = ancestry(dirRel, bdf);
  const isVga = ids.classCode !== null && ids.classCode >> 8 === 0x0300;
  const resetMethods = parseResetMethods(readAttr(dir + 'reset_method'));
  const physfn = linkName(dir + 'physfn');
  return {
    bdf,
    path: dirRel,
    vendorId: ids.vendorId,
    deviceId: ids.deviceId,
    subsystemVendorId: ids.subsystemVendorId,
    subsystemDeviceId: ids.subsystemDeviceId,
    classCode: ids.classCode,
    config: readBytes(dir + 'config') ?? new Uint8Array(0),
    // uevent names the bound driver as its directory under bus/pci/drivers is named.
    driver: ids.driver !== undefined ? ids.driver : linkName(dir + 'driver'),
    driverOverride: parseDriverOverride(readAttr(dir + 'driver_override')),
    iommuGroup: parseNumber(linkName(dir + 'iommu_group') ?? ''),
    // The kernel shows `reset_method` exactly where it shows `reset` (kernels since 5.15).
    resetFile: resetMethods !== null || exists(dir + 'reset'),
    resetMethods,
    resources: parseResources(readAttr(dir + 'resource')),
    msi: exists(dir + 'msi_irqs') ? readMsiIrqs(dir + 'msi_irqs') : null,
    irq: readNumber(dir + 'irq'),
    numaNode: readNumber(dir + 'numa_node'),
    physfn,
    // A VF has no SR-IOV capability of its own.
    sriov: physfn === null && exists(dir + 'sriov_totalvfs') ? readSriov(dir) : null,
    bootVga: isVga && exists(dir + 'boot_vga') ? readLine(dir + 'boot_vga') === '1' : null,
    parents,
    rootBus,
  };
}

type Ids = Pick<SysfsFunction, 'vendorId' | 'deviceId' | 'subsystemVendorId' | 'subsystemDeviceId' | 'classCode'> & {
  /** From uevent's DRIVER= (null: unbound); undefined when uevent could not say. */
  driver?: string | null;
};

/**
 * One read of `uevent` carries the driver name, ids, subsystem ids and class; the single
 * attributes are the fallback. Null when the function's directory (`dir`, with its slash) is gone.
 */
function readIds(dir: string): Ids | null {
  const uevent = readAttr(`${dir}uevent`);
  const ids = uevent === null ? null : idsFromUevent(uevent);
  if (ids) return ids;
  const vendorId = readNumber(`${dir}vendor`);
  if (vendorId === null && !exists(dir.slice(0, -1))) return null;
  return {
    vendorId,
    deviceId: readNumber(`${dir}device`),
    subsystemVendorId: readNumber(`${dir}subsystem_vendor`),
    subsystemDeviceId: readNumber(`${dir}subsystem_device`),
    classCode: readNumber(`${dir}class`),
  };
}

/**
 * The ids and driver from the `KEY=value` lines of `uevent` (a later line of a key wins), without
 * building a record of every key; null when it lacks PCI_ID or PCI_CLASS.
 */
function idsFromUevent(text: string): Ids | null {
  let id: string | undefined;
  let cls: string | undefined;
  let subsys: string | undefined;
  let driver: string | undefined;
  for (let start = 0; start < text.length; ) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const c = text.charCodeAt(start);
    if (c === 0x50 /* P */) {
      if (text.startsWith('PCI_ID=', start)) id = text.slice(start + 7, end);
      else if (text.startsWith('PCI_CLASS=', start)) cls = text.slice(start + 10, end);
      else if (text.startsWith('PCI_SUBSYS_ID=', start)) subsys = text.slice(start + 14, end);
    } else if (c === 0x44 /* D */ && text.startsWith('DRIVER=', start)) {
      driver = text.slice(start + 7, end);
    }
    start = end + 1;
  }
  if (!id || !cls) return null;
  const [v, d] = idPair(id);
  const [sv, sd] = idPair(subsys ?? '');
  return {
    vendorId: hexOrNull(v),
    deviceId: hexOrNull(d),
    subsystemVendorId: hexOrNull(sv),
    subsystemDeviceId: hexOrNull(sd),
    classCode: hexOrNull(cls),
    driver: driver ?? null,
  };
}

/** `8086:1889` -> the two ids, as the first two parts of `split(':')`, without splitting the rest. */
function idPair(s: string): [string, string | undefined] {
  const colon = s.indexOf(':');
  if (colon < 0) return [s, undefined];
  const next = s.indexOf(':', colon + 1);
  return [s.slice(0, colon), s.slice(colon + 1, next < 0 ? s.length : next)];
}

function hexOrNull(s: string | undefined): number | null {
  if (!s || !/^[0-9a-f]+$/i.test(s)) return null;
  return parseInt(s, 16);
}

function readMsiIrqs(dir: string): { mode: MsiMode; irqs: number[] } | null {
  const names = listDir(dir);
  if (names === null || names.length === 0) return null;
  const irqs: number[] = [];
  for (const name of names) {
    const irq = parseInt(name, 10);
    if (Number.isInteger(irq)) irqs.push(irq);
  }
  irqs.sort((a, b) => a - b);
  if (irqs.length === 0) return null;
  const mode = readLine(`${dir}/${irqs[0]}`);
  return { mode: mode === 'msi' ? 'msi' : 'msix', irqs };
}

/** The SR-IOV attributes of a physical function in `dir` (with its slash). */
function readSriov(dir: string): SysfsFunction['sriov'] {
  const n = (name: string) => readNumber(dir + name);
  return {
    totalVFs: n('sriov_totalvfs') ?? 0,
    numVFs: n('sriov_numvfs') ?? 0,
    offset: n('sriov_offset'),
    stride: n('sriov_stride'),
    vfDeviceId: n('sriov_vf_device'),
  };
}

/**
 * The bridges above a function, read from its directory path: every BDF-shaped component before
 * its own is a bridge it sits behind, and the component that starts with `pci` is the root bus.
 */
export function ancestry(dirRel: string, bdf: string): { parents: string[]; rootBus: string } {
  const parents: string[] = [];
  let rootBus = `pci${bdf.slice(0, 7)}`;
  // Component by component without splitting; only the lengths of a BDF (12) and of a root bus
  // (10) are worth a pattern test.
  for (let start = 0; start <= dirRel.length; ) {
    let end = dirRel.indexOf('/', start);
    if (end < 0) end = dirRel.length;
    const length = end - start;
    if (length === bdf.length && dirRel.startsWith(bdf, start)) break;
    if (length === 12) {
      const part = dirRel.slice(start, end);
      if (isBdf(part)) parents.unshift(part);
    } else if (length === 10 && dirRel.startsWith('pci', start)) {
      const part = dirRel.slice(start, end);
      if (ROOT_BUS.test(part)) rootBus = part;
    }
    start = end + 1;
  }
  return { parents, rootBus };
}

const ROOT_BUS = /^pci[0-9a-f]{4}:[0-9a-f]{2}$/;
