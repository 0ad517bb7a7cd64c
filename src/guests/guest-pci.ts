import type { GuestPciDevice } from '../core/state.js';
import { ExecuteError } from '../qmp/index.js';

/** Anything that can run a QMP command: a client, or a dry run's recorder. */
export interface QmpExecutor {
  execute<T = unknown>(command: string, args?: Record<string, unknown>, options?: { timeoutMs?: number }): Promise<T>;
}

/** The parts of QEMU's `query-pci` answer that hotslot reads (qapi/misc-target.json, PciInfo). */
interface QueryPciDevice {
  bus: number;
  slot: number;
  function: number;
  class_info: { class: number; desc?: string };
  id: { vendor: number; device: number };
  qdev_id: string;
  pci_bridge?: { bus: { number: number }; devices?: QueryPciDevice[] };
}

interface QueryPciBus {
  bus: number;
  devices: QueryPciDevice[];
}

/** QEMU's pcie-root-port (Red Hat vendor 0x1b36, device 0x000c): the slot a PCIe device is hot-plugged into. */
const ROOT_PORT = { vendor: 0x1b36, device: 0x000c };

export interface GuestPciView {
  devices: GuestPciDevice[];
  /** qdev ids of pcie-root-ports with nothing below them. */
  freeSlots: string[];
  /** qdev id -> the guest bus number below that root port. */
  rootPorts: Map<string, { secondaryBus: number; empty: boolean }>;
}

function walk(devices: QueryPciDevice[], out: QueryPciDevice[]): void {
  for (const d of devices) {
    out.push(d);
    if (d.pci_bridge?.devices) walk(d.pci_bridge.devices, out);
  }
}

/** Flattens `query-pci` and finds the empty root ports. */
export function readQueryPci(buses: QueryPciBus[]): { all: QueryPciDevice[]; freeSlots: string[]; rootPorts: GuestPciView['rootPorts'] } {
  const all: QueryPciDevice[] = [];
  for (const b of buses) walk(b.devices, all);
  const rootPorts: GuestPciView['rootPorts'] = new Map();
  const freeSlots: string[] = [];
  for (const d of all) {
    if (d.id.vendor !== ROOT_PORT.vendor || d.id.device !== ROOT_PORT.device || !d.qdev_id || !d.pci_bridge) continue;
    const empty = (d.pci_bridge.devices ?? []).length === 0;
    rootPorts.set(d.qdev_id, { secondaryBus: d.pci_bridge.bus.number, empty });
    if (empty) freeSlots.push(d.qdev_id);
  }
  return { all, freeSlots, rootPorts };
}

async function qomGet(client: QmpExecutor, path: string, property: string, timeoutMs: number): Promise<unknown> {
  try {
    return await client.execute('qom-get', { path, property }, { timeoutMs: Math.min(timeoutMs, 5_000) });
  } catch (err) {
    if (err instanceof ExecuteError) return null;
    throw err;
  }
}

/** How long a guest may take to answer one of the queries below, unless told otherwise. */
export const GUEST_QUERY_MS = 10_000;

async function queryPci(client: QmpExecutor, timeoutMs: number): Promise<ReturnType<typeof readQueryPci>> {
  const buses = await client.execute<unknown>('query-pci', undefined, { timeoutMs });
  if (!Array.isArray(buses)) throw new Error(`query-pci answered ${JSON.stringify(buses)}, not a list of buses`);
  return readQueryPci(buses as QueryPciBus[]);
}

/** The qdev ids of the guest's PCI devices: `query-pci` alone, for a wait that polls. */
export async function guestQdevIds(client: QmpExecutor, timeoutMs = GUEST_QUERY_MS): Promise<Set<string>> {
  const { all } = await queryPci(client, timeoutMs);
  return new Set(all.flatMap((d) => (d.qdev_id ? [d.qdev_id] : [])));
}

/** One named device of the guest, where it sits and which host device it holds; null when absent. */
export async function guestDevice(
  client: QmpExecutor,
  qdevId: string,
  timeoutMs = GUEST_QUERY_MS,
): Promise<{ bus: number; slot: number; hostBdf: string | null } | null> {
  const d = (await queryPci(client, timeoutMs)).all.find((x) => x.qdev_id === qdevId);
  return d ? { bus: d.bus, slot: d.slot, hostBdf: await hostBdfOf(client, qdevId, timeoutMs) } : null;
}

/** The host BDF a named guest device holds, if it is a vfio-pci device. */
async function hostBdfOf(client: QmpExecutor, qdevId: string, timeoutMs: number): Promise<string | null> {
  const path = `/machine/peripheral/${qdevId}`;
  if ((await qomGet(client, path, 'type', timeoutMs)) !== 'vfio-pci') return null;
  const host = await qomGet(client, path, 'host', timeoutMs);
  return typeof host === 'string' && host !== '' ? host.toLowerCase() : null;
}

/**
 * The guest's PCI devices, with the host BDF of each vfio-pci one (`qom-get` of `host` on
 * `/machine/peripheral/ID`), and its free hotplug slots. The `qom-get`s go out together: QEMU
 * answers them in order, without a round trip between each.
 */
export async function readGuestPci(client: QmpExecutor, timeoutMs = GUEST_QUERY_MS): Promise<GuestPciView> {
  const { all, freeSlots, rootPorts } = await queryPci(client, timeoutMs);
  // vfio-pci only takes functions with a type 0 header: a bridge (a root port) holds no host device.
  const hosts = await Promise.all(all.map((d) => (d.qdev_id && !d.pci_bridge ? hostBdfOf(client, d.qdev_id, timeoutMs) : Promise.resolve(null))));
  const devices: GuestPciDevice[] = all.map((d, i) => ({
    qdevId: d.qdev_id || null,
    bus: d.bus,
    slot: d.slot,
    function: d.function,
    classDescription: d.class_info.desc ?? null,
    vendorId: d.id.vendor,
    deviceId: d.id.device,
    hostBdf: hosts[i],
  }));
  return { devices, freeSlots, rootPorts };
}
