/**
 * Whether a function can be given to a guest, and why not, as reasons with stable codes.
 *
 * Blockers (assignable.ok is false when any is present):
 *   no-iommu, no-iommu-group, not-endpoint, protected, not-allowed (config `allow` is given and
 *   does not name it), group-not-viable, no-reset, reset-hits-others, with-guest.
 * Warnings (reported, ok stays true): behind-pci-bridge (its bus goes to the guest as one; the
 *   group rule already blocks while a sibling is in use), bar-not-page-aligned (QEMU traps the BAR
 *   instead of mapping it: slow, but works), shared-intx (an INTx-only function sharing its line
 *   may storm or starve the other device unless it supports PCI 2.3 INTx masking), reserved
 *   (config `reservations` keeps it for one guest: any other is refused at attach and move).
 * A protected function still gets its other reasons, so `check` can say everything at once.
 */
import type { HostDevice, HostReason } from './host-device.js';
import { unmappableBars } from './resources.js';
import { busOf, type Topology } from './topology.js';

export interface AssignContext {
  iommu: boolean;
  devices: ReadonlyMap<string, HostDevice>;
  groups: ReadonlyMap<number, readonly string[]>;
  topology: Topology;
  /** Functions using INTx on each IRQ line. */
  intxLines: ReadonlyMap<number, readonly string[]>;
  pageSize: number;
  /** What the configuration file says on top of the host's own rules. */
  policy?: ConfigPolicy;
}

export interface ConfigPolicy {
  /** Null: no allow-list. */
  allow: ReadonlySet<string> | null;
  reservations: ReadonlyMap<string, string>;
  configFile: string | null;
}

const blocker = (code: string, message: string): HostReason => ({ code, message, severity: 'blocker' });
const warning = (code: string, message: string): HostReason => ({ code, message, severity: 'warning' });

/** `0000:05:02.0 (e1000)`, `0000:05:02.0 (no driver)`. */
function named(d: HostDevice | undefined, bdf: string): string {
  if (!d) return bdf;
  if (d.owner.kind === 'guest') return `${bdf} (with guest ${d.owner.guest ?? '?'})`;
  return `${bdf} (${d.driver ?? 'no driver'})`;
}

function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

export function assess(d: HostDevice, ctx: AssignContext): { ok: boolean; reasons: HostReason[] } {
  const reasons: HostReason[] = [];
  if (!ctx.iommu) {
    reasons.push(
      blocker(
        'no-iommu',
        'the host has no IOMMU in use (/sys/kernel/iommu_groups is empty): enable VT-d or AMD-Vi in the firmware and boot with intel_iommu=on or amd_iommu=on',
      ),
    );
  }
  if (d.headerType !== 'endpoint') {
    const what = d.headerType === 'bridge' ? 'a bridge' : d.headerType === 'cardbus' ? 'a CardBus bridge' : 'not a type-0 function';
    reasons.push(blocker('not-endpoint', `it is ${what}: only endpoints (header type 0) can be given to a guest`));
  }
  for (const p of d.protected) reasons.push(blocker('protected', `protected because ${p.message}`));
  reasons.push(...policyReasons(d.bdf, ctx.policy));
  if (d.owner.kind === 'guest') {
    const qdev = d.owner.qdevId ? ` as ${d.owner.qdevId}` : '';
    reasons.push(blocker('with-guest', `it is already with guest ${d.owner.guest ?? '?'}${qdev}; detach it first`));
  }
  // Host bridges are header type 0 but no device: their protection says all there is.
  if (d.headerType !== 'endpoint' || d.protected.some((p) => p.kind === 'host-bridge')) return verdict(reasons);

  if (ctx.iommu) {
    if (d.iommuGroup === null) {
      reasons.push(blocker('no-iommu-group', 'it is in no IOMMU group, so the IOMMU cannot isolate it for a guest'));
    } else {
      const viability = groupViability(d, ctx);
      if (viability) reasons.push(viability);
    }
  }
  reasons.push(...resetReasons(d, ctx));
  const bridge = ctx.topology.pciBridgeAbove(d.bdf);
  if (bridge) {
    const together = ctx.topology.functionsBehind(bridge);
    reasons.push(
      warning(
        'behind-pci-bridge',
        `it is conventional PCI behind the PCIe-to-PCI bridge ${bridge}: every function behind it (${list(together)}) shares the bridge's requester ID and goes to a guest together`,
      ),
    );
  }
  for (const bar of unmappableBars(d.bars, ctx.pageSize)) {
    if (bar.size < ctx.pageSize) {
      reasons.push(
        warning(
          'bar-not-page-aligned',
          `BAR ${bar.index} is ${bar.size} bytes, smaller than a ${ctx.pageSize}-byte page: QEMU must trap every access to it instead of mapping it (slow)`,
        ),
      );
    } else {
      reasons.push(
        warning(
          'bar-not-page-aligned',
          `BAR ${bar.index} at ${bar.start} is not aligned to a ${ctx.pageSize}-byte page: QEMU must trap every access to it instead of mapping it (slow)`,
        ),
      );
    }
  }
  const shared = sharedIntx(d, ctx);
  if (shared) reasons.push(shared);
  return verdict(reasons);
}

function policyReasons(bdf: string, policy: ConfigPolicy | undefined): HostReason[] {
  if (!policy) return [];
  const of = policy.configFile ? ` of ${policy.configFile}` : '';
  const out: HostReason[] = [];
  if (policy.allow && !policy.allow.has(bdf)) {
    out.push(blocker('not-allowed', `it is not on the allow list${of}: with an allow list, hotslot touches only the devices it names`));
  }
  const guest = policy.reservations.get(bdf);
  if (guest !== undefined) out.push(warning('reserved', `it is reserved for guest ${guest} (reservations${of}): no other guest may take it`));
  return out;
}

function verdict(reasons: HostReason[]): { ok: boolean; reasons: HostReason[] } {
  return { ok: !reasons.some((r) => r.severity === 'blocker'), reasons };
}

/** Every other non-bridge member must be unbound or on vfio-pci, and with no other guest. */
function groupViability(d: HostDevice, ctx: AssignContext): HostReason | null {
  const members = ctx.groups.get(d.iommuGroup ?? -1) ?? [];
  const busy: string[] = [];
  for (const bdf of members) {
    if (bdf === d.bdf) continue;
    const m = ctx.devices.get(bdf);
    if (!m || m.headerType === 'bridge') continue;
    const free = m.owner.kind === 'none' || m.owner.kind === 'vfio' || (m.owner.kind === 'guest' && d.owner.kind === 'guest' && m.owner.guest === d.owner.guest);
    if (!free) busy.push(named(m, bdf));
  }
  if (busy.length === 0) return null;
  const verb = busy.length === 1 ? 'is' : 'are';
  return blocker(
    'group-not-viable',
    `IOMMU group ${d.iommuGroup} is not viable: ${list(busy)} ${verb} still in use; every other endpoint of the group must be unbound or on vfio-pci (or assigned with it)`,
  );
}

function resetReasons(d: HostDevice, ctx: AssignContext): HostReason[] {
  const methods = d.reset.methods;
  const noMethod = methods.length === 0 && !d.resetFile;
  const busOnly = methods.length > 0 && methods.every((m) => m === 'bus');
  // Most devices stop here; the rest is apart so that they do not pay for its closures.
  return noMethod || busOnly ? resetBlockers(d, ctx, noMethod) : [];
}

function resetBlockers(d: HostDevice, ctx: AssignContext, noMethod: boolean): HostReason[] {
  const bus = busOf(d.bdf).slice(5);
  const others = ctx.topology.busNeighbours(d.bdf).map((b) => named(ctx.devices.get(b), b));
  if (noMethod) {
    let why: string;
    if (d.parents.length === 0) why = 'and it sits on a root bus, where no bridge can reset it';
    else if (others.length > 0) why = `and a bus reset would also reset ${list(others)} on bus ${bus}, so the kernel offers none`;
    else why = 'and the kernel offers no bus reset';
    return [
      blocker(
        'no-reset',
        `it has no reset method (no FLR, no PM reset) ${why}; a guest would get it in whatever state the host left it (attach with --no-reset to accept that)`,
      ),
    ];
  }
  if (others.length === 0) return [];
  return [
    blocker(
      'reset-hits-others',
      `its only reset is a bus reset, and bus ${bus} also holds ${list(others)}: the kernel refuses it (ENOTTY) while they are there`,
    ),
  ];
}

function sharedIntx(d: HostDevice, ctx: AssignContext): HostReason | null {
  const i = d.interrupts;
  if (i.msi.capable || i.msix.capable || i.pin === null || i.irq === null) return null;
  const sharers = (ctx.intxLines.get(i.irq) ?? []).filter((b) => b !== d.bdf);
  if (sharers.length === 0) return null;
  return warning(
    'shared-intx',
    `it has only INTx and shares IRQ ${i.irq} with ${list(sharers.map((b) => named(ctx.devices.get(b), b)))}: without PCI 2.3 INTx masking vfio-pci cannot share the line`,
  );
}
