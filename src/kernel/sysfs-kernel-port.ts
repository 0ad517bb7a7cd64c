/**
 * The port's logic: which file each operation writes, with which value, in which order, and how
 * a refusal becomes a sentence. The same logic drives the real kernel, the dry-run recorder and
 * the simulator; only the {@link SysfsIo} underneath differs.
 */
import { basename } from 'node:path';
import { systemClock, type Clock } from '../core/clock.js';
import { errnoOf, opLabel, stateError, writeError } from './kernel-errors.js';
import {
  KernelError,
  KernelInputError,
  RESET_METHODS,
  type KernelOp,
  type KernelPort,
  type ResetMethod,
  type ResetResult,
  type SriovState,
  type SysfsWrite,
  type UnbindResult,
  type WaitOptions,
} from './kernel-port.js';
import type { SysfsIo } from './sysfs-io.js';
import { checkDriverName, devicePaths, driversProbePath, type DevicePaths } from './sysfs-paths.js';
import { parseDriverOverride, parseResetMethods } from '../pci/sysfs-attributes.js';

export interface PortOptions {
  /** Time for waits; `now()` is read between polls. */
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
  /** Told of every write after the kernel accepted it (for logs and `--json` step lists). */
  onWrite?: (w: SysfsWrite) => void;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export const DEFAULT_WAIT: Required<WaitOptions> = { timeoutMs: 5000, pollMs: 50 };

export class SysfsKernelPort implements KernelPort {
  protected readonly clock: Clock;
  protected readonly sleep: (ms: number) => Promise<void>;
  private readonly onWrite?: (w: SysfsWrite) => void;

  constructor(
    readonly kind: KernelPort['kind'],
    readonly sysfsRoot: string,
    protected readonly io: SysfsIo,
    opts: PortOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.sleep = opts.sleep ?? realSleep;
    this.onWrite = opts.onWrite;
  }

  async unbind(bdf: string): Promise<UnbindResult> {
    const p = await this.device(bdf, 'unbind');
    const before = await this.driverOf(p);
    try {
      await this.write({ op: 'unbind', bdf: p.bdf, path: p.unbind, value: p.bdf });
    } catch (err) {
      // No `driver` link means nothing is bound: there is nothing to unbind.
      if (err instanceof KernelError && err.code === 'ENOENT' && (await this.driverOf(p)) === null) return { from: null };
      throw err;
    }
    return { from: before };
  }

  async setDriverOverride(bdf: string, driver: string): Promise<void> {
    checkDriverName(driver);
    const p = await this.device(bdf, 'setDriverOverride');
    await this.write({ op: 'setDriverOverride', bdf: p.bdf, path: p.driverOverride, value: driver }, opLabel('setDriverOverride', driver));
  }

  async clearDriverOverride(bdf: string): Promise<void> {
    const p = await this.device(bdf, 'clearDriverOverride');
    // The kernel clears the override when given a lone newline (an empty write never reaches it).
    await this.write({ op: 'clearDriverOverride', bdf: p.bdf, path: p.driverOverride, value: '\n' });
  }

  async driversProbe(bdf: string): Promise<void> {
    const p = await this.device(bdf, 'driversProbe');
    await this.write({ op: 'driversProbe', bdf: p.bdf, path: driversProbePath(this.sysfsRoot), value: p.bdf });
  }

  async reset(bdf: string, method?: ResetMethod): Promise<ResetResult> {
    if (method !== undefined && !RESET_METHODS.includes(method)) {
      throw new KernelInputError(`not a reset method: ${JSON.stringify(method)} (one of ${RESET_METHODS.join(', ')})`);
    }
    const p = await this.device(bdf, 'reset');
    const label = opLabel('reset', method);
    const before = parseResetMethods(await this.io.readText(p.resetMethod));
    if (!(await this.io.exists(p.reset))) {
      throw stateError('reset', p.bdf, p.reset, 'ENOENT', `${label} of ${p.bdf} failed: the function has no reset file, so the kernel knows no way to reset it`);
    }
    let selected = false;
    if (method !== undefined && !(before?.length === 1 && before[0] === method)) {
      if (before === null) {
        throw stateError('reset', p.bdf, p.resetMethod, 'ENOENT', `${label} of ${p.bdf} failed: this kernel has no reset_method file, so no method can be chosen`);
      }
      await this.write({ op: 'reset', bdf: p.bdf, path: p.resetMethod, value: method }, label);
      selected = true;
    }
    let resetError: KernelError | undefined;
    try {
      await this.write({ op: 'reset', bdf: p.bdf, path: p.reset, value: '1' }, label);
    } catch (err) {
      if (!(err instanceof KernelError)) throw err;
      resetError = err;
    }
    let restored: ResetResult['restored'] = 'unchanged';
    if (selected && before !== null) {
      restored = await this.restoreResetMethods(p, before, label, resetError);
    }
    if (resetError !== undefined) throw resetError;
    return { method: method ?? null, methodsBefore: before ?? [], restored };
  }

  /**
   * Puts `reset_method` back as it read before. The kernel re-checks every listed method, so a
   * list that held `bus` while the function was alone on its bus can no longer be written once a
   * sibling appeared; then `default` (the kernel's own choice) is the closest it can get.
   */
  private async restoreResetMethods(p: DevicePaths, before: string[], label: string, resetError: KernelError | undefined): Promise<ResetResult['restored']> {
    const exact: SysfsWrite = { op: 'reset', bdf: p.bdf, path: p.resetMethod, value: before.length ? before.join(' ') : '\n' };
    try {
      await this.write(exact, label);
      return 'exact';
    } catch (first) {
      try {
        await this.write({ ...exact, value: 'default' }, label);
        return 'default';
      } catch {
        const why = first instanceof KernelError ? first.message : String(first);
        const ran = resetError === undefined ? 'the reset ran, but ' : `${resetError.message}; and `;
        throw new KernelError('reset', p.bdf, p.resetMethod, errnoOf(first), `${label} of ${p.bdf}: ${ran}putting reset_method back to "${before.join(' ')}" failed too: ${why}`, exact.value);
      }
    }
  }

  async setNumVfs(bdf: string, count: number, opts: { throughZero?: boolean } = {}): Promise<void> {
    if (!Number.isInteger(count) || count < 0 || count > 0xffff) {
      throw new KernelInputError(`not a VF count: ${String(count)} (expected a whole number from 0)`);
    }
    const p = await this.device(bdf, 'setNumVfs');
    const label = opLabel('setNumVfs', String(count));
    const current = await this.readSriov(p);
    if (current === null) {
      throw stateError('setNumVfs', p.bdf, p.sriovNumVfs, 'ENOENT', `${label} of ${p.bdf} failed: it is not an SR-IOV physical function (no sriov_numvfs file)`);
    }
    if (opts.throughZero && current.numVfs !== 0 && count !== 0 && current.numVfs !== count) {
      // The kernel only accepts a new non-zero count when none is enabled.
      await this.write({ op: 'setNumVfs', bdf: p.bdf, path: p.sriovNumVfs, value: '0' }, label);
    }
    await this.write({ op: 'setNumVfs', bdf: p.bdf, path: p.sriovNumVfs, value: String(count) }, label);
  }

  async waitForDriver(bdf: string, driver: string | null, opts: WaitOptions = {}): Promise<void> {
    if (driver !== null) checkDriverName(driver);
    const p = await this.device(bdf, 'waitForDriver');
    const timeoutMs = opts.timeoutMs ?? DEFAULT_WAIT.timeoutMs;
    const pollMs = Math.max(1, opts.pollMs ?? DEFAULT_WAIT.pollMs);
    const start = this.clock.now();
    for (;;) {
      const current = await this.driverOf(p);
      if (current === driver) return;
      if (driver !== null) await this.refuseHopelessBind(p, driver, current);
      const elapsed = this.clock.now() - start;
      if (elapsed >= timeoutMs) throw await this.waitTimedOut(p, driver, current, timeoutMs);
      await this.sleep(Math.min(pollMs, timeoutMs - elapsed));
    }
  }

  /** A bind that can no longer happen fails at once instead of at the timeout. */
  private async refuseHopelessBind(p: DevicePaths, driver: string, current: string | null): Promise<void> {
    if (current !== null) {
      throw stateError('waitForDriver', p.bdf, p.driverLink, 'EBUSY', `binding ${p.bdf} to ${driver} failed: it is bound to ${current} instead (driver_override: ${await this.overrideText(p)})`);
    }
    if (driver === 'vfio-pci' && !(await this.io.exists(p.iommuGroup))) {
      // vfio-pci's probe returns EINVAL for a function without an IOMMU group; drivers_probe
      // itself reports success, so this is the first place the refusal can be seen.
      throw stateError('waitForDriver', p.bdf, p.iommuGroup, 'EINVAL', `binding ${p.bdf} to vfio-pci failed: the kernel refused (EINVAL: vfio-pci needs an IOMMU group and this function has none; it stays unbound)`);
    }
  }

  private async waitTimedOut(p: DevicePaths, driver: string | null, current: string | null, timeoutMs: number): Promise<KernelError> {
    const text =
      driver === null
        ? `waiting for ${p.bdf} to be unbound timed out after ${timeoutMs} ms: it is still bound to ${current ?? '?'}`
        : `binding ${p.bdf} to ${driver} timed out after ${timeoutMs} ms: the driver link ${current === null ? 'is still absent' : `names ${current}`} (driver_override: ${await this.overrideText(p)})`;
    return stateError('waitForDriver', p.bdf, p.driverLink, 'ETIMEDOUT', text);
  }

  async exists(bdf: string): Promise<boolean> {
    return this.io.exists(devicePaths(this.sysfsRoot, bdf).dir);
  }

  async currentDriver(bdf: string): Promise<string | null> {
    return this.driverOf(await this.device(bdf, 'read'));
  }

  async driverOverride(bdf: string): Promise<string | null> {
    const p = await this.device(bdf, 'read');
    return parseDriverOverride(await this.io.readText(p.driverOverride));
  }

  async resetMethods(bdf: string): Promise<string[] | null> {
    const p = await this.device(bdf, 'read');
    return parseResetMethods(await this.io.readText(p.resetMethod));
  }

  async iommuGroup(bdf: string): Promise<string | null> {
    const p = await this.device(bdf, 'read');
    const link = await this.io.readLink(p.iommuGroup);
    return link === null ? null : basename(link);
  }

  async sriov(bdf: string): Promise<SriovState | null> {
    return this.readSriov(await this.device(bdf, 'read'));
  }

  protected async write(w: SysfsWrite, label?: string): Promise<void> {
    try {
      await this.io.write(w);
    } catch (err) {
      throw writeError(w, errnoOf(err), { label });
    }
    this.onWrite?.(w);
  }

  /** The device's paths, once it is known to exist (ENODEV otherwise, before any write). */
  protected async device(bdf: string, op: KernelOp): Promise<DevicePaths> {
    const p = devicePaths(this.sysfsRoot, bdf);
    if (!(await this.io.exists(p.dir))) {
      const what = op === 'read' ? 'reading' : opLabel(op);
      throw stateError(op, p.bdf, p.dir, 'ENODEV', `${what} of ${p.bdf} failed: no such PCI function in ${this.sysfsRoot}/bus/pci/devices`);
    }
    return p;
  }

  private async driverOf(p: DevicePaths): Promise<string | null> {
    const link = await this.io.readLink(p.driverLink);
    return link === null ? null : basename(link);
  }

  private async overrideText(p: DevicePaths): Promise<string> {
    return parseDriverOverride(await this.io.readText(p.driverOverride)) ?? '(null)';
  }

  private async readSriov(p: DevicePaths): Promise<SriovState | null> {
    const num = await this.io.readText(p.sriovNumVfs);
    if (num === null) return null;
    const total = await this.io.readText(p.sriovTotalVfs);
    return { numVfs: parseInt(num.trim(), 10) || 0, totalVfs: total === null ? 0 : parseInt(total.trim(), 10) || 0 };
  }
}
