/**
 * The parts of a sysfs tree that hotslot reads, copied into snapshot entries with their symlinks
 * kept verbatim, so that `--sysfs-root X/sys` on the copy reads what the live tree said:
 *
 * - every PCI function's directory, whole: the trees `bus/pci/devices/*` point into (sysfs-reader);
 * - `bus/pci` itself, its drivers with their bound-device links, its slots (watcher, preflight);
 * - `kernel/iommu_groups` and `class/iommu` with the IOMMU devices (iommu-groups);
 * - the links from network interfaces, block devices and virtio transports to their devices,
 *   and those devices, which lead to the root disk and the default-route NIC (protected-devices);
 * - `kernel/irq` (the watcher's signature of allocated vectors).
 *
 * Only reads, and only inside the root: a link is followed only where its text resolves inside
 * it, and a directory whose real path leaves it is not listed. BAR and ROM files are recorded
 * empty, never read (a read of an I/O BAR is port I/O); write-only attributes become empty files
 * with their mode; each read is bounded.
 */
import { lstatSync, readdirSync, readlinkSync, realpathSync, type Stats } from 'node:fs';
import { posix as path } from 'node:path';
import { isBdf } from '../pci/bdf.js';
import { readBounded } from './bounded-read.js';
import type { DirEntry, FileEntry, SnapshotEntry } from './entries.js';

/** Per-file cap: `config` is at most 4 KiB and attributes a page; this leaves room for `vpd` and friends. */
export const MAX_ATTRIBUTE_BYTES = 1 << 20;

/** BAR and ROM windows: reading them touches the device. Their sizes are in `resource`. */
const NOT_READ = /^(resource\d+(_wc)?|rom|legacy_io|legacy_mem)$/;

/** Directories kept empty: runtime power, counters and queues, which nothing here reads. */
const NOT_RECURSED = new Set(['power', 'statistics', 'queues', 'queue', 'mq', 'trace', 'integrity']);

/** Subtrees never copied, only marked where a link points into them. */
const NOT_COPIED = ['devices/system', 'firmware', 'module', 'kernel/debug', 'kernel/tracing', 'kernel/security', 'fs'];

/** Class and bus directories of links that lead from an interface or a disk to its device. */
const DEVICE_LINK_DIRS = ['class/net', 'block', 'class/block', 'dev/block', 'bus/virtio/devices', 'class/vfio', 'class/vfio-dev'];

const isHostBridgeDir = (name: string) => /^pci[0-9a-f]{4,}:[0-9a-f]{2}$/.test(name);

/** How much of a directory's contents a snapshot holds; list errors count as nothing. */
const rank = (note: string) => ['placeholder', 'not-recursed', 'partial', ''].indexOf(note);

const notCopied = (rel: string) => NOT_COPIED.some((p) => rel === p || rel.startsWith(p + '/'));

/** Copies the sysfs tree at `root` (a real path) into entries under `prefix` (`sys`). */
export class SysfsCapture {
  private readonly entries = new Map<string, SnapshotEntry>();
  private readonly deep = new Set<string>();
  private readonly shallow = new Set<string>();
  private readonly links: string[] = [];

  constructor(
    private readonly root: string,
    private readonly prefix = 'sys',
  ) {}

  /** Everything, parents before children. */
  run(): SnapshotEntry[] {
    this.dir('', 'partial');
    this.pciFunctions();
    this.pciBus();
    this.iommu();
    for (const dir of DEVICE_LINK_DIRS) this.devicesLinkedFrom(dir);
    if (this.isDir('kernel/irq')) this.copyDir('kernel/irq', true);
    this.linkTargets();
    return [...this.entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  /** The host-bridge trees that `bus/pci/devices/*` point into, whole. */
  private pciFunctions(): void {
    const devices = 'bus/pci/devices';
    this.copyDir(devices, false);
    for (const name of this.list(devices) ?? []) {
      const rel = `${devices}/${name}`;
      const target = this.linkTarget(rel);
      // A fixture may keep a function's directory itself under bus/pci/devices.
      if (target === null) {
        if (this.isDir(rel)) this.copyDir(rel, true);
        continue;
      }
      const tree = pciTreeOf(target);
      this.copyAncestors(tree);
      this.copyDir(tree, true);
    }
  }

  /** `bus/pci`'s own attributes, each driver (bound-device links, bind/unbind) and each slot. */
  private pciBus(): void {
    this.copyDir('bus/pci', false);
    for (const sub of ['drivers', 'slots']) {
      for (const name of this.list(`bus/pci/${sub}`) ?? []) {
        if (this.isDir(`bus/pci/${sub}/${name}`)) this.copyDir(`bus/pci/${sub}/${name}`, false);
      }
    }
  }

  private iommu(): void {
    if (this.isDir('kernel/iommu_groups')) this.copyDir('kernel/iommu_groups', true);
    this.devicesLinkedFrom('class/iommu');
  }

  /** The links in a class or bus directory, and the device directories they point to, whole. */
  private devicesLinkedFrom(dir: string): void {
    if (!this.isDir(dir)) return;
    this.copyDir(dir, false);
    for (const name of this.list(dir) ?? []) {
      const target = this.linkTarget(`${dir}/${name}`);
      if (target === null || !this.isDir(target) || notCopied(target)) continue;
      // An NVMe namespace sits under nvme-subsysN, whose links lead to the controllers.
      this.copyAncestors(target);
      this.copyDir(target, true);
    }
  }

  /**
   * Where a link points and nothing is there yet: a device or driver directory is copied
   * shallowly (a `driver` of another bus, a `firmware_node`); anything else becomes an empty
   * directory, so that the link is not dangling.
   */
  private linkTargets(): void {
    for (const link of [...this.links]) {
      const target = this.linkTarget(link);
      if (target === null || this.entries.has(target) || !this.isDir(target)) continue;
      if ((target.startsWith('devices/') && !notCopied(target)) || /^bus\/[^/]+\/drivers\/[^/]+$/.test(target)) this.copyDir(target, false);
      else this.dir(target, 'placeholder');
    }
  }

  /** The parents of a device directory below `devices/x`, shallowly (their attributes and links). */
  private copyAncestors(rel: string): void {
    for (let a = path.dirname(rel); a.split('/').length >= 3; a = path.dirname(a)) this.copyDir(a, false);
  }

  /** A directory's files and links; its subdirectories too when `deep`, else as empty directories. */
  private copyDir(rel: string, deep: boolean): void {
    if (notCopied(rel)) {
      this.dir(rel, 'placeholder');
      return;
    }
    if (this.deep.has(rel) || (!deep && this.shallow.has(rel))) return;
    (deep ? this.deep : this.shallow).add(rel);
    if (!this.inside(rel)) {
      this.dir(rel, 'placeholder');
      return;
    }
    let names: string[];
    try {
      names = readdirSync(this.abs(rel)).sort();
    } catch (err) {
      this.dir(rel, `list-error:${(err as NodeJS.ErrnoException).code ?? 'EIO'}`);
      return;
    }
    this.dir(rel, '');
    for (const name of names) {
      const child = rel === '' ? name : `${rel}/${name}`;
      const st = this.lstat(child);
      if (st === null) continue;
      if (st.isSymbolicLink()) this.copyLink(child);
      else if (st.isFile()) this.copyFile(child, st);
      else if (st.isDirectory()) {
        if (deep && !NOT_RECURSED.has(name)) this.copyDir(child, true);
        else this.dir(child, 'not-recursed');
      }
    }
  }

  private copyFile(rel: string, st: Stats): void {
    if (this.entries.has(rel)) return;
    const mode = st.mode & 0o7777;
    const entry: FileEntry = { kind: 'file', path: this.out(rel), mode, data: Buffer.alloc(0), kernelSize: st.size, note: '' };
    if ((mode & 0o444) === 0) entry.note = 'write-only';
    else if (NOT_READ.test(path.basename(rel))) entry.note = 'not-read(bar/rom)';
    else {
      const r = readBounded(this.abs(rel), MAX_ATTRIBUTE_BYTES);
      if (r.ok) {
        entry.data = r.data;
        if (r.truncated) entry.note = 'truncated';
      } else entry.note = `read-error:${r.errno}`;
    }
    this.ensureParent(rel);
    this.entries.set(rel, entry);
  }

  private copyLink(rel: string): void {
    if (this.entries.has(rel)) return;
    let target: string;
    try {
      target = readlinkSync(this.abs(rel));
    } catch {
      return;
    }
    this.ensureParent(rel);
    this.entries.set(rel, { kind: 'link', path: this.out(rel), target });
    this.links.push(rel);
  }

  /**
   * Records a directory (and its parents, as `partial`). A directory's note only ever moves
   * towards copied: placeholder, not-recursed, partial, copied.
   */
  private dir(rel: string, note: string): void {
    const known = this.entries.get(rel);
    if (known?.kind === 'dir') {
      if (rank(note) > rank(known.note)) known.note = note;
      return;
    }
    if (known) return;
    this.ensureParent(rel);
    const st = this.inside(rel) ? this.lstat(rel) : null;
    const mode = st?.isDirectory() ? st.mode & 0o7777 : 0o755;
    const entry: DirEntry = { kind: 'dir', path: this.out(rel), mode, note };
    this.entries.set(rel, entry);
  }

  private ensureParent(rel: string): void {
    if (rel === '') return;
    const parent = path.dirname(rel);
    const p = parent === '.' ? '' : parent;
    this.dir(p, 'partial');
  }

  /** Where a link inside the tree points, relative to the root; null when not a link or it leaves the root. */
  private linkTarget(rel: string): string | null {
    let text: string;
    try {
      text = readlinkSync(this.abs(rel));
    } catch {
      return null;
    }
    const resolved = path.isAbsolute(text) ? path.relative(this.root, path.normalize(text)) : path.normalize(path.join(path.dirname(rel), text));
    if (resolved === '' || resolved === '.' || resolved.startsWith('../') || resolved === '..' || path.isAbsolute(resolved)) return null;
    return resolved;
  }

  /** Whether the directory's real path is the root or below it (no link in its path leads out). */
  private inside(rel: string): boolean {
    try {
      const real = realpathSync.native(this.abs(rel));
      return real === this.root || real.startsWith(this.root === '/' ? '/' : this.root + '/');
    } catch {
      return false;
    }
  }

  private isDir(rel: string): boolean {
    return this.lstat(rel)?.isDirectory() === true && this.inside(rel);
  }

  private list(rel: string): string[] | null {
    if (!this.inside(rel)) return null;
    try {
      return readdirSync(this.abs(rel)).sort();
    } catch {
      return null;
    }
  }

  private lstat(rel: string): Stats | null {
    try {
      return lstatSync(this.abs(rel));
    } catch {
      return null;
    }
  }

  private abs(rel: string): string {
    return rel === '' ? this.root : `${this.root}/${rel}`;
  }

  private out(rel: string): string {
    return rel === '' ? this.prefix : `${this.prefix}/${rel}`;
  }
}

/**
 * The tree a PCI function lives in: its host bridge's directory (`devices/pci0000:00`, also when
 * that sits under a platform device), else its topmost PCI ancestor.
 */
export function pciTreeOf(deviceRel: string): string {
  const parts = deviceRel.split('/');
  let i = parts.findIndex(isHostBridgeDir);
  if (i < 0) i = parts.findIndex(isBdf);
  return i < 0 ? deviceRel : parts.slice(0, i + 1).join('/');
}
