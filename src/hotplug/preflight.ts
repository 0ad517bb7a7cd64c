import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Reason } from '../core/device.js';
import type { HostDevice } from '../host/host-device.js';
import type { HostInventory } from '../host/inventory.js';
import { hasIpcLock, memlockLimit, pidListeningOn } from '../guests/qemu-process.js';
import { busOf } from '../host/topology.js';
import { vfioGroupHolders } from '../host/vfio-holders.js';
import type { QmpSender } from './qmp-sender.js';

/** A guest as the hotplug layer sees it. */
export interface HotplugGuest {
  name: string;
  /** Unix socket path, or HOST:PORT. */
  socket: string;
  qmp: QmpSender;
}

/** Reasons in a device's verdict that a request can lift (its group goes together, --no-reset). */
export function blockersFor(d: HostDevice, request: ReadonlySet<string>, opts: { noReset: boolean }, inv: HostInventory): Reason[] {
  const out: Reason[] = [];
  for (const r of d.assignable.reasons) {
    if (r.severity !== 'blocker') continue;
    if (r.code === 'no-reset' && (opts.noReset || busResetBy(d.bdf, request, inv) !== null)) continue;
    if (r.code === 'with-guest') continue; // decided from the guests themselves
    if (r.code === 'group-not-viable' || r.code === 'reset-hits-others') {
      const group = d.iommuGroup === null ? [] : (inv.groups.get(d.iommuGroup) ?? []);
      const busy = group.filter((b) => {
        if (b === d.bdf || request.has(b)) return false;
        const m = inv.byBdf.get(b);
        return m !== undefined && m.headerType !== 'bridge' && m.owner.kind === 'host';
      });
      if (r.code === 'group-not-viable' && busy.length === 0) continue;
      if (r.code === 'reset-hits-others' && opts.noReset) continue;
      if (r.code === 'reset-hits-others' && busy.length === 0 && group.length > 1) continue;
    }
    out.push({ code: r.code, message: `${d.bdf}: ${r.message}` });
  }
  return out;
}

/** The configuration's allow-list: devices it does not name are never touched, whatever the operation. */
export function notAllowedReasons(inv: HostInventory, bdfs: readonly string[]): Reason[] {
  return bdfs.flatMap((b) =>
    (inv.byBdf.get(b)?.assignable.reasons ?? []).filter((r) => r.code === 'not-allowed').map((r) => ({ code: r.code, message: `${b}: ${r.message}` })),
  );
}

/** The configuration's reservations: a reserved device goes to its own guest and no other. */
export function reservedReasons(inv: HostInventory, bdfs: readonly string[], guest: string): Reason[] {
  return bdfs.flatMap((b) => {
    const owner = inv.reservations.get(b);
    return owner === undefined || owner === guest ? [] : [{ code: 'reserved', message: `${b} is reserved for guest ${owner}, not ${guest}` }];
  });
}

/** Another function of the request, on the same bus, whose bus reset also resets this one. */
export function busResetBy(bdf: string, request: ReadonlySet<string>, inv: HostInventory): string | null {
  for (const other of request) {
    if (other === bdf || busOf(other) !== busOf(bdf)) continue;
    const m = inv.byBdf.get(other);
    if (m && (m.reset.methods.includes('bus') || m.reset.busResetPossible)) return other;
  }
  return null;
}

/** Every function on this device's bus is in the request (and there is more than one). */
export function wholeBusInRequest(bdf: string, request: ReadonlySet<string>, inv: HostInventory): boolean {
  const onBus = inv.devices.filter((d) => busOf(d.bdf) === busOf(bdf)).map((d) => d.bdf);
  return onBus.length > 1 && onBus.every((b) => request.has(b));
}

/** vfio-pci must be loaded: drivers_probe does not load modules, so nothing would bind. */
export function vfioDriverReason(sysfsRoot: string): Reason | null {
  if (existsSync(join(sysfsRoot, 'bus/pci/drivers/vfio-pci'))) return null;
  return { code: 'vfio-pci-missing', message: 'the vfio-pci driver is not loaded on this host: run `modprobe vfio-pci` first' };
}

const mib = (n: number) => `${Math.round(n / 1048576)} MiB`;

/** vfio pins all guest RAM: the QEMU process must be allowed to lock it. */
export async function memlockReason(guest: HotplugGuest, procRoot: string): Promise<Reason | null> {
  if (guest.socket.includes(':') && !guest.socket.startsWith('/')) return null; // TCP: the process is not ours to see
  const pid = pidListeningOn(guest.socket, procRoot);
  if (pid === null) return null;
  if (hasIpcLock(pid, procRoot)) return null;
  const limit = memlockLimit(pid, procRoot);
  if (limit === null || limit === Infinity) return null;
  let ram: number | null = null;
  try {
    const m = await guest.qmp.execute<{ 'base-memory'?: number; 'plugged-memory'?: number }>('query-memory-size-summary');
    ram = (m['base-memory'] ?? 0) + (m['plugged-memory'] ?? 0);
  } catch {
    return null;
  }
  if (ram === null || limit >= ram) return null;
  return {
    code: 'memlock-too-low',
    message:
      `guest ${guest.name}'s QEMU (pid ${pid}) may lock only ${mib(limit)} of memory but vfio must pin all ${mib(ram)} of its RAM: ` +
      `raise it with \`prlimit --pid ${pid} --memlock=unlimited\` (or start QEMU with \`ulimit -l unlimited\`)`,
  };
}

/**
 * A process (a QEMU hotslot cannot reach, or any other VFIO user) holds the device's IOMMU group
 * open: taking it off vfio-pci now would hang in the kernel until that process lets go.
 */
export function vfioInUseReason(bdf: string, group: number, procRoot: string): Reason | null {
  const holders = vfioGroupHolders(group, procRoot);
  if (holders.length === 0) return null;
  const who = holders.map((h) => `${h.command} (pid ${h.pid})`).join(', ');
  return {
    code: 'vfio-in-use',
    message:
      `${bdf}: /dev/vfio/${group} is held open by ${who}; ` +
      `give hotslot that guest's QMP socket (--guest NAME=SOCKET) to detach it there, or stop that process first`,
  };
}
