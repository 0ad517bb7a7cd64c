/**
 * Builds real directory trees shaped like the kernel's sysfs (and the procfs files hotslot reads)
 * from a short description, for tests, the simulated kernel and the demo. The layout follows what
 * the lab snapshots show of a 6.1 kernel: device directories under `devices/pci0000:00/...`,
 * relative links from `bus/pci/devices`, `bus/pci/drivers/NAME`, `kernel/iommu_groups/N/devices`,
 * binary `config`, write-only `reset`, `driver_override` reading `(null)`, `msi_irqs/` only while
 * MSI or MSI-X is on, `physfn`/`virtfnN` links. `lspci -O sysfs.path=ROOT/bus/pci` reads it.
 *
 * The mutators below (`bindDriver`, `setMsiIrqs`, `addFunction`, ...) change a built tree the way
 * the kernel would change its own, so watchers and the simulated kernel see realistic updates.
 */
import { chmodSync, existsSync, mkdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { posix as path } from 'node:path';
import type { AcsFlags, PcieType } from '../core/device.js';
import { decodeConfigSpace } from '../pci/config-space.js';
import { isBdf, normalizeBdf } from '../pci/bdf.js';
import { encodeConfigSpace } from './config-space-builder.js';
import { functionPath, PCI_DEVICES } from './sysfs-reader.js';
import { listDir, readLink, readText } from './sysfs-files.js';

export interface BarSpec {
  /** 0-5; a 64-bit BAR takes two slots. */
  index: number;
  size: number;
  space?: 'mem' | 'io';
  is64Bit?: boolean;
  prefetchable?: boolean;
  /** Chosen by the builder when absent (aligned to the size, as firmware assigns). */
  address?: bigint;
}

export interface FunctionSpec {
  bdf: string;
  vendorId: number;
  deviceId: number;
  /** 24-bit: 0x020000 is an Ethernet controller, 0x060400 a PCI bridge. */
  classCode: number;
  revision?: number;
  subsystemVendorId?: number;
  subsystemDeviceId?: number;
  /** Default: a bridge for class 0x0604xx, else an endpoint. */
  headerType?: 'endpoint' | 'bridge';
  /** The PCIe capability; null makes a conventional PCI function. Default: a PCIe endpoint, or a root port for bridges. */
  pcie?: { type: PcieType; flr?: boolean; slotImplemented?: boolean } | null;
  /** Default: present, with No_Soft_Reset clear. */
  pm?: { noSoftReset?: boolean } | null;
  /** MSI capability; `enabled` vectors appear in `msi_irqs/`. */
  msi?: { vectors: number; enabled?: number; is64Bit?: boolean; maskable?: boolean } | null;
  msix?: { tableSize: number; enabled?: number } | null;
  af?: { flr: boolean } | null;
  acs?: Partial<AcsFlags> | null;
  /** A physical function's SR-IOV capability. */
  sriov?: { totalVFs: number; numVFs?: number; vfOffset?: number; vfStride?: number; vfDeviceId?: number };
  /** This is a VF of that physical function (listed before it or after, either works). */
  physfn?: string;
  interruptPin?: 'A' | 'B' | 'C' | 'D' | null;
  /** Default: a line number chosen for functions with a pin, 0 otherwise. */
  irq?: number;
  /** INTx armed by vfio-pci for a guest (shows `vfio-intx(BDF)` in /proc/interrupts). */
  vfioIntx?: boolean;
  driver?: string | null;
  driverOverride?: string | null;
  iommuGroup?: number | null;
  /** `reset_method` contents; null: neither `reset` nor `reset_method` exist. Default: what config allows. */
  resetMethods?: string[] | null;
  bars?: BarSpec[];
  /** The bridge it sits behind; absent: on the root bus. */
  parent?: string;
  bootVga?: boolean;
  numaNode?: number;
  /** Configuration space to write as given (from a dump); ids and capabilities are then read from it. */
  config?: Uint8Array;
  /** Network interfaces on this function. */
  net?: string[];
  /** Block devices on this function (`vda`, or `nvme0n1` behind an NVMe subsystem). */
  block?: { name: string; majorMinor: string; partitions?: { name: string; majorMinor: string }[]; nvme?: boolean }[];
  /** A virtio 9p transport with this mount tag. */
  mountTag?: string;
}

export interface MountSpec {
  source: string;
  mountPoint: string;
  fsType: string;
  majorMinor?: string;
  options?: string;
}

export interface HostSpec {
  functions: FunctionSpec[];
  /** Default true: `kernel/iommu_groups` holds the groups of the functions. */
  iommu?: boolean;
  mounts?: MountSpec[];
  /** Interface of the IPv4 default route. */
  defaultRoute?: string;
  swaps?: string[];
  /** Drivers loaded with nothing bound to them yet (vfio-pci after `modprobe vfio-pci`). */
  loadedDrivers?: string[];
}

export interface BuiltTree {
  root: string;
  sysfsRoot: string;
  procRoot: string;
}

const hex = (n: number, width: number) => '0x' + n.toString(16).padStart(width, '0');

/**
 * Functions described by their configuration space alone (an `lspci -xxx` dump of a machine):
 * ids, class and capabilities come from the bytes, and each function is placed behind the bridge
 * whose secondary bus it is on, so the tree has the machine's shape. Drivers and groups can be
 * added to the returned specs.
 */
export function specsFromConfigDumps(dumps: readonly { bdf: string; bytes: Uint8Array }[]): FunctionSpec[] {
  const decoded = dumps.map((d) => ({ bdf: normalizeBdf(d.bdf), bytes: d.bytes, cfg: decodeConfigSpace(d.bytes) }));
  const bridgeFor = new Map<string, string>();
  for (const d of decoded) {
    if (d.cfg.headerType === 'bridge' && d.cfg.secondaryBus) {
      bridgeFor.set(`${d.bdf.slice(0, 4)}:${d.cfg.secondaryBus.toString(16).padStart(2, '0')}`, d.bdf);
    }
  }
  return decoded.map(({ bdf, bytes, cfg }) => {
    const parent = bridgeFor.get(bdf.slice(0, 7));
    return {
      bdf,
      ...(parent && parent !== bdf ? { parent } : {}),
      vendorId: cfg.vendorId,
      deviceId: cfg.deviceId,
      classCode: cfg.classCode,
      revision: cfg.revision,
      subsystemVendorId: cfg.subsystemVendorId ?? undefined,
      subsystemDeviceId: cfg.subsystemId ?? undefined,
      interruptPin: cfg.interruptPin,
      irq: cfg.interruptLine ?? undefined,
      // msi_irqs/ shows one vector where the dump has MSI or MSI-X on.
      msi: cfg.msi ? { vectors: cfg.msi.vectorsCapable, enabled: cfg.msi.enabled ? 1 : 0 } : null,
      msix: cfg.msix ? { tableSize: cfg.msix.tableSize, enabled: cfg.msix.enabled ? 1 : 0 } : null,
      config: bytes,
    };
  });
}

/** Builds `root/sys` and `root/proc` from `spec`; `root` is created if needed and must be empty. */
export function buildHostTree(root: string, spec: HostSpec): BuiltTree {
  const sysfsRoot = path.join(root, 'sys');
  const procRoot = path.join(root, 'proc');
  buildSysfs(sysfsRoot, spec);
  writeProc(procRoot, spec);
  writeProcInterrupts(sysfsRoot, procRoot, vfioIntxOf(spec.functions));
  return { root, sysfsRoot, procRoot };
}

const vfioIntxOf = (fs: readonly FunctionSpec[]) => fs.filter((f) => f.vfioIntx).map((f) => normalizeBdf(f.bdf));

class Allocator {
  private mem32 = 0xf0000000n;
  private mem64 = 0x8000000000n;
  private io = 0x1000n;
  private line = 16;
  constructor(private irq: number) {}
  take(bar: BarSpec): bigint {
    const size = BigInt(Math.max(bar.size, bar.space === 'io' ? 4 : 16));
    const align = (a: bigint) => ((a + size - 1n) / size) * size;
    if (bar.space === 'io') return (this.io = align(this.io) + size) - size;
    if (bar.is64Bit) return (this.mem64 = align(this.mem64) + size) - size;
    return (this.mem32 = align(this.mem32) + size) - size;
  }
  nextIrq(): number {
    return this.irq++;
  }
  nextLine(): number {
    const l = this.line;
    this.line = this.line >= 23 ? 16 : this.line + 1;
    return l;
  }
}

interface Placement {
  spec: FunctionSpec;
  rel: string;
}

interface TreeState {
  sysfsRoot: string;
  alloc: Allocator;
  /** The functions being written now, by BDF. */
  specs: Map<string, FunctionSpec>;
  /** Among them: children by parent bridge, VFs by PF. */
  children: Map<string, string[]>;
  vfs: Map<string, string[]>;
  /** PF directories whose `sriov_numvfs` must follow their VFs once all are written. */
  recount: Set<string>;
}

/** Writes the sysfs side of `spec` under `sysfsRoot`. */
export function buildSysfs(sysfsRoot: string, spec: HostSpec): void {
  for (const dir of ['bus/pci/devices', 'bus/pci/drivers', 'bus/pci/slots', 'kernel/iommu_groups', 'kernel/irq', 'class/net', 'class/block', 'block', 'dev/block', 'bus/virtio/devices']) {
    mkdirSync(path.join(sysfsRoot, dir), { recursive: true });
  }
  for (const f of ['drivers_probe', 'rescan']) writeAttr(path.join(sysfsRoot, 'bus/pci', f), '', 0o200);
  writeAttr(path.join(sysfsRoot, 'bus/pci/drivers_autoprobe'), '1\n');
  for (const driver of spec.loadedDrivers ?? []) ensureDriverDir(sysfsRoot, driver);
  addFunctions(sysfsRoot, spec.functions);
  if (spec.iommu === false) rmSync(path.join(sysfsRoot, 'kernel/iommu_groups'), { recursive: true, force: true });
}

/**
 * Adds functions to a tree, as a hot-add or `sriov_numvfs` would: their parents may be among
 * them or already in the tree.
 */
export function addFunctions(sysfsRoot: string, functions: readonly FunctionSpec[]): void {
  const specs = new Map(functions.map((f) => [normalizeBdf(f.bdf), { ...f, bdf: normalizeBdf(f.bdf) }]));
  const children = new Map<string, string[]>();
  const vfs = new Map<string, string[]>();
  const push = (m: Map<string, string[]>, k: string, v: string) => m.set(k, [...(m.get(k) ?? []), v]);
  for (const f of specs.values()) {
    if (f.parent) push(children, normalizeBdf(f.parent), f.bdf);
    if (f.physfn) push(vfs, normalizeBdf(f.physfn), f.bdf);
  }
  const state: TreeState = { sysfsRoot, alloc: new Allocator(highestMsiIrq(sysfsRoot) + 1), specs, children, vfs, recount: new Set() };
  const relOf = (bdf: string, seen = new Set<string>()): string => {
    const f = specs.get(bdf);
    if (!f) {
      const existing = functionPath(sysfsRoot, bdf);
      if (!existing) throw new Error(`fixture: parent ${bdf} is neither described nor in the tree`);
      return existing;
    }
    if (!f.parent) return path.join('devices', `pci${bdf.slice(0, 4)}:${rootBusOf(bdf, specs)}`, bdf);
    if (seen.has(bdf)) throw new Error(`fixture: ${bdf} is its own ancestor`);
    seen.add(bdf);
    return path.join(relOf(normalizeBdf(f.parent), seen), bdf);
  };
  const placed = [...specs.values()].map((spec) => ({ spec, rel: relOf(spec.bdf) }));
  // Parents first, so that directories nest.
  placed.sort((a, b) => a.rel.split('/').length - b.rel.split('/').length);
  const perSlot = new Map<string, number>();
  for (const bdf of [...specs.keys(), ...listTree(sysfsRoot)]) perSlot.set(bdf.slice(0, 10), (perSlot.get(bdf.slice(0, 10)) ?? 0) + 1);
  for (const p of placed) writeFunction(state, p, (perSlot.get(p.spec.bdf.slice(0, 10)) ?? 0) > 1);
  for (const pfDir of state.recount) countVfs(pfDir);
}

function listTree(sysfsRoot: string): string[] {
  return listDir(path.join(sysfsRoot, PCI_DEVICES)) ?? [];
}

function highestMsiIrq(sysfsRoot: string): number {
  let max = 23;
  const descriptors = listDir(path.join(sysfsRoot, 'kernel/irq'));
  if (descriptors) return Math.max(max, ...descriptors.map((n) => parseInt(n, 10) || 0));
  for (const bdf of listTree(sysfsRoot)) {
    for (const n of listDir(path.join(sysfsRoot, PCI_DEVICES, bdf, 'msi_irqs')) ?? []) max = Math.max(max, parseInt(n, 10) || 0);
  }
  return max;
}

/** `sriov_numvfs` follows the VFs that exist, as it does when the kernel creates or removes them. */
function countVfs(pfDir: string): void {
  if (!existsSync(path.join(pfDir, 'sriov_numvfs'))) return;
  const n = (listDir(pfDir) ?? []).filter((e) => /^virtfn\d+$/.test(e)).length;
  writeAttr(path.join(pfDir, 'sriov_numvfs'), `${n}\n`);
}

/** The kernel's `virtfnN`: N from the routing IDs, (VF RID - PF RID - First VF Offset) / VF Stride. */
function vfIndex(root: string, pfRel: string, pf: string, vf: string): number {
  const rid = (b: string) => (parseInt(b.slice(5, 7), 16) << 8) | (parseInt(b.slice(8, 10), 16) << 3) | parseInt(b.slice(11), 16);
  const offset = parseInt(readText(path.join(root, pfRel, 'sriov_offset')) ?? '128', 10);
  const stride = parseInt(readText(path.join(root, pfRel, 'sriov_stride')) ?? '2', 10) || 1;
  const n = (rid(vf) - rid(pf) - offset) / stride;
  return Number.isInteger(n) && n >= 0 ? n : rid(vf) - rid(pf);
}

function rootBusOf(bdf: string, byBdf: Map<string, FunctionSpec>): string {
  let cur = byBdf.get(bdf);
  while (cur?.parent) cur = byBdf.get(normalizeBdf(cur.parent));
  return (cur?.bdf ?? bdf).slice(5, 7);
}

function writeAttr(file: string, content: string | Uint8Array, mode = 0o644): void {
  writeFileSync(file, content);
  chmodSync(file, mode);
}

function link(from: string, to: string): void {
  if (existsSync(from) || isLink(from)) unlinkSync(from);
  symlinkSync(path.relative(path.dirname(from), to), from);
}

const isLink = (p: string) => readLink(p) !== null;

const isBridgeClass = (classCode: number) => classCode >> 8 === 0x0604;

function writeFunction(state: TreeState, p: Placement, multiFunction: boolean): void {
  const { spec } = p;
  const root = state.sysfsRoot;
  const dir = path.join(root, p.rel);
  mkdirSync(dir, { recursive: true });

  const fromDump = spec.config ? decodeConfigSpace(spec.config) : null;
  const vendorId = spec.vendorId;
  const deviceId = spec.deviceId;
  const classCode = spec.classCode;
  const headerType = spec.headerType ?? fromDump?.headerType ?? (isBridgeClass(classCode) ? 'bridge' : 'endpoint');
  const dumpPcie: FunctionSpec['pcie'] = fromDump?.pcie?.portType ? { type: fromDump.pcie.portType, flr: fromDump.pcie.flr } : null;
  const pcie =
    spec.pcie !== undefined
      ? spec.pcie
      : fromDump
        ? dumpPcie
        : { type: (headerType === 'bridge' ? 'root-port' : 'endpoint') as PcieType, flr: false };
  const pm = spec.pm !== undefined ? spec.pm : fromDump ? fromDump.pm : { noSoftReset: false };
  const pin = spec.interruptPin !== undefined ? spec.interruptPin : (fromDump?.interruptPin ?? (headerType === 'endpoint' && !spec.physfn ? 'A' : null));
  const line = spec.irq ?? (pin ? state.alloc.nextLine() : 0);
  const bars = (spec.bars ?? []).map((b) => ({ ...b, space: b.space ?? 'mem', address: b.address ?? state.alloc.take(b) }));
  const children = state.children.get(spec.bdf) ?? [];
  const secondary = children.length > 0 ? parseInt(children[0].slice(5, 7), 16) : 0;

  const config =
    spec.config ??
    encodeConfigSpace({
      vendorId,
      deviceId,
      classCode,
      revision: spec.revision ?? 0,
      subsystemVendorId: spec.subsystemVendorId ?? vendorId,
      subsystemDeviceId: spec.subsystemDeviceId ?? 0,
      headerType,
      multiFunction,
      virtualFunction: spec.physfn !== undefined,
      interruptPin: pin,
      interruptLine: line,
      bars: bars.map((b) => ({ index: b.index, address: b.address, space: b.space, is64Bit: b.is64Bit ?? false, prefetchable: b.prefetchable ?? false })),
      bus: headerType === 'bridge' ? { primary: parseInt(spec.bdf.slice(5, 7), 16), secondary, subordinate: secondary } : undefined,
      pm: pm ? { noSoftReset: pm.noSoftReset ?? false } : null,
      msi: spec.msi
        ? {
            vectorsCapable: spec.msi.vectors,
            vectorsEnabled: Math.max(1, spec.msi.enabled ?? 0),
            enabled: (spec.msi.enabled ?? 0) > 0,
            is64Bit: spec.msi.is64Bit ?? true,
            maskable: spec.msi.maskable ?? false,
          }
        : null,
      msix: spec.msix ? { tableSize: spec.msix.tableSize, enabled: (spec.msix.enabled ?? 0) > 0 } : null,
      pcie: pcie ? { type: pcie.type, flr: pcie.flr ?? false, slotImplemented: pcie.slotImplemented ?? false } : null,
      af: spec.af ?? null,
      acs: spec.acs ? { ...NO_ACS, ...spec.acs } : null,
      sriov: spec.sriov
        ? {
            totalVFs: spec.sriov.totalVFs,
            numVFs: spec.sriov.numVFs ?? 0,
            vfOffset: spec.sriov.vfOffset ?? 0x80,
            vfStride: spec.sriov.vfStride ?? 2,
            vfDeviceId: spec.sriov.vfDeviceId ?? deviceId,
          }
        : null,
    });
  writeAttr(path.join(dir, 'config'), config);
  writeAttr(path.join(dir, 'vendor'), hex(vendorId, 4) + '\n', 0o444);
  writeAttr(path.join(dir, 'device'), hex(deviceId, 4) + '\n', 0o444);
  writeAttr(path.join(dir, 'subsystem_vendor'), hex(spec.subsystemVendorId ?? vendorId, 4) + '\n', 0o444);
  writeAttr(path.join(dir, 'subsystem_device'), hex(spec.subsystemDeviceId ?? 0, 4) + '\n', 0o444);
  writeAttr(path.join(dir, 'class'), hex(classCode, 6) + '\n', 0o444);
  writeAttr(path.join(dir, 'revision'), hex(spec.revision ?? 0, 2) + '\n', 0o444);
  writeAttr(path.join(dir, 'irq'), `${pin ? line : 0}\n`, 0o444);
  writeAttr(path.join(dir, 'numa_node'), `${spec.numaNode ?? -1}\n`);
  writeAttr(path.join(dir, 'enable'), '1\n');
  writeAttr(path.join(dir, 'power_state'), 'D0\n', 0o444);
  writeAttr(path.join(dir, 'driver_override'), `${spec.driverOverride ?? '(null)'}\n`);
  writeAttr(path.join(dir, 'remove'), '', 0o220);
  writeAttr(path.join(dir, 'rescan'), '', 0o200);
  writeAttr(path.join(dir, 'modalias'), modalias(spec) + '\n', 0o444);
  writeAttr(path.join(dir, 'resource'), resourceText(bars, headerType === 'bridge'), 0o444);
  for (const b of bars) if (b.index < 6) writeAttr(path.join(dir, `resource${b.index}`), '', 0o600);
  mkdirSync(path.join(dir, 'power'), { recursive: true });
  link(path.join(dir, 'subsystem'), path.join(root, 'bus/pci'));
  link(path.join(root, PCI_DEVICES, spec.bdf), dir);

  const resetMethods = spec.resetMethods !== undefined ? spec.resetMethods : defaultResetMethods(spec, pcie, pm, headerType);
  if (resetMethods !== null) {
    writeAttr(path.join(dir, 'reset'), '', 0o200);
    writeAttr(path.join(dir, 'reset_method'), resetMethods.join(' ') + '\n');
  }
  if (headerType === 'bridge') {
    writeAttr(path.join(dir, 'reset_subordinate'), '', 0o200);
    writeAttr(path.join(dir, 'secondary_bus_number'), `${secondary}\n`, 0o444);
    writeAttr(path.join(dir, 'subordinate_bus_number'), `${secondary}\n`, 0o444);
  }
  if (classCode >> 8 === 0x0300 || spec.bootVga !== undefined) writeAttr(path.join(dir, 'boot_vga'), spec.bootVga ? '1\n' : '0\n', 0o444);
  if (spec.sriov) {
    writeAttr(path.join(dir, 'sriov_totalvfs'), `${spec.sriov.totalVFs}\n`, 0o444);
    writeAttr(path.join(dir, 'sriov_numvfs'), `${spec.sriov.numVFs ?? 0}\n`);
    writeAttr(path.join(dir, 'sriov_offset'), `${spec.sriov.vfOffset ?? 0x80}\n`, 0o444);
    writeAttr(path.join(dir, 'sriov_stride'), `${spec.sriov.vfStride ?? 2}\n`, 0o444);
    writeAttr(path.join(dir, 'sriov_vf_device'), `${(spec.sriov.vfDeviceId ?? deviceId).toString(16)}\n`, 0o444);
    writeAttr(path.join(dir, 'sriov_drivers_autoprobe'), '1\n');
  }
  if (spec.physfn) {
    const pf = normalizeBdf(spec.physfn);
    const pfRel = functionPath(root, pf);
    if (pfRel) {
      link(path.join(dir, 'physfn'), path.join(root, pfRel));
      link(path.join(root, pfRel, `virtfn${vfIndex(root, pfRel, pf, spec.bdf)}`), dir);
      state.recount.add(path.join(root, pfRel));
    }
  }
  // A PF written after its VFs: link the VFs that already exist.
  for (const vf of state.vfs.get(spec.bdf) ?? []) {
    const vfRel = functionPath(root, vf);
    if (vfRel) {
      link(path.join(dir, `virtfn${vfIndex(root, p.rel, spec.bdf, vf)}`), path.join(root, vfRel));
      link(path.join(root, vfRel, 'physfn'), dir);
    }
  }
  if (spec.sriov && spec.sriov.numVFs === undefined) state.recount.add(dir);
  if (spec.iommuGroup !== undefined && spec.iommuGroup !== null) {
    const g = path.join(root, 'kernel/iommu_groups', String(spec.iommuGroup));
    mkdirSync(path.join(g, 'devices'), { recursive: true });
    if (!existsSync(path.join(g, 'type'))) writeAttr(path.join(g, 'type'), 'DMA\n');
    link(path.join(g, 'devices', spec.bdf), dir);
    link(path.join(dir, 'iommu_group'), g);
  }
  writeUevent(dir, spec.bdf, spec.driver ?? null);
  if (spec.driver) attachDriverLinks(root, spec.bdf, dir, spec.driver);

  const msi = spec.msix?.enabled ? { mode: 'msix' as const, n: spec.msix.enabled } : spec.msi?.enabled ? { mode: 'msi' as const, n: spec.msi.enabled } : null;
  if (msi) writeMsiIrqs(root, dir, msi.mode, Array.from({ length: msi.n }, () => state.alloc.nextIrq()));
  if (pin && line > 0) writeIrqDescriptor(root, line, 'IR-IO-APIC', 'level');

  for (const ifname of spec.net ?? []) {
    const netDir = path.join(dir, 'net', ifname);
    mkdirSync(netDir, { recursive: true });
    writeAttr(path.join(netDir, 'ifindex'), '2\n', 0o444);
    link(path.join(netDir, 'device'), dir);
    link(path.join(root, 'class/net', ifname), netDir);
  }
  for (const b of spec.block ?? []) writeBlock(root, dir, b);
  if (spec.mountTag !== undefined) {
    const vdir = path.join(dir, `virtio${spec.bdf.slice(5, 7)}${spec.bdf.slice(8, 10)}${spec.bdf.slice(11)}`);
    mkdirSync(vdir, { recursive: true });
    writeAttr(path.join(vdir, 'mount_tag'), spec.mountTag + '\0', 0o444);
    link(path.join(root, 'bus/virtio/devices', path.basename(vdir)), vdir);
  }
}

const NO_ACS: AcsFlags = {
  sourceValidation: false,
  translationBlocking: false,
  requestRedirect: false,
  completionRedirect: false,
  upstreamForwarding: false,
  egressControl: false,
  directTranslatedP2P: false,
};

/** What a 6.1 kernel lists: flr / af_flr / pm from capabilities, bus when alone behind a bridge. */
function defaultResetMethods(
  spec: FunctionSpec,
  pcie: FunctionSpec['pcie'],
  pm: FunctionSpec['pm'],
  headerType: string,
): string[] | null {
  if (headerType !== 'endpoint') return null;
  const methods: string[] = [];
  if (pcie?.flr) methods.push('flr');
  if (spec.af?.flr) methods.push('af_flr');
  if (pm && !pm.noSoftReset) methods.push('pm');
  if (spec.parent && !spec.physfn) methods.push('bus');
  return methods.length > 0 ? methods : null;
}

function resourceText(bars: (BarSpec & { address: bigint; space: 'mem' | 'io' })[], bridge: boolean): string {
  const lines = bridge ? 17 : 13;
  const zero = '0x0000000000000000 0x0000000000000000 0x0000000000000000';
  const out: string[] = Array.from({ length: lines }, () => zero);
  const h = (n: bigint) => '0x' + n.toString(16).padStart(16, '0');
  for (const b of bars) {
    if (b.index >= lines) continue;
    const flags = b.space === 'io' ? 0x40101 : 0x40200 | (b.is64Bit ? 0x100000 : 0) | (b.prefetchable ? 0x2000 : 0);
    out[b.index] = `${h(b.address)} ${h(b.address + BigInt(b.size) - 1n)} ${h(BigInt(flags))}`;
  }
  return out.join('\n') + '\n';
}

function modalias(spec: FunctionSpec): string {
  const h8 = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');
  const h2 = (n: number) => n.toString(16).toUpperCase().padStart(2, '0');
  return `pci:v${h8(spec.vendorId)}d${h8(spec.deviceId)}sv${h8(spec.subsystemVendorId ?? spec.vendorId)}sd${h8(spec.subsystemDeviceId ?? 0)}bc${h2(spec.classCode >> 16)}sc${h2((spec.classCode >> 8) & 0xff)}i${h2(spec.classCode & 0xff)}`;
}

function writeUevent(dir: string, bdf: string, driver: string | null): void {
  const vendor = readText(path.join(dir, 'vendor'))?.trim().slice(2).toUpperCase() ?? '0000';
  const device = readText(path.join(dir, 'device'))?.trim().slice(2).toUpperCase() ?? '0000';
  const sv = readText(path.join(dir, 'subsystem_vendor'))?.trim().slice(2).toUpperCase() ?? '0000';
  const sd = readText(path.join(dir, 'subsystem_device'))?.trim().slice(2).toUpperCase() ?? '0000';
  const cls = parseInt(readText(path.join(dir, 'class'))?.trim() ?? '0', 16).toString(16).toUpperCase();
  const alias = readText(path.join(dir, 'modalias'))?.trim() ?? '';
  const lines = [
    ...(driver ? [`DRIVER=${driver}`] : []),
    `PCI_CLASS=${cls}`,
    `PCI_ID=${vendor}:${device}`,
    `PCI_SUBSYS_ID=${sv}:${sd}`,
    `PCI_SLOT_NAME=${bdf}`,
    `MODALIAS=${alias}`,
  ];
  writeAttr(path.join(dir, 'uevent'), lines.join('\n') + '\n');
}

/** A driver's directory under `bus/pci/drivers`, as it appears when its module loads. */
function ensureDriverDir(root: string, driver: string): string {
  const ddir = path.join(root, 'bus/pci/drivers', driver);
  if (!existsSync(ddir)) {
    mkdirSync(ddir, { recursive: true });
    for (const f of ['bind', 'unbind', 'new_id', 'remove_id', 'uevent']) writeAttr(path.join(ddir, f), '', 0o200);
  }
  return ddir;
}

function attachDriverLinks(root: string, bdf: string, dir: string, driver: string): void {
  const ddir = ensureDriverDir(root, driver);
  link(path.join(ddir, bdf), dir);
  link(path.join(dir, 'driver'), ddir);
}

/**
 * `msi_irqs/` of a function, and the interrupt descriptors the kernel keeps for each vector in
 * `kernel/irq/N` (allocated with the vectors, freed with them).
 */
function writeMsiIrqs(sysfsRoot: string, dir: string, mode: 'msi' | 'msix', irqs: readonly number[]): void {
  const mdir = path.join(dir, 'msi_irqs');
  for (const old of listDir(mdir) ?? []) rmSync(path.join(sysfsRoot, 'kernel/irq', old), { recursive: true, force: true });
  rmSync(mdir, { recursive: true, force: true });
  if (irqs.length === 0) return;
  mkdirSync(mdir);
  for (const irq of irqs) {
    writeAttr(path.join(mdir, String(irq)), `${mode}\n`, 0o444);
    writeIrqDescriptor(sysfsRoot, irq, 'IR-PCI-MSI', 'edge');
  }
}

function writeIrqDescriptor(sysfsRoot: string, irq: number, chip: string, type: string): void {
  const d = path.join(sysfsRoot, 'kernel/irq', String(irq));
  if (existsSync(d)) return;
  mkdirSync(d, { recursive: true });
  writeAttr(path.join(d, 'chip_name'), `${chip}\n`, 0o444);
  writeAttr(path.join(d, 'type'), `${type}\n`, 0o444);
}

function writeBlock(root: string, dir: string, b: NonNullable<FunctionSpec['block']>[number]): void {
  let diskDir: string;
  if (b.nvme) {
    // As the kernel shows a multipath-capable NVMe disk: the namespace lives under a virtual
    // nvme-subsystem, which links to the controller under the PCI function.
    const ctrl = path.join(dir, 'nvme', 'nvme0');
    mkdirSync(ctrl, { recursive: true });
    const subsys = path.join(root, 'devices/virtual/nvme-subsystem/nvme-subsys0');
    mkdirSync(subsys, { recursive: true });
    link(path.join(subsys, 'nvme0'), ctrl);
    diskDir = path.join(subsys, b.name);
  } else {
    diskDir = path.join(dir, 'block', b.name);
  }
  mkdirSync(path.join(diskDir, 'slaves'), { recursive: true });
  writeAttr(path.join(diskDir, 'dev'), b.majorMinor + '\n', 0o444);
  link(path.join(root, 'block', b.name), diskDir);
  link(path.join(root, 'class/block', b.name), diskDir);
  link(path.join(root, 'dev/block', b.majorMinor), diskDir);
  for (const part of b.partitions ?? []) {
    const pdir = path.join(diskDir, part.name);
    mkdirSync(pdir, { recursive: true });
    writeAttr(path.join(pdir, 'partition'), '1\n', 0o444);
    writeAttr(path.join(pdir, 'dev'), part.majorMinor + '\n', 0o444);
    link(path.join(root, 'class/block', part.name), pdir);
    link(path.join(root, 'dev/block', part.majorMinor), pdir);
  }
}

function writeProc(procRoot: string, spec: HostSpec): void {
  mkdirSync(path.join(procRoot, 'self'), { recursive: true });
  mkdirSync(path.join(procRoot, 'net'), { recursive: true });
  const mounts: MountSpec[] = spec.mounts ?? [];
  const info = mounts.map((m, i) => `${22 + i} 1 ${m.majorMinor ?? `0:${30 + i}`} / ${m.mountPoint} rw,relatime - ${m.fsType} ${m.source} ${m.options ?? 'rw'}`);
  writeFileSync(path.join(procRoot, 'self/mountinfo'), info.map((l) => l + '\n').join(''));
  writeFileSync(path.join(procRoot, 'mounts'), mounts.map((m) => `${m.source} ${m.mountPoint} ${m.fsType} ${m.options ?? 'rw'} 0 0\n`).join(''));
  setDefaultRoute(procRoot, spec.defaultRoute ?? null);
  writeFileSync(path.join(procRoot, 'net/ipv6_route'), '');
  const swaps = ['Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority', ...(spec.swaps ?? []).map((s) => `${s} partition 1048572 0 -2`)];
  writeFileSync(path.join(procRoot, 'swaps'), swaps.join('\n') + '\n');
}

/** Rewrites `net/route` with a default route on `iface` (none when null). */
export function setDefaultRoute(procRoot: string, iface: string | null): void {
  const header = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT';
  const routes = iface ? [`${iface}\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0`] : [];
  mkdirSync(path.join(procRoot, 'net'), { recursive: true });
  writeFileSync(path.join(procRoot, 'net/route'), [header, ...routes].join('\n') + '\n');
}

/**
 * Writes `/proc/interrupts` as the tree stands: one line per MSI vector named after its driver,
 * and one per INTx line listing the bound functions that share it (vfio-pci appears only where
 * `vfioIntx` says a guest armed INTx).
 */
export function writeProcInterrupts(sysfsRoot: string, procRoot: string, vfioIntx: readonly string[] = []): void {
  const lines = new Map<number, { chip: string; hw: string; handlers: string[] }>();
  for (const bdf of listTree(sysfsRoot).sort()) {
    const dir = path.join(sysfsRoot, PCI_DEVICES, bdf);
    const driver = readLink(path.join(dir, 'driver'));
    const name = driver ? path.basename(driver) : null;
    const msi = (listDir(path.join(dir, 'msi_irqs')) ?? []).map((n) => parseInt(n, 10)).sort((a, b) => a - b);
    msi.forEach((irq, i) => lines.set(irq, { chip: 'IR-PCI-MSI', hw: `${i}-edge`, handlers: [`${name ?? 'vfio-msi'}[${bdf}]`] }));
    if (msi.length > 0 || !name) continue;
    const irq = parseInt(readText(path.join(dir, 'irq')) ?? '0', 10);
    if (!irq) continue;
    const handler = name === 'vfio-pci' ? (vfioIntx.includes(bdf) ? `vfio-intx(${bdf})` : null) : name;
    if (!handler) continue;
    const line = lines.get(irq) ?? { chip: 'IR-IO-APIC', hw: `${irq}-fasteoi`, handlers: [] };
    line.handlers.push(handler);
    lines.set(irq, line);
  }
  const rows = ['           CPU0       CPU1'];
  for (const [irq, l] of [...lines].sort((a, b) => a[0] - b[0])) {
    rows.push(`${String(irq).padStart(4)}:          0          0  ${l.chip} ${l.hw}      ${l.handlers.join(', ')}`);
  }
  mkdirSync(procRoot, { recursive: true });
  writeFileSync(path.join(procRoot, 'interrupts'), rows.join('\n') + '\n');
}

// ---- Changes to a built tree, as the kernel would make them. ----

function deviceDir(sysfsRoot: string, bdf: string): string {
  const rel = functionPath(sysfsRoot, bdf);
  if (!rel) throw new Error(`fixture: no PCI device ${bdf} under ${sysfsRoot}`);
  return path.join(sysfsRoot, rel);
}

/** Binds `driver`: the `driver` link, the driver's link back, and `DRIVER=` in uevent. */
export function bindDriver(sysfsRoot: string, bdf: string, driver: string): void {
  const dir = deviceDir(sysfsRoot, bdf);
  unbindDriver(sysfsRoot, bdf);
  attachDriverLinks(sysfsRoot, bdf, dir, driver);
  writeUevent(dir, bdf, driver);
}

/** Unbinds whatever driver is bound; the kernel tears MSI down with it. */
export function unbindDriver(sysfsRoot: string, bdf: string): void {
  const dir = deviceDir(sysfsRoot, bdf);
  const current = readLink(path.join(dir, 'driver'));
  if (current) {
    rmSync(path.join(sysfsRoot, 'bus/pci/drivers', path.basename(current), bdf), { force: true });
    unlinkSync(path.join(dir, 'driver'));
  }
  writeMsiIrqs(sysfsRoot, dir, 'msi', []);
  writeUevent(dir, bdf, null);
}

export function setDriverOverride(sysfsRoot: string, bdf: string, driver: string | null): void {
  writeAttr(path.join(deviceDir(sysfsRoot, bdf), 'driver_override'), `${driver ?? '(null)'}\n`);
}

/** MSI or MSI-X on with `count` new vectors, or off (`mode` null). */
export function setMsiIrqs(sysfsRoot: string, bdf: string, mode: 'msi' | 'msix' | null, count = 1): void {
  const first = highestMsiIrq(sysfsRoot) + 1;
  writeMsiIrqs(sysfsRoot, deviceDir(sysfsRoot, bdf), mode ?? 'msi', mode ? Array.from({ length: count }, (_v, i) => first + i) : []);
}

/** Rewrites `reset_method` (and `reset`); null removes both, as for a function the kernel cannot reset. */
export function setResetMethods(sysfsRoot: string, bdf: string, methods: string[] | null): void {
  const dir = deviceDir(sysfsRoot, bdf);
  if (methods === null) {
    rmSync(path.join(dir, 'reset'), { force: true });
    rmSync(path.join(dir, 'reset_method'), { force: true });
    return;
  }
  writeAttr(path.join(dir, 'reset'), '', 0o200);
  writeAttr(path.join(dir, 'reset_method'), methods.join(' ') + '\n');
}

/** Removes a function (and anything behind it) with every link to it, as a hot-remove does. */
export function removeFunction(sysfsRoot: string, bdf: string): void {
  const dir = deviceDir(sysfsRoot, bdf);
  for (const child of listDir(dir) ?? []) if (isBdf(child)) removeFunction(sysfsRoot, child);
  const driver = readLink(path.join(dir, 'driver'));
  if (driver) rmSync(path.join(sysfsRoot, 'bus/pci/drivers', path.basename(driver), bdf), { force: true });
  const group = readLink(path.join(dir, 'iommu_group'));
  if (group) {
    const gdir = path.join(sysfsRoot, 'kernel/iommu_groups', path.basename(group));
    rmSync(path.join(gdir, 'devices', bdf), { force: true });
    if ((listDir(path.join(gdir, 'devices')) ?? []).length === 0) rmSync(gdir, { recursive: true, force: true });
  }
  const pf = readLink(path.join(dir, 'physfn'));
  if (pf) {
    const pfDir = path.resolve(dir, pf);
    for (const name of listDir(pfDir) ?? []) {
      if (name.startsWith('virtfn') && path.basename(readLink(path.join(pfDir, name)) ?? '') === bdf) unlinkSync(path.join(pfDir, name));
    }
    countVfs(pfDir);
  }
  writeMsiIrqs(sysfsRoot, dir, 'msi', []);
  rmSync(path.join(sysfsRoot, PCI_DEVICES, bdf), { force: true });
  rmSync(dir, { recursive: true, force: true });
}
