/**
 * Re-reads the host periodically and reports only what changed, as `host.*` events.
 *
 * An unchanged cycle must be cheap (a fraction of a full scan), so it reads what covers many
 * functions at once: the device list (`bus/pci/devices`), every driver's bound devices
 * (`bus/pci/drivers/NAME/`), the kernel's interrupt descriptors (`kernel/irq/`, one per allocated
 * vector: MSI and MSI-X changes show there), whether an IOMMU is present, and from procfs what is
 * mounted, the default route and the handlers of `/proc/interrupts`. A function's own attributes
 * that only a write changes (`driver_override`, `reset_method`, `uevent`, and `msi_irqs/` where
 * `kernel/irq` is missing) are compared on a fingerprint for a rotating share of the functions:
 * each is verified at least once every `verifyEvery` cycles. Only a function whose facts moved
 * is read in full and decoded again. Assignability depends on other functions (group members,
 * bus neighbours), so when anything moved every device is judged again, and a device is
 * reported when its record differs.
 */
import { posix as path } from 'node:path';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { HotslotEvent } from '../core/events.js';
import type { HostDevice } from './host-device.js';
import { interruptCounts, parseProcInterrupts } from './interrupts.js';
import { iommuPresent } from './iommu-groups.js';
import { describeHost, readHost, type HostInventory, type HostReading, type HostSources, type ViewCache } from './inventory.js';
import { readInUse, sameInUse } from './protected-devices.js';
import { exists, listDir, readAttr, readText } from './sysfs-files.js';
import { isBdf } from '../pci/bdf.js';
import { functionPath, listFunctions, PCI_DEVICES, readFunction, type SysfsFunction } from './sysfs-reader.js';

export type HostEvent = Extract<HotslotEvent, { type: `host.${string}` }>;

export interface WatcherTuning {
  /** Every function's own attributes are verified at least once in this many cycles (1: every cycle). Default 8. */
  verifyEvery?: number;
  /**
   * Also emit `host.interrupts` (interrupt totals per BDF from /proc/interrupts) on each cycle
   * where any total moved, for the dashboard's activity columns. Off by default: counters move
   * all the time, and a quiet host should cost nothing.
   */
  countInterrupts?: boolean;
}

export class HostWatcher {
  private reading: HostReading | null = null;
  private inventory: HostInventory | null = null;
  private readonly cache: ViewCache = new Map();
  private readonly fingerprints = new Map<string, string>();
  private readonly dirs = new Map<string, string>();
  private handlersSignature = '';
  private irqDescriptors: string[] | null = null;
  private cycle = 0;
  private readonly verifyEvery: number;
  private readonly countInterrupts: boolean;
  private lastCounts = '';

  constructor(
    private readonly src: HostSources,
    private readonly clock: Clock = systemClock,
    tuning: WatcherTuning = {},
  ) {
    this.verifyEvery = Math.max(1, Math.floor(tuning.verifyEvery ?? 8));
    this.countInterrupts = tuning.countInterrupts ?? false;
  }

  /** The devices as of the last scan or poll. */
  get current(): HostInventory | null {
    return this.inventory;
  }

  /** The host as it is now: a full read the first time, then a poll (its events are dropped). */
  refresh(): HostInventory {
    this.poll();
    if (!this.inventory) throw new Error('host watcher: a poll left no inventory');
    return this.inventory;
  }

  /** A full read: the `host.scanned` event that starts a session. */
  scan(): Extract<HotslotEvent, { type: 'host.scanned' }> {
    this.fingerprints.clear();
    this.dirs.clear();
    // Fingerprints first: a change that lands during the read shows up in the next cycle.
    this.irqDescriptors = this.readIrqDescriptors();
    for (const bdf of listFunctions(this.src.sysfsRoot)) this.fingerprints.set(bdf, this.fingerprint(bdf, null));
    this.reading = readHost(this.src);
    for (const f of this.reading.functions.values()) this.dirs.set(f.bdf, path.join(this.src.sysfsRoot, f.path));
    this.handlersSignature = handlersSignature(this.reading.interrupts);
    this.inventory = describeHost(this.reading, this.src, this.cache);
    return { type: 'host.scanned', at: this.clock.now(), iommu: this.inventory.iommu, devices: this.inventory.devices };
  }

  /** One cycle: events for what changed since the last scan or poll; none when nothing did. */
  poll(): HostEvent[] {
    if (!this.reading || !this.inventory) return [this.scan()];
    const reading = this.reading;
    const cycle = this.cycle++;
    let changed = false;

    const now = listFunctions(this.src.sysfsRoot);
    const present = new Set(now);
    const touchedPfs = new Set<string>();
    for (const bdf of [...reading.functions.keys()]) {
      if (present.has(bdf)) continue;
      const gone = reading.functions.get(bdf);
      if (gone?.physfn) touchedPfs.add(gone.physfn);
      this.forget(bdf);
      changed = true;
    }

    const drivers = this.readDriverMap();
    const irqDescriptors = this.readIrqDescriptors();
    const irqsMoved = !sameList(irqDescriptors, this.irqDescriptors);
    this.irqDescriptors = irqDescriptors;
    for (let i = 0; i < now.length; i++) {
      const bdf = now[i];
      const known = reading.functions.get(bdf) ?? null;
      const driverMoved = known !== null && drivers !== null && (drivers.get(bdf) ?? null) !== known.driver;
      const verify = known === null || driverMoved || irqsMoved || drivers === null || i % this.verifyEvery === cycle % this.verifyEvery;
      if (!verify) continue;
      const fp = this.fingerprint(bdf, known);
      if (known && !driverMoved && fp === this.fingerprints.get(bdf)) continue;
      if (this.reread(bdf, fp)) {
        const fresh = reading.functions.get(bdf);
        if (!known && fresh?.physfn) touchedPfs.add(fresh.physfn);
      }
      changed = true;
    }
    // VFs came or went: their PF's sriov_numvfs moved with them.
    for (const pf of touchedPfs) if (reading.functions.has(pf)) this.reread(pf, this.fingerprint(pf, null));

    const iommu = iommuPresent(this.src.sysfsRoot);
    const inUse = readInUse(this.src.procRoot);
    const interrupts = readText(path.join(this.src.procRoot, 'interrupts'));
    const signature = handlersSignature(interrupts);
    if (iommu !== reading.iommu || !sameInUse(inUse, reading.inUse) || signature !== this.handlersSignature) changed = true;
    reading.iommu = iommu;
    reading.inUse = inUse;
    reading.interrupts = interrupts;
    this.handlersSignature = signature;
    const events: HostEvent[] = [];
    if (changed) {
      const before = this.inventory;
      this.inventory = describeHost(reading, this.src, this.cache);
      events.push(...diffInventories(before, this.inventory, this.clock.now()));
    }
    if (this.countInterrupts) {
      const counts = this.interruptTotals(interrupts);
      const key = JSON.stringify(counts);
      if (key !== this.lastCounts) events.push({ type: 'host.interrupts', at: this.clock.now(), counts });
      this.lastCounts = key;
    }
    return events;
  }

  private interruptTotals(text: string | null): Record<string, number> {
    const functions = [...(this.reading?.functions.values() ?? [])].map((f) => ({
      bdf: f.bdf,
      msiIrqs: f.msi?.irqs ?? [],
      intxIrq: this.inventory?.byBdf.get(f.bdf)?.interrupts.mode === 'intx' ? f.irq : null,
    }));
    return interruptCounts(functions, parseProcInterrupts(text));
  }

  /** BDF -> driver from each driver's directory of bound devices; null without `bus/pci/drivers`. */
  private readDriverMap(): Map<string, string> | null {
    const root = `${this.src.sysfsRoot}/bus/pci/drivers`;
    const names = listDir(root);
    if (names === null) return null;
    const map = new Map<string, string>();
    // A BDF is 12 characters: the length spares the pattern for `bind`, `new_id`, `module` and the like.
    for (const driver of names) for (const entry of listDir(`${root}/${driver}`) ?? []) if (entry.length === 12 && isBdf(entry)) map.set(entry, driver);
    return map;
  }

  /** The allocated interrupt descriptors; null where the kernel (or a snapshot) does not show them. */
  private readIrqDescriptors(): string[] | null {
    return listDir(`${this.src.sysfsRoot}/kernel/irq`);
  }

  private forget(bdf: string): void {
    this.reading?.functions.delete(bdf);
    this.fingerprints.delete(bdf);
    this.dirs.delete(bdf);
  }

  /** Reads one function in full; false (and forgotten) when it is gone. */
  private reread(bdf: string, fp: string): boolean {
    const reading = this.reading;
    if (!reading) return false;
    const fresh = readFunction(this.src.sysfsRoot, bdf);
    if (!fresh) {
      this.forget(bdf);
      return false;
    }
    reading.functions.set(bdf, fresh);
    this.fingerprints.set(bdf, fp);
    this.dirs.set(bdf, path.join(this.src.sysfsRoot, fresh.path));
    return true;
  }

  /**
   * What a function's own files say, in a few reads. `reset_method` is read only where the kernel
   * has it (it never appears later); for a function not read yet it is tried, and absent reads as ''.
   */
  private fingerprint(bdf: string, known: SysfsFunction | null): string {
    let dir = this.dirs.get(bdf);
    if (!dir) {
      const rel = functionPath(this.src.sysfsRoot, bdf) ?? path.join(PCI_DEVICES, bdf);
      dir = path.join(this.src.sysfsRoot, rel);
    }
    const uevent = readAttr(`${dir}/uevent`) ?? '';
    const override = readAttr(`${dir}/driver_override`) ?? '';
    // msi_irqs/ is absent while MSI is off: asking first is cheaper than a listing that fails.
    const msi = (exists(`${dir}/msi_irqs`) ? listDir(`${dir}/msi_irqs`)?.join(',') : null) ?? '-';
    const reset = !known || known.resetMethods !== null ? (readAttr(`${dir}/reset_method`) ?? '') : '';
    return `${uevent}\u0000${override}\u0000${msi}\u0000${reset}`;
  }
}

/** Both null, or the same names in the same order (a listing is sorted). */
function sameList(a: readonly string[] | null, b: readonly string[] | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Only the handler names matter (who shares a line, whether vfio armed INTx), not the counters. */
function handlersSignature(text: string | null): string {
  const parts: string[] = [];
  for (const [irq, line] of parseProcInterrupts(text)) parts.push(`${irq}:${line.handlers.join(',')}`);
  return parts.join(';');
}

/** Added, removed and changed devices between two inventories, with the top-level fields that differ. */
export function diffInventories(before: HostInventory, after: HostInventory, at: number): HostEvent[] {
  const events: HostEvent[] = [];
  for (const d of before.devices) if (!after.byBdf.has(d.bdf)) events.push({ type: 'host.device.removed', at, bdf: d.bdf });
  for (const d of after.devices) {
    const old = before.byBdf.get(d.bdf);
    if (!old) {
      events.push({ type: 'host.device.added', at, device: d });
      continue;
    }
    const fields = changedFields(old, d);
    if (fields.length > 0) events.push({ type: 'host.device.changed', at, device: d, fields });
  }
  if (before.iommu !== after.iommu) events.unshift({ type: 'host.scanned', at, iommu: after.iommu, devices: after.devices });
  return events;
}

export function changedFields(a: HostDevice, b: HostDevice): string[] {
  const fields: string[] = [];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof HostDevice>;
  for (const k of keys) {
    if (a[k] === b[k]) continue;
    if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) fields.push(k);
  }
  return fields;
}
