/**
 * A simulated Linux kernel behind a sysfs-shaped tree. It receives the port's writes as the
 * kernel's store functions would and changes the tree the way Linux changes /sys:
 * `driver_override` decides who binds at `drivers_probe` (else the device's own driver, from an
 * id table seeded from what was bound when the simulator first saw the tree); vfio-pci only binds
 * functions with an IOMMU group; `reset` follows `reset_method` and a bus reset needs the function
 * alone on its bus; VFs come and go with `sriov_numvfs`; binds can be slow; and any write can be
 * made to fail. Its memory lives in the tree (see sim-state.ts), so separate commands share it.
 */
import { existsSync, realpathSync, statfsSync } from 'node:fs';
import { basename, relative, sep } from 'node:path';
import { systemClock, type Clock } from '../core/clock.js';
import { isBdf } from '../pci/bdf.js';
import type { KernelPort, SysfsWrite } from './kernel-port.js';
import { RESET_METHODS } from './kernel-port.js';
import {
  emptyState,
  hasPendingBinds,
  hasState,
  loadState,
  saveState,
  trimLogs,
  type FaultRule,
  type SimState,
} from './sim-state.js';
import { SimTree } from './sim-tree.js';
import { STUB_DRIVERS, VF_DRIVERS, seedStateFromTree } from './sim-drivers.js';
import { createVfs, hardwareTotalVfs, listVfs, removeVfs } from './sim-vf.js';
import { fileReads, type SysfsIo } from './sysfs-io.js';
import { SysfsKernelPort, type PortOptions } from './sysfs-kernel-port.js';
import { parseResetMethods } from '../pci/sysfs-attributes.js';

const SYSFS_MAGIC = 0x62656572;

export interface SimOptions extends PortOptions {
  /** Extra `vendor:device` -> driver entries for the id table (only when the state is first made). */
  natives?: Record<string, string>;
}

/** What `failNext` takes: which write to fail (any of op, device, file) and with which errno. */
export interface FaultSpec {
  op?: SysfsWrite['op'];
  bdf?: string;
  file?: string;
  errno: string;
  times?: number;
}

export type FaultHook = (w: SysfsWrite) => string | undefined;

class KernelRefusal extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const refuse = (code: string, why: string) => new KernelRefusal(code, why);

export class SimulatedKernel implements SysfsIo {
  readonly tree: SimTree;
  readonly port: KernelPort;
  private readonly clock: Clock;
  private hook: FaultHook | undefined;

  private constructor(
    readonly sysfsRoot: string,
    opts: SimOptions,
  ) {
    this.tree = new SimTree(sysfsRoot);
    this.clock = opts.clock ?? systemClock;
    this.port = new SysfsKernelPort('sim', sysfsRoot, this, opts);
  }

  /** Opens the simulator on a tree; the first open of a tree records what the tree says now. */
  static open(sysfsRoot: string, opts: SimOptions = {}): SimulatedKernel {
    refuseRealSysfs(sysfsRoot);
    if (!existsSync(`${sysfsRoot}/bus/pci/devices`)) {
      throw new Error(`simulated kernel: ${sysfsRoot} is not a sysfs tree (no bus/pci/devices in it)`);
    }
    const sim = new SimulatedKernel(sysfsRoot, opts);
    if (!hasState(sysfsRoot)) {
      const state = emptyState();
      seedStateFromTree(sim.tree, state, opts.natives ?? {});
      saveState(sysfsRoot, state);
    }
    return sim;
  }

  // Control, for tests and labs

  /** The next matching write fails with `errno` (`times` writes, default 1); kept in the tree. */
  failNext(spec: FaultSpec): void {
    this.update((s) => {
      s.faults.push({ op: spec.op, bdf: spec.bdf, file: spec.file, errno: spec.errno, times: spec.times ?? 1 });
    });
  }

  clearFaults(): void {
    this.update((s) => {
      s.faults = [];
    });
  }

  /** A hook asked before every write (in this process only); an errno it returns fails the write. */
  setFaultHook(hook: FaultHook | undefined): void {
    this.hook = hook;
  }

  /** Binds take `ms` before the `driver` link appears (for one driver, or for all). */
  setBindDelay(ms: number, driver?: string): void {
    this.update((s) => {
      if (driver === undefined) s.bindDelayMs.default = ms;
      else s.bindDelayMs.byDriver[driver] = ms;
    });
  }

  /** A copy: the simulator's own object is shared with its cache. */
  state(): SimState {
    return structuredClone(loadState(this.sysfsRoot));
  }

  // SysfsIo: reads see binds whose time has come

  async readText(path: string): Promise<string | null> {
    this.settleDue();
    return fileReads.readText(path);
  }

  async readLink(path: string): Promise<string | null> {
    this.settleDue();
    return fileReads.readLink(path);
  }

  async exists(path: string): Promise<boolean> {
    this.settleDue();
    return fileReads.exists(path);
  }

  /** Everything happens synchronously inside, so two writes never interleave. */
  // eslint-disable-next-line @typescript-eslint/require-await -- the SysfsIo contract is async
  async write(w: SysfsWrite): Promise<void> {
    const state = loadState(this.sysfsRoot);
    try {
      this.settle(state, this.clock.wallNow());
      this.carryOut(state, w);
    } catch (err) {
      if (err instanceof KernelRefusal) throw Object.assign(new Error(err.message), { code: err.code });
      throw err;
    } finally {
      trimLogs(state);
      saveState(this.sysfsRoot, state);
    }
  }

  private carryOut(state: SimState, w: SysfsWrite): void {
    const rel = relative(this.sysfsRoot, w.path).split(sep).join('/');
    if (rel === 'bus/pci/drivers_probe') {
      this.injectFault(state, w);
      return this.probe(state, w.value);
    }
    const drv = /^bus\/pci\/drivers\/([^/]+)\/unbind$/.exec(rel);
    if (drv) {
      if (!this.tree.hasDriver(drv[1])) throw refuse('ENOENT', `no driver ${drv[1]}`);
      this.injectFault(state, w);
      return this.unbind(state, drv[1], w.value);
    }
    const dev = /^bus\/pci\/devices\/([^/]+)\/(.+)$/.exec(rel);
    if (!dev || !isBdf(dev[1]) || !this.tree.hasDevice(dev[1])) throw refuse('ENOENT', `no such file: ${w.path}`);
    const [, bdf, file] = dev;
    this.settleDevice(state, bdf); // the kernel takes the device lock: an in-flight probe finishes first
    if (!this.tree.hasAttr(bdf, file)) throw refuse('ENOENT', `no such file: ${w.path}`);
    this.injectFault(state, w);
    switch (file) {
      case 'driver/unbind':
        return this.unbind(state, this.tree.driverOf(bdf) ?? '', w.value);
      case 'driver_override':
        return this.setOverride(bdf, w.value);
      case 'reset_method':
        return this.selectResetMethods(state, bdf, w.value);
      case 'reset':
        return this.reset(state, bdf, w.value);
      case 'sriov_numvfs':
        return this.setNumVfs(state, bdf, w.value);
      default:
        throw refuse('EOPNOTSUPP', `the simulated kernel does not model writes to ${file}`);
    }
  }

  private injectFault(state: SimState, w: SysfsWrite): void {
    const file = basename(w.path);
    const i = state.faults.findIndex((f) => matches(f, w, file));
    if (i >= 0) {
      const rule = state.faults[i];
      if (--rule.times <= 0) state.faults.splice(i, 1);
      throw refuse(rule.errno, `injected ${rule.errno}`);
    }
    const errno = this.hook?.(w);
    if (errno !== undefined) throw refuse(errno, `injected ${errno}`);
  }

  // The kernel's store functions

  /** drivers/NAME/unbind: the named device must be bound to NAME (else ENODEV). */
  private unbind(state: SimState, driver: string, value: string): void {
    const bdf = value.trim();
    if (!isBdf(bdf) || !this.tree.hasDevice(bdf)) throw refuse('ENODEV', `no device ${bdf}`);
    this.settleDevice(state, bdf);
    if (this.tree.driverOf(bdf) !== driver) throw refuse('ENODEV', `${bdf} is not bound to ${driver}`);
    this.release(state, bdf);
  }

  /** driver_override: up to the first newline; a lone newline clears it. */
  private setOverride(bdf: string, value: string): void {
    if (value.length === 0) return; // an empty write never reaches the kernel
    if (value.length >= 4095) throw refuse('EINVAL', 'too long');
    const name = value.split('\n')[0];
    this.tree.setAttr(bdf, 'driver_override', name === '' ? '(null)\n' : `${name}\n`);
  }

  /**
   * drivers_probe: binds an unbound device to the driver that matches it. A probe the driver
   * refuses leaves the device unbound and the write still succeeds (the kernel only logs it).
   */
  private probe(state: SimState, value: string): void {
    const bdf = value.trim();
    if (!isBdf(bdf) || !this.tree.hasDevice(bdf)) throw refuse('ENODEV', `no device ${bdf}`);
    this.settleDevice(state, bdf);
    if (this.tree.driverOf(bdf) !== null) return;
    const override = this.tree.override(bdf);
    if (override === null && this.isVf(bdf) && !this.autoprobesVfs(this.pfOf(bdf))) return;
    const driver = override ?? state.natives[this.tree.deviceId(bdf)] ?? null;
    if (driver === null || !this.tree.hasDriver(driver)) return;
    const refusal = this.probeRefusal(state, bdf, driver);
    if (refusal !== null) {
      state.probeFailures.push({ bdf, driver, errno: refusal, at: this.clock.wallNow() });
      return;
    }
    const delay = state.bindDelayMs.byDriver[driver] ?? state.bindDelayMs.default;
    if (delay > 0) state.pendingBinds.push({ bdf, driver, dueAt: this.clock.wallNow() + delay });
    else this.attach(state, bdf, driver);
  }

  private probeRefusal(state: SimState, bdf: string, driver: string): string | null {
    if (driver === 'vfio-pci') {
      if (this.tree.headerType(bdf) !== 0) return 'EINVAL';
      if (this.tree.iommuGroupOf(bdf) === null) return 'EINVAL';
      return null;
    }
    if (STUB_DRIVERS.has(driver)) return null;
    // Any other driver only drives the hardware in its id table.
    return state.natives[this.tree.deviceId(bdf)] === driver ? null : 'ENODEV';
  }

  /** reset_method: every name must be a method the function has and that passes its check now. */
  private selectResetMethods(state: SimState, bdf: string, value: string): void {
    if (value.length >= 4095) throw refuse('EINVAL', 'too long');
    const v = value.trim();
    const defaults = this.resetDefaults(state, bdf);
    if (v === '') {
      this.tree.setAttr(bdf, 'reset_method', '');
      return;
    }
    if (v === 'default') {
      const now = defaults.filter((m) => this.methodWorks(bdf, m));
      this.tree.setAttr(bdf, 'reset_method', now.length ? `${now.join(' ')}\n` : '');
      return;
    }
    const names = v.split(/\s+/);
    for (const m of names) {
      if (!(RESET_METHODS as readonly string[]).includes(m) || !defaults.includes(m) || !this.methodWorks(bdf, m)) {
        throw refuse('EINVAL', `unsupported reset method '${m}'`);
      }
    }
    this.tree.setAttr(bdf, 'reset_method', `${names.join(' ')}\n`);
  }

  /** reset: "1" tries the methods of reset_method in order; ENOTTY when none works. */
  private reset(state: SimState, bdf: string, value: string): void {
    const v = value.trim();
    if (!/^(0x[0-9a-f]+|\d+)$/i.test(v) || Number(v) !== 1) throw refuse('EINVAL', `reset takes 1, not ${v}`);
    const methods = parseResetMethods(this.tree.readAttr(bdf, 'reset_method')) ?? [];
    for (const m of methods) {
      if (!this.methodWorks(bdf, m)) continue;
      state.resets.push({ bdf, method: m, at: this.clock.wallNow() });
      return;
    }
    throw refuse('ENOTTY', 'no reset method works');
  }

  /** A bus reset resets everything on the bus, so the kernel allows it only for a function alone there. */
  private methodWorks(bdf: string, method: string): boolean {
    if (method === 'bus') return !this.tree.onRootBus(bdf) && this.tree.busSiblings(bdf).length === 0;
    return method !== 'cxl_bus';
  }

  private resetDefaults(state: SimState, bdf: string): string[] {
    return state.resetDefaults[bdf] ?? parseResetMethods(this.tree.readAttr(bdf, 'reset_method')) ?? [];
  }

  /** sriov_numvfs: through the PF driver; a non-zero count only from 0; never above sriov_totalvfs. */
  private setNumVfs(state: SimState, pf: string, value: string): void {
    const v = value.trim();
    if (!/^\d+$/.test(v) || Number(v) > 0xffff) throw refuse('EINVAL', `not a count: ${v}`);
    const count = Number(v);
    const total = parseInt(this.tree.readAttr(pf, 'sriov_totalvfs') ?? '0', 10);
    if (count > total) throw refuse('ERANGE', `${count} > ${total}`);
    const current = parseInt(this.tree.readAttr(pf, 'sriov_numvfs') ?? '0', 10);
    if (count === current) return;
    const driver = this.tree.driverOf(pf);
    // pci-stub has no sriov_configure, and vfio-pci has one only with enable_sriov=1.
    if (driver === null || STUB_DRIVERS.has(driver)) throw refuse('ENOENT', 'no PF driver that configures SR-IOV');
    if (count === 0) return this.dropVfs(state, pf);
    if (current !== 0) throw refuse('EBUSY', `${current} VFs already enabled`);
    const vfs = createVfs(this.tree, pf, count);
    const vfDriver = VF_DRIVERS[driver];
    for (const vf of vfs) {
      state.resetDefaults[vf] = ['flr'];
      const id = this.tree.deviceId(vf);
      if (state.natives[id] === undefined && vfDriver !== undefined) state.natives[id] = vfDriver;
      const native = state.natives[id];
      if (native !== undefined && this.autoprobesVfs(pf)) {
        this.tree.ensureDriver(native); // udev loads the VF driver's module for the new device
        this.attach(state, vf, native);
      }
    }
  }

  private dropVfs(state: SimState, pf: string): void {
    const gone = removeVfs(this.tree, pf, (vf) => {
      if (this.tree.driverOf(vf) !== null) this.release(state, vf);
    });
    for (const vf of gone) {
      delete state.resetDefaults[vf];
      delete state.stash[vf];
      this.tree.dropStash(vf);
    }
    state.pendingBinds = state.pendingBinds.filter((p) => !gone.includes(p.bdf));
  }

  // Binding and unbinding

  private attach(state: SimState, bdf: string, driver: string): void {
    if (this.tree.driverOf(bdf) !== null) return;
    this.tree.linkDriver(bdf, driver);
    const total = state.driverTotalVfs[bdf]?.[driver];
    if (total !== undefined) this.tree.setAttr(bdf, 'sriov_totalvfs', `${total}\n`);
    const stash = state.stash[bdf];
    if (stash === undefined) return;
    if (stash.driver === driver) {
      this.tree.restoreDriverChildren(bdf, stash);
      delete state.stash[bdf];
    } else if (!STUB_DRIVERS.has(driver)) {
      // Another real driver makes its own; what the old one had is gone for good.
      this.tree.dropStash(bdf);
      delete state.stash[bdf];
    }
  }

  /** The driver's remove: its VFs go (PF drivers disable SR-IOV), its vectors and netdevs go, then the link. */
  private release(state: SimState, bdf: string): void {
    const driver = this.tree.driverOf(bdf);
    if (driver === null) return;
    if (this.tree.hasAttr(bdf, 'sriov_numvfs')) {
      if (listVfs(this.tree, bdf).length > 0) this.dropVfs(state, bdf);
      this.forgetDriverVfLimit(state, bdf, driver);
    }
    const entry = this.tree.stashDriverChildren(bdf, driver);
    if (entry.children.length > 0 || entry.links.length > 0) state.stash[bdf] = entry;
    this.tree.unlinkDriver(bdf);
  }

  /** A PF driver may lower `sriov_totalvfs` (igb: 7); once it is gone the hardware's TotalVFs shows again. */
  private forgetDriverVfLimit(state: SimState, pf: string, driver: string): void {
    const hw = hardwareTotalVfs(this.tree, pf);
    const shown = parseInt(this.tree.readAttr(pf, 'sriov_totalvfs') ?? '', 10);
    if (hw === null || !Number.isFinite(shown) || shown === hw) return;
    state.driverTotalVfs[pf] = { ...state.driverTotalVfs[pf], [driver]: shown };
    this.tree.setAttr(pf, 'sriov_totalvfs', `${hw}\n`);
  }

  // Slow binds

  private settle(state: SimState, now: number): boolean {
    const due = state.pendingBinds.filter((p) => p.dueAt <= now);
    if (due.length === 0) return false;
    state.pendingBinds = state.pendingBinds.filter((p) => p.dueAt > now);
    for (const p of due) if (this.tree.hasDevice(p.bdf)) this.attach(state, p.bdf, p.driver);
    return true;
  }

  private settleDevice(state: SimState, bdf: string): void {
    const mine = state.pendingBinds.filter((p) => p.bdf === bdf);
    if (mine.length === 0) return;
    state.pendingBinds = state.pendingBinds.filter((p) => p.bdf !== bdf);
    for (const p of mine) this.attach(state, p.bdf, p.driver);
  }

  private settleDue(): void {
    if (!hasPendingBinds(this.sysfsRoot)) return;
    const state = loadState(this.sysfsRoot);
    if (this.settle(state, this.clock.wallNow())) saveState(this.sysfsRoot, state);
  }

  // Helpers

  private update(change: (s: SimState) => void): void {
    const s = loadState(this.sysfsRoot);
    change(s);
    saveState(this.sysfsRoot, s);
  }

  private isVf(bdf: string): boolean {
    return existsSync(`${this.tree.deviceDir(bdf)}/physfn`);
  }

  private pfOf(vf: string): string {
    return basename(realpathSync(`${this.tree.deviceDir(vf)}/physfn`));
  }

  private autoprobesVfs(pf: string): boolean {
    return (this.tree.readAttr(pf, 'sriov_drivers_autoprobe') ?? '1').trim() !== '0';
  }
}

function matches(f: FaultRule, w: SysfsWrite, file: string): boolean {
  return (f.op === undefined || f.op === w.op) && (f.bdf === undefined || f.bdf === w.bdf) && (f.file === undefined || f.file === file);
}

/** The simulator writes into its tree; pointed at the real /sys it would change the machine. */
function refuseRealSysfs(root: string): void {
  let real: string;
  try {
    real = realpathSync(root);
  } catch {
    throw new Error(`simulated kernel: ${root} does not exist`);
  }
  if (real === '/sys' || real.startsWith('/sys/') || statfsSync(real).type === SYSFS_MAGIC) {
    throw new Error(`simulated kernel: refusing ${root}: it is the real sysfs; use --kernel sim only on a fixture tree`);
  }
}
