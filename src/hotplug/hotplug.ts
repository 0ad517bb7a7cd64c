import type { Clock } from '../core/clock.js';
import { ownerOfDriver, type Reason } from '../core/device.js';
import type { HotslotEvent } from '../core/events.js';
import type { OperationKind, OperationOutcome } from '../core/operations.js';
import { GUEST_QUERY_MS, readGuestPci, type GuestPciView } from '../guests/guest-pci.js';
import { scanGroupOf, type HostInventory, type HostSources } from '../host/inventory.js';
import { HostWatcher } from '../host/watcher.js';
import type { KernelPort } from '../kernel/index.js';
import { HotplugInputError, StepFailedError, StuckError, errorText } from './errors.js';
import { GroupLocks } from './group-lock.js';
import { deviceAddStep, deviceDelStep, qdevIdFor, type GuestStepTimeouts } from './guest-steps.js';
import { bindVfioStep, readOrigin, resetStep, restoreHost, returnHostStep, unbindStep, type HostStepTimeouts } from './host-steps.js';
import type { DeviceOrigin, Journal } from './journal.js';
import { OperationRun, type StepReport } from './operation-run.js';
import {
  blockersFor,
  vfioDriverReason,
  vfioInUseReason,
  wholeBusInRequest,
  memlockReason,
  notAllowedReasons,
  reservedReasons,
  type HotplugGuest,
} from './preflight.js';

const refusal = (reasons: Reason[]) => `refused by ${reasons.length === 1 ? 'a safety check' : `${reasons.length} safety checks`} (${[...new Set(reasons.map((r) => r.code))].join(', ')}); nothing changed`;

export type Timeouts = HostStepTimeouts & GuestStepTimeouts;

export const DEFAULT_TIMEOUTS: Timeouts = { driverMs: 10_000, unplugMs: 30_000, resendAfterMs: 5_500, pollMs: 250, queryMs: GUEST_QUERY_MS, deviceAddMs: 60_000 };

export interface HotplugDeps {
  kernel: KernelPort;
  /** Null in a dry run: nothing happens, so nothing is journalled. */
  journal: Journal | null;
  clock: Clock;
  emit(event: HotslotEvent): void;
  /** Where to read the host, with the configuration's lists: each operation reads it afresh. */
  host: HostSources;
  guests: HotplugGuest[];
  dryRun: boolean;
  timeouts?: Partial<Timeouts>;
  locks?: GroupLocks;
}

export interface OperationResult {
  opId: string;
  op: OperationKind;
  outcome: OperationOutcome;
  message: string;
  bdfs: string[];
  guest?: string;
  fromGuest?: string;
  steps: StepReport[];
  /** The reset method that ran, per device. */
  resetMethod: Record<string, string | null>;
  /** Where each device ended up. */
  finalOwner: Record<string, { kind: 'host' | 'vfio' | 'guest' | 'none'; guest?: string; driver?: string | null }>;
  reasons?: Reason[];
}

/** Where a finished operation left its devices: with this guest, or with none. */
interface Settled {
  inGuest: string | null;
}

/** Where a guest holds a host device. */
interface GuestPlace {
  guest: HotplugGuest;
  qdevId: string;
  /** The root port it is plugged into, to put it back there. */
  slot: string | null;
}

export interface RecoveryResult {
  opId: string;
  op: OperationKind;
  startedAt: string;
  ok: boolean;
  devices: { bdf: string; action: 'kept-with-guest' | 'kept-parked' | 'returned-home' | 'failed'; message: string }[];
}

export interface AttachOptions {
  noReset?: boolean;
  /** Take every endpoint of the device's IOMMU group along. */
  group?: boolean;
}

/** attach, detach, move, return, park: the steps of DESIGN.md section 3, with undo on failure. */
export class Hotplug {
  private readonly t: Timeouts;
  private readonly locks: GroupLocks;
  /**
   * Reads the whole host for a preflight: in full the first time, then only the functions whose
   * own files moved (driver, override, interrupts, reset methods), every one of them checked each
   * time, and what /proc says. A long-lived session (the dashboard) pays a quarter of a scan.
   */
  private readonly hostReader: HostWatcher;

  constructor(private readonly deps: HotplugDeps) {
    this.t = { ...DEFAULT_TIMEOUTS, ...deps.timeouts };
    // A shorter unplug window re-sends device_del earlier, unless told otherwise.
    if (deps.timeouts?.resendAfterMs === undefined) this.t.resendAfterMs = Math.min(DEFAULT_TIMEOUTS.resendAfterMs, this.t.unplugMs / 2);
    this.locks = deps.locks ?? new GroupLocks();
    this.hostReader = new HostWatcher(deps.host, deps.clock, { verifyEvery: 1 });
  }

  private guest(name: string): HotplugGuest {
    const g = this.deps.guests.find((x) => x.name === name);
    if (!g) {
      const known = this.deps.guests.map((x) => x.name);
      throw new HotplugInputError(`unknown guest ${JSON.stringify(name)} (${known.length ? `known: ${known.join(', ')}` : 'no guest is configured: use --guest NAME=SOCKET'})`);
    }
    return g;
  }

  private device(inv: HostInventory, bdf: string) {
    const d = inv.byBdf.get(bdf);
    if (!d) throw new HotplugInputError(`no PCI device ${bdf} on this host (${this.deps.kernel.sysfsRoot}/bus/pci/devices)`);
    return d;
  }

  private async views(): Promise<Map<string, GuestPciView>> {
    const out = new Map<string, GuestPciView>();
    for (const g of this.deps.guests) {
      try {
        out.set(g.name, await readGuestPci(g.qmp, this.t.queryMs));
      } catch {
        // an unreachable guest holds nothing we can act on
      }
    }
    return out;
  }

  private newRun(op: OperationKind): OperationRun {
    return new OperationRun(op, this.deps.dryRun ? null : this.deps.journal, this.deps.clock, (e) => this.deps.emit(e));
  }

  /**
   * Where each device ended up. `settled` is where a finished operation put them, which its last
   * step has just confirmed (the guest's query-pci, or its DEVICE_DELETED): then only the kernel is
   * asked for the driver. Otherwise the guests are asked again.
   */
  private async finalOwners(bdfs: string[], settled?: Settled): Promise<OperationResult['finalOwner']> {
    const views = this.deps.dryRun || settled ? new Map<string, GuestPciView>() : await this.views();
    const out: OperationResult['finalOwner'] = {};
    for (const bdf of bdfs) {
      const place = settled ? null : this.placeIn(views, bdf);
      const driver = await this.deps.kernel.currentDriver(bdf);
      const guest = settled?.inGuest ?? place?.guest.name;
      out[bdf] = guest !== undefined && guest !== null ? { kind: 'guest', guest, driver } : { ...ownerOfDriver(driver), driver };
    }
    return out;
  }

  private async result(
    run: OperationRun,
    outcome: OperationOutcome,
    message: string,
    bdfs: string[],
    extra: Partial<OperationResult> = {},
    settled?: Settled,
  ): Promise<OperationResult> {
    run.finish(outcome, message);
    if (!this.deps.dryRun) {
      try {
        await this.deps.journal?.durable();
      } catch (err) {
        message = `${message}; ${errorText(err)}`;
      }
    }
    const resetMethod: Record<string, string | null> = {};
    for (const b of bdfs) resetMethod[b] = run.steps.find((s) => s.step === 'reset' && s.bdf === b && s.status === 'ok')?.detail ?? null;
    return { opId: run.opId, op: run.op, outcome, message, bdfs, steps: run.steps, resetMethod, finalOwner: await this.finalOwners(bdfs, settled), ...extra };
  }

  /** A safety check said no before anything was touched (exit 3). */
  private refused(run: OperationRun, bdfs: string[], reasons: Reason[], extra: Partial<OperationResult>): Promise<OperationResult> {
    run.started(bdfs, extra.guest, extra.fromGuest);
    return this.result(run, 'refused', refusal(reasons), bdfs, { ...extra, reasons });
  }

  /** Runs `body`; on failure rolls back and reports failed (1), or stuck (4) when a guest holds on or an undo failed. */
  private async guarded(
    run: OperationRun,
    bdfs: string[],
    extra: Partial<OperationResult>,
    settled: Settled,
    body: () => Promise<string>,
  ): Promise<OperationResult> {
    try {
      const message = await body();
      run.commit();
      return await this.result(run, 'done', message, bdfs, extra, this.deps.dryRun ? undefined : settled);
    } catch (err) {
      const stuck = err instanceof StuckError ? err : err instanceof StepFailedError && err.cause instanceof StuckError ? err.cause : null;
      if (stuck) {
        run.commit();
        return this.result(run, 'stuck', stuck.message, bdfs, extra);
      }
      const failures = await run.rollback();
      const what = errorText(err);
      if (failures.length > 0) {
        return this.result(run, 'stuck', `${what}; then ${failures.join('; ')}. Run \`hotslot recover\` to finish putting it back`, bdfs, extra);
      }
      return this.result(run, 'failed', `${what}; every step was undone`, bdfs, extra);
    }
  }

  async attach(bdf: string, guestName: string, opts: AttachOptions = {}): Promise<OperationResult> {
    const guest = this.guest(guestName);
    // The guests are asked first: they answer while the host is read. Neither promise rejects.
    const viewsAsked = this.views();
    const statusAsked = guest.qmp.execute<{ status: string }>('query-status', undefined, { timeoutMs: this.t.queryMs }).catch((err: unknown) => ({ status: `unknown (${errorText(err)})` }));
    const inv = this.hostReader.refresh();
    const d = this.device(inv, bdf);
    const members =
      opts.group && d.iommuGroup !== null
        ? (inv.groups.get(d.iommuGroup) ?? [bdf]).filter((b) => inv.byBdf.get(b)?.headerType === 'endpoint')
        : [bdf];
    const request = new Set(members);
    const views = await viewsAsked;
    const reasons: Reason[] = [];
    for (const b of members) {
      reasons.push(...blockersFor(this.device(inv, b), request, { noReset: opts.noReset ?? false }, inv));
      const place = this.placeIn(views, b);
      if (place) reasons.push({ code: 'with-guest', message: `${b} is already with guest ${place.guest.name} as ${place.qdevId}; detach it or move it` });
    }
    reasons.push(...reservedReasons(inv, members, guest.name));
    const view = views.get(guest.name);
    if (!view) {
      reasons.push({ code: 'guest-unreachable', message: `guest ${guest.name} (${guest.socket}) does not answer query-pci` });
    } else {
      const status = await statusAsked;
      if (status.status !== 'running' && status.status !== 'paused') {
        reasons.push({ code: 'guest-not-running', message: `guest ${guest.name} is ${status.status}, not running` });
      }
      if (view.freeSlots.length < members.length) {
        reasons.push({
          code: 'no-free-slot',
          message:
            `guest ${guest.name} has ${view.freeSlots.length} empty pcie-root-port(s) and needs ${members.length}: ` +
            `start QEMU with spare ports, e.g. -device pcie-root-port,id=hp1,bus=pcie.0,chassis=1`,
        });
      }
    }
    const memlock = await memlockReason(guest, this.deps.host.procRoot);
    if (memlock) reasons.push(memlock);
    const vfio = vfioDriverReason(this.deps.kernel.sysfsRoot);
    if (vfio && members.some((b) => inv.byBdf.get(b)?.driver !== 'vfio-pci')) reasons.push(vfio);
    const run = this.newRun('attach');
    if (reasons.length > 0 && !this.deps.dryRun) {
      run.started(members, guest.name);
      return this.result(run, 'refused', refusal(reasons), members, { guest: guest.name, reasons });
    }
    const groups = members.map((b) => inv.byBdf.get(b)?.iommuGroup ?? b);
    return this.locks.run(groups, async () => {
      const origins: DeviceOrigin[] = [];
      for (const b of members) origins.push(await readOrigin(this.deps.kernel, b));
      const qdevIds = Object.fromEntries(members.map((b) => [b, qdevIdFor(b)]));
      run.record({ devices: origins, guest: guest.name, guestSocket: guest.socket, qdevIds });
      run.started(members, guest.name);
      return this.guarded(run, members, { guest: guest.name }, { inGuest: guest.name }, async () => {
        // Unbind every member first: a bus reset needs the whole bus free.
        for (const o of origins) await unbindStep(run, this.deps.kernel, o, this.t);
        for (const o of origins) {
          if (opts.noReset) continue;
          const methods = (await this.deps.kernel.resetMethods(o.bdf)) ?? [];
          const onlyBus = methods.every((m) => m === 'bus');
          // The kernel's sysfs bus reset refuses while any sibling is on the bus (pci_parent_bus_reset);
          // when the whole bus goes to the guest, vfio's hot reset through QEMU resets it instead.
          if (onlyBus && wholeBusInRequest(o.bdf, request, inv)) {
            run.note('reset', o.bdf, 'skipped', 'its whole bus goes to the guest: QEMU resets it with a vfio hot reset');
          } else await resetStep(run, this.deps.kernel, o.bdf);
        }
        for (const o of origins) await bindVfioStep(run, this.deps.kernel, o, this.t, true);
        const slots = [...(view?.freeSlots ?? [])];
        for (const o of origins) await deviceAddStep(run, guest, o.bdf, slots.shift() ?? 'NO-FREE-SLOT', this.t, this.deps.dryRun);
        return `${members.join(', ')} ${members.length > 1 ? 'are' : 'is'} with guest ${guest.name}`;
      });
    }).then((r) =>
      // A dry run shows the plan even when a safety check would refuse it, and says so.
      reasons.length > 0 ? { ...r, outcome: 'refused' as const, message: `${refusal(reasons)}; the plan shows what it would do without them`, reasons } : r,
    );
  }

  /** Where a device is in the guests' views: which guest holds it, under which qdev id, on which root port. */
  private placeIn(views: ReadonlyMap<string, GuestPciView>, bdf: string): GuestPlace | null {
    for (const guest of this.deps.guests) {
      const view = views.get(guest.name);
      const d = view?.devices.find((x) => x.hostBdf === bdf);
      if (!view || !d) continue;
      let slot: string | null = null;
      for (const [id, p] of view.rootPorts) if (p.secondaryBus === d.bus) slot = id;
      return { guest, qdevId: d.qdevId ?? '', slot };
    }
    return null;
  }

  /** Where a device is now. */
  private async locate(bdf: string): Promise<GuestPlace | null> {
    return this.placeIn(await this.views(), bdf);
  }

  /** The driver a device had before it went to a guest: from the journal, else unknown. */
  private originOf(bdf: string): DeviceOrigin {
    return this.deps.journal?.originOf(bdf) ?? { bdf, driver: null, driverOverride: null, unknown: true };
  }

  /**
   * Settles a device back on the host: its original driver, or the kernel's choice when that is
   * unknown. The guest has already let go, so there is nothing to undo: if binding fails (after
   * restoreHost's own second try) the device is stuck off the host and `recover` must finish it.
   */
  private async home(run: OperationRun, origin: DeviceOrigin): Promise<void> {
    try {
      await returnHostStep(run, this.deps.kernel, origin, this.t);
    } catch (err) {
      throw new StuckError(origin.bdf, `${origin.bdf} left its guest but could not be bound to ${origin.driver ?? 'a host driver'}: ${errorText(err)}. Run \`hotslot recover\` to finish returning it`);
    }
  }

  /**
   * Takes a device back from its guest. Other functions of its IOMMU group that a guest holds come
   * back with it: a host driver must never bind to a group that a guest still uses.
   */
  async detach(bdf: string): Promise<OperationResult> {
    const viewsAsked = this.views(); // answered while the host is read; never rejects
    const inv = scanGroupOf(this.deps.host, bdf);
    const views = await viewsAsked;
    this.device(inv, bdf);
    return this.detachFrom(inv, views, bdf);
  }

  /** detach, once the device's group and the guests' views are read. */
  private async detachFrom(inv: HostInventory, views: ReadonlyMap<string, GuestPciView>, bdf: string): Promise<OperationResult> {
    const where = this.placeIn(views, bdf);
    if (!where) {
      // Left with a guest by an earlier detach that went stuck: once that guest is gone, detaching
      // means bringing the device home.
      if (this.openOpsWith(bdf).length > 0) return this.returnHome(inv, bdf, 'detach');
      throw new HotplugInputError(`${bdf} is not with any connected guest; use \`hotslot return ${bdf}\` to give a vfio-pci device back to the host`);
    }
    const group = inv.byBdf.get(bdf)?.iommuGroup ?? null;
    const held: { bdf: string; where: GuestPlace }[] = [{ bdf, where }];
    for (const other of group === null ? [] : (inv.groups.get(group) ?? [])) {
      const w = other === bdf ? null : this.placeIn(views, other);
      if (w) held.push({ bdf: other, where: w });
    }
    const bdfs = held.map((h) => h.bdf);
    const origins = bdfs.map((b) => this.originOf(b));
    const run = this.newRun('detach');
    const reasons = notAllowedReasons(inv, bdfs);
    if (reasons.length > 0) return this.refused(run, bdfs, reasons, { fromGuest: where.guest.name });
    return this.locks.run([group ?? bdf], async () => {
      run.record({
        devices: origins,
        fromGuest: where.guest.name,
        fromGuestSocket: where.guest.socket,
        qdevIds: Object.fromEntries(held.map((h) => [h.bdf, h.where.qdevId])),
      });
      run.started(bdfs, undefined, where.guest.name);
      return this.guarded(run, bdfs, { fromGuest: where.guest.name }, { inGuest: null }, async () => {
        for (const h of held) await deviceDelStep(run, h.where.guest, h.where.qdevId, h.bdf, this.t, this.deps.dryRun);
        for (const b of bdfs) await this.resetAfterGuest(run, b);
        for (const o of origins) await this.home(run, o);
        const drivers = await Promise.all(bdfs.map(async (b) => `${b} (${(await this.deps.kernel.currentDriver(b)) ?? 'no driver'})`));
        return `${drivers.join(', ')} ${bdfs.length > 1 ? 'are' : 'is'} back on the host`;
      });
    });
  }

  /** A reset after a guest let go; its failure is reported but does not keep the device from home. */
  private async resetAfterGuest(run: OperationRun, bdf: string): Promise<void> {
    if ((await this.deps.kernel.resetMethods(bdf)) === null) {
      run.note('reset', bdf, 'skipped', 'no reset method');
      return;
    }
    try {
      await resetStep(run, this.deps.kernel, bdf);
    } catch {
      // recorded as a failed step; returning the device matters more
    }
  }

  async move(bdf: string, toName: string): Promise<OperationResult> {
    const inv = scanGroupOf(this.deps.host, bdf);
    this.device(inv, bdf);
    const to = this.guest(toName);
    const where = await this.locate(bdf);
    if (!where) throw new HotplugInputError(`${bdf} is not with any connected guest; use \`hotslot attach ${bdf} ${toName}\``);
    if (where.guest.name === to.name) throw new HotplugInputError(`${bdf} is already with guest ${to.name}`);
    const reasons: Reason[] = [...notAllowedReasons(inv, [bdf]), ...reservedReasons(inv, [bdf], to.name)];
    const toView = await readGuestPci(to.qmp, this.t.queryMs).catch(() => null);
    if (!toView) reasons.push({ code: 'guest-unreachable', message: `guest ${to.name} (${to.socket}) does not answer query-pci` });
    else if (toView.freeSlots.length === 0) reasons.push({ code: 'no-free-slot', message: `guest ${to.name} has no empty pcie-root-port` });
    const memlock = await memlockReason(to, this.deps.host.procRoot);
    if (memlock) reasons.push(memlock);
    const run = this.newRun('move');
    if (reasons.length > 0) {
      run.started([bdf], to.name, where.guest.name);
      return this.result(run, 'refused', refusal(reasons), [bdf], { guest: to.name, fromGuest: where.guest.name, reasons });
    }
    const origin = this.originOf(bdf);
    return this.locks.run([inv.byBdf.get(bdf)?.iommuGroup ?? bdf], async () => {
      run.record({ devices: [origin], guest: to.name, fromGuest: where.guest.name, guestSocket: to.socket, fromGuestSocket: where.guest.socket, qdevIds: { [bdf]: where.qdevId } });
      run.started([bdf], to.name, where.guest.name);
      try {
        await deviceDelStep(run, where.guest, where.qdevId, bdf, this.t, this.deps.dryRun);
      } catch (err) {
        const stuck = err instanceof StuckError;
        return this.result(run, stuck ? 'stuck' : 'failed', errorText(err), [bdf], { guest: to.name, fromGuest: where.guest.name });
      }
      await this.resetAfterGuest(run, bdf);
      try {
        await deviceAddStep(run, to, bdf, toView!.freeSlots[0], this.t, this.deps.dryRun);
        run.commit();
        return await this.result(run, 'done', `${bdf} moved from ${where.guest.name} to ${to.name}`, [bdf], { guest: to.name, fromGuest: where.guest.name }, this.deps.dryRun ? undefined : { inGuest: to.name });
      } catch (err) {
        const why = errorText(err);
        const undoFailures = await run.rollback();
        if (undoFailures.length > 0) {
          // Guest B may still hold it: adding it back to A or binding a host driver would be worse.
          return this.result(run, 'stuck', `${why}; then ${undoFailures.join('; ')}. Run \`hotslot recover\` to settle where it is`, [bdf], {
            guest: to.name,
            fromGuest: where.guest.name,
          });
        }
        // Put it back where it was; if that fails too, home to the host.
        if (where.slot) {
          try {
            await deviceAddStep(run, where.guest, bdf, where.slot, this.t, this.deps.dryRun);
            run.commit();
            return await this.result(run, 'failed', `${why}; ${bdf} is back with ${where.guest.name}`, [bdf], { guest: to.name, fromGuest: where.guest.name });
          } catch {
            await run.rollback();
          }
        }
        try {
          await this.home(run, origin);
          return await this.result(run, 'failed', `${why}; it could not go back to ${where.guest.name} either, so it is back on the host`, [bdf], {
            guest: to.name,
            fromGuest: where.guest.name,
          });
        } catch (homeErr) {
          return this.result(run, 'stuck', `${why}; returning it to the host failed too: ${errorText(homeErr)}. Run \`hotslot recover\``, [bdf], {
            guest: to.name,
            fromGuest: where.guest.name,
          });
        }
      }
    });
  }

  /** Gives a device back to its host driver: detach when a guest holds it, else undo a park. */
  async return(bdf: string): Promise<OperationResult> {
    const inv = scanGroupOf(this.deps.host, bdf);
    this.device(inv, bdf);
    const views = await this.views();
    if (this.placeIn(views, bdf)) return this.detachFrom(inv, views, bdf);
    return this.returnHome(inv, bdf, 'return');
  }

  /** Operations the journal shows open (stuck or interrupted) that include `bdf`. */
  private openOpsWith(bdf: string) {
    return (this.deps.journal?.open() ?? []).filter((o) => o.intent.devices.some((d) => d.bdf === bdf));
  }

  /** A device no reachable guest holds, from vfio-pci back to its original driver. */
  private async returnHome(inv: HostInventory, bdf: string, op: OperationKind): Promise<OperationResult> {
    const origin = this.originOf(bdf);
    const current = await this.deps.kernel.currentDriver(bdf);
    if (current !== 'vfio-pci' && (await this.deps.kernel.driverOverride(bdf)) === origin.driverOverride) {
      throw new HotplugInputError(`${bdf} is already with the host (${current ?? 'no driver'}); nothing to return`);
    }
    const group = inv.byBdf.get(bdf)?.iommuGroup ?? null;
    const run = this.newRun(op);
    const notAllowed = notAllowedReasons(inv, [bdf]);
    if (notAllowed.length > 0) return this.refused(run, [bdf], notAllowed, {});
    const inUse = current === 'vfio-pci' && group !== null ? vfioInUseReason(bdf, group, this.deps.host.procRoot) : null;
    if (inUse) return this.refused(run, [bdf], [inUse], {});
    const stale = this.openOpsWith(bdf);
    return this.locks.run([group ?? bdf], async () => {
      run.record({ devices: [origin] });
      run.started([bdf]);
      const result = await this.guarded(run, [bdf], {}, { inGuest: null }, async () => {
        await this.resetAfterGuest(run, bdf);
        await this.home(run, origin);
        return `${bdf} is back on the host (${(await this.deps.kernel.currentDriver(bdf)) ?? 'no driver'})`;
      });
      if (result.outcome === 'done') await this.closeSettled(stale);
      return result;
    });
  }

  /** Ends the open operations whose every device is now off vfio-pci: nothing is left for `recover`. */
  private async closeSettled(ops: ReturnType<Hotplug['openOpsWith']>): Promise<void> {
    const journal = this.deps.journal;
    if (!journal || this.deps.dryRun) return;
    for (const o of ops) {
      const drivers = await Promise.all(o.intent.devices.map((d) => this.deps.kernel.currentDriver(d.bdf)));
      if (drivers.some((d) => d === 'vfio-pci')) continue;
      journal.append({ kind: 'end', opId: o.intent.opId, at: new Date(this.deps.clock.wallNow()).toISOString(), outcome: 'recovered', message: 'its devices were returned to the host' });
    }
  }

  /** Unbind, reset and bind vfio-pci, for a guest that is not running yet (libvirt's nodedev-detach). */
  async park(bdf: string, opts: { noReset?: boolean } = {}): Promise<OperationResult> {
    const inv = this.hostReader.refresh();
    const d = this.device(inv, bdf);
    const views = await this.views();
    const reasons = blockersFor(d, new Set([bdf]), { noReset: opts.noReset ?? false }, inv);
    const place = this.placeIn(views, bdf);
    if (place) reasons.push({ code: 'with-guest', message: `${bdf} is with guest ${place.guest.name}` });
    const vfio = vfioDriverReason(this.deps.kernel.sysfsRoot);
    if (vfio) reasons.push(vfio);
    const run = this.newRun('park');
    if (reasons.length > 0) {
      run.started([bdf]);
      return this.result(run, 'refused', refusal(reasons), [bdf], { reasons });
    }
    return this.locks.run([d.iommuGroup ?? bdf], async () => {
      const origin = await readOrigin(this.deps.kernel, bdf);
      run.record({ devices: [origin] });
      run.started([bdf]);
      return this.guarded(run, [bdf], {}, { inGuest: null }, async () => {
        await unbindStep(run, this.deps.kernel, origin, this.t);
        if (!opts.noReset) await resetStep(run, this.deps.kernel, bdf);
        await bindVfioStep(run, this.deps.kernel, origin, this.t, true);
        return `${bdf} is parked on vfio-pci`;
      });
    });
  }

  /**
   * Finishes or undoes every operation the journal shows unfinished (a crash, a kill): each device
   * ends either fully with a guest or back on its original driver.
   */
  async recover(): Promise<RecoveryResult[]> {
    const journal = this.deps.journal;
    if (!journal) return [];
    const out: RecoveryResult[] = [];
    const views = await this.views();
    for (const open of journal.open()) {
      const { intent } = open;
      const devices: RecoveryResult['devices'] = [];
      for (const origin of intent.devices) {
        try {
          const where = this.placeIn(views, origin.bdf);
          const driver = await this.deps.kernel.currentDriver(origin.bdf);
          if (where) {
            devices.push({ bdf: origin.bdf, action: 'kept-with-guest', message: `${origin.bdf} is with guest ${where.guest.name} as ${where.qdevId}` });
          } else if (intent.op === 'park' && driver === 'vfio-pci' && open.steps.some((s) => s.step === 'bind vfio-pci')) {
            devices.push({ bdf: origin.bdf, action: 'kept-parked', message: `${origin.bdf} is parked on vfio-pci` });
          } else {
            const group = driver === 'vfio-pci' ? await this.deps.kernel.iommuGroup(origin.bdf) : null;
            const inUse = group === null ? null : vfioInUseReason(origin.bdf, Number(group), this.deps.host.procRoot);
            if (inUse) throw new Error(inUse.message);
            const how = await restoreHost(this.deps.kernel, origin, this.t);
            devices.push({ bdf: origin.bdf, action: 'returned-home', message: `${origin.bdf} is back ${how}` });
          }
        } catch (err) {
          devices.push({ bdf: origin.bdf, action: 'failed', message: `${origin.bdf}: ${errorText(err)}` });
        }
      }
      const failed = devices.some((d) => d.action === 'failed');
      if (!failed) {
        journal.append({ kind: 'end', opId: intent.opId, at: new Date(this.deps.clock.wallNow()).toISOString(), outcome: 'recovered', message: devices.map((d) => d.message).join('; ') });
      }
      out.push({ opId: intent.opId, op: intent.op, startedAt: intent.at, devices, ok: !failed });
    }
    return out;
  }
}
