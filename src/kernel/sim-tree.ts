/**
 * The simulated kernel's hands: reading and changing a sysfs-shaped tree the way Linux changes
 * /sys, with relative links exactly like the kernel's, so that `lspci -O sysfs.path=` and the
 * host reader see a bind, an unbind or a new VF as they would on a real host.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { isBdf } from '../pci/bdf.js';
import { SIM_DIR, type StashEntry } from './sim-state.js';
import { parseDriverOverride } from '../pci/sysfs-attributes.js';

/** Directories the PCI core makes for every function; anything else in it belongs to the driver. */
const CORE_DIRS = new Set(['link', 'power', 'pci_bus', 'wakeup']);

/** The files every PCI driver directory has (write-only, as the kernel shows them). */
const DRIVER_FILES = ['bind', 'new_id', 'remove_id', 'uevent', 'unbind'];

export class SimTree {
  readonly devicesDir: string;
  readonly driversDir: string;
  readonly groupsDir: string;
  private readonly dirs = new Map<string, string>();

  constructor(readonly root: string) {
    this.devicesDir = join(root, 'bus/pci/devices');
    this.driversDir = join(root, 'bus/pci/drivers');
    this.groupsDir = join(root, 'kernel/iommu_groups');
  }

  hasDevice(bdf: string): boolean {
    return existsSync(join(this.devicesDir, bdf));
  }

  /**
   * The function's real directory under `devices/pci…`. Remembered: where a BDF sits in the tree
   * never changes (a VF made again comes back at the same place), and once it is gone every read
   * there finds nothing, as it should.
   */
  deviceDir(bdf: string): string {
    let dir = this.dirs.get(bdf);
    if (dir === undefined) {
      dir = realpathSync(join(this.devicesDir, bdf));
      this.dirs.set(bdf, dir);
    }
    return dir;
  }

  listDevices(): string[] {
    return readdirSync(this.devicesDir).filter((n) => isBdf(n)).sort();
  }

  readAttr(bdf: string, name: string): string | null {
    const file = join(this.deviceDir(bdf), name);
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return null;
    }
  }

  hasAttr(bdf: string, name: string): boolean {
    return existsSync(join(this.deviceDir(bdf), name));
  }

  /** Rewrites an attribute's content, keeping the file (and its mode) where it is. */
  setAttr(bdf: string, name: string, content: string): void {
    writeFileSync(join(this.deviceDir(bdf), name), content);
  }

  /** `vendor:device` in lower-case hex without `0x`, the key of a driver's id table. */
  deviceId(bdf: string): string {
    const hex = (s: string | null) => (s ?? '').trim().replace(/^0x/, '').toLowerCase();
    return `${hex(this.readAttr(bdf, 'vendor'))}:${hex(this.readAttr(bdf, 'device'))}`;
  }

  driverOf(bdf: string): string | null {
    const link = readLinkOrNull(join(this.deviceDir(bdf), 'driver'));
    return link === null ? null : basename(link);
  }

  override(bdf: string): string | null {
    return parseDriverOverride(this.readAttr(bdf, 'driver_override'));
  }

  iommuGroupOf(bdf: string): string | null {
    const link = readLinkOrNull(join(this.deviceDir(bdf), 'iommu_group'));
    return link === null ? null : basename(link);
  }

  /** Header type from config space (0 endpoint, 1 bridge, 2 cardbus); 0 when unreadable. */
  headerType(bdf: string): number {
    try {
      const buf = readFileSync(join(this.deviceDir(bdf), 'config'));
      return buf.length > 0x0e ? buf[0x0e] & 0x7f : 0;
    } catch {
      return 0;
    }
  }

  /** A function on a root bus sits directly under `devices/pciDDDD:BB`. */
  onRootBus(bdf: string): boolean {
    return basename(dirname(this.deviceDir(bdf))).startsWith('pci');
  }

  /** The other functions on the same bus (VFs included: they sit on their PF's bus). */
  busSiblings(bdf: string): string[] {
    const parent = dirname(this.deviceDir(bdf));
    return readdirSync(parent).filter((n) => isBdf(n) && n !== bdf);
  }

  hasDriver(name: string): boolean {
    return existsSync(join(this.driversDir, name));
  }

  /** A driver directory appears when its module loads (as udev would load it for a new device). */
  ensureDriver(name: string): void {
    const dir = join(this.driversDir, name);
    if (existsSync(dir)) return;
    mkdirSync(dir, { mode: 0o755 });
    for (const f of DRIVER_FILES) writeFileSync(join(dir, f), '', { mode: 0o200 });
  }

  /** The driver's links both ways, and `DRIVER=` in uevent. */
  linkDriver(bdf: string, driver: string): void {
    const devDir = this.deviceDir(bdf);
    const drvDir = join(this.driversDir, driver);
    symlinkSync(relative(devDir, drvDir), join(devDir, 'driver'));
    symlinkSync(relative(drvDir, devDir), join(drvDir, bdf));
    this.setUeventDriver(bdf, driver);
  }

  unlinkDriver(bdf: string): string | null {
    const driver = this.driverOf(bdf);
    if (driver === null) return null;
    const devDir = this.deviceDir(bdf);
    rmSync(join(devDir, 'driver'), { force: true });
    rmSync(join(this.driversDir, driver, bdf), { force: true });
    this.setUeventDriver(bdf, null);
    return driver;
  }

  private setUeventDriver(bdf: string, driver: string | null): void {
    const text = this.readAttr(bdf, 'uevent');
    if (text === null) return;
    const lines = text.split('\n').filter((l) => l.length > 0 && !l.startsWith('DRIVER='));
    if (driver !== null) lines.unshift(`DRIVER=${driver}`);
    this.setAttr(bdf, 'uevent', lines.join('\n') + '\n');
  }

  /**
   * What a driver made while bound (msi_irqs, net/eth0, nvme/nvme0, ...) goes away when it
   * unbinds, with the links that pointed into it (class/net/eth0, block/nvme0n1); they are kept
   * aside so that the same driver coming back brings the same names back.
   */
  stashDriverChildren(bdf: string, driver: string): StashEntry {
    const devDir = this.deviceDir(bdf);
    const children = readdirSync(devDir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !CORE_DIRS.has(e.name) && !isBdf(e.name))
      .map((e) => e.name);
    const stashDir = this.stashDir(bdf);
    const owned = children.map((c) => join(devDir, c));
    const links = this.linksInto(owned);
    for (const l of links) rmSync(join(this.root, l.path), { force: true });
    if (children.length > 0) mkdirSync(stashDir, { recursive: true });
    for (const c of children) {
      rmSync(join(stashDir, c), { recursive: true, force: true });
      renameSync(join(devDir, c), join(stashDir, c));
    }
    return { driver, children, links };
  }

  restoreDriverChildren(bdf: string, entry: StashEntry): void {
    const devDir = this.deviceDir(bdf);
    const stashDir = this.stashDir(bdf);
    for (const c of entry.children) {
      const from = join(stashDir, c);
      if (existsSync(from) && !existsSync(join(devDir, c))) renameSync(from, join(devDir, c));
    }
    for (const l of entry.links) {
      const at = join(this.root, l.path);
      if (!existsSync(dirname(at)) || lstatExists(at)) continue;
      symlinkSync(l.target, at);
    }
    rmSync(stashDir, { recursive: true, force: true });
  }

  dropStash(bdf: string): void {
    rmSync(this.stashDir(bdf), { recursive: true, force: true });
  }

  private stashDir(bdf: string): string {
    return join(this.root, SIM_DIR, 'stash', bdf);
  }

  /** Links under class/, block/ and dev/ whose target lies inside one of `dirs`. */
  private linksInto(dirs: string[]): { path: string; target: string }[] {
    if (dirs.length === 0) return [];
    const found: { path: string; target: string }[] = [];
    const inside = (abs: string) => dirs.some((d) => abs === d || abs.startsWith(d + '/'));
    const scan = (dir: string, depth: number) => {
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const full = join(dir, e.name);
        if (e.isSymbolicLink()) {
          const target = readlinkSync(full);
          if (inside(resolve(dir, target))) found.push({ path: relative(this.root, full), target });
        } else if (e.isDirectory() && depth > 0) {
          scan(full, depth - 1);
        }
      }
    };
    scan(join(this.root, 'class'), 1);
    scan(join(this.root, 'block'), 0);
    scan(join(this.root, 'dev'), 1);
    return found;
  }

  // IOMMU groups

  groupNumbers(): number[] {
    if (!existsSync(this.groupsDir)) return [];
    return readdirSync(this.groupsDir)
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .sort((a, b) => a - b);
  }

  /** The kernel hands out group numbers from an IDA: the lowest free one. */
  lowestFreeGroup(): number {
    const used = new Set(this.groupNumbers());
    let n = 0;
    while (used.has(n)) n++;
    return n;
  }

  /** A new group holding `bdf`, its `type` and `reserved_regions` like those of `likeGroup`. */
  createGroup(bdf: string, likeGroup: string | null): string {
    const n = String(this.lowestFreeGroup());
    const dir = join(this.groupsDir, n);
    mkdirSync(join(dir, 'devices'), { recursive: true, mode: 0o755 });
    const copy = (name: string, mode: number, fallback: string) => {
      let text = fallback;
      if (likeGroup !== null) {
        try {
          text = readFileSync(join(this.groupsDir, likeGroup, name), 'utf8');
        } catch {
          // keep the fallback
        }
      }
      writeFileSync(join(dir, name), text, { mode });
    };
    copy('type', 0o644, 'identity\n');
    copy('reserved_regions', 0o444, '0x00000000fee00000 0x00000000feefffff msi\n');
    const devDir = this.deviceDir(bdf);
    symlinkSync(relative(join(dir, 'devices'), devDir), join(dir, 'devices', bdf));
    symlinkSync(relative(devDir, dir), join(devDir, 'iommu_group'));
    return n;
  }

  /** Takes `bdf` out of its group; a group left empty disappears, as the kernel frees it. */
  leaveGroup(bdf: string): void {
    const group = this.iommuGroupOf(bdf);
    if (group === null) return;
    const dir = join(this.groupsDir, group);
    rmSync(join(dir, 'devices', bdf), { force: true });
    rmSync(join(this.deviceDir(bdf), 'iommu_group'), { force: true });
    if (readdirSync(join(dir, 'devices')).length === 0) rmSync(dir, { recursive: true, force: true });
  }
}

export function readLinkOrNull(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

function lstatExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}
