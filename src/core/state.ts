import type { Device } from './device.js';
import type { Operation } from './operations.js';

/** A PCI device as a guest's QEMU reports it (query-pci), with the host BDF for vfio-pci ones. */
export interface GuestPciDevice {
  qdevId: string | null;
  bus: number;
  slot: number;
  function: number;
  classDescription: string | null;
  vendorId: number;
  deviceId: number;
  /** Host address (qom-get `host`) for vfio-pci devices; null for emulated ones. */
  hostBdf: string | null;
}

export interface GuestState {
  name: string;
  connected: boolean;
  runState: string | null;
  qemuVersion: string | null;
  devices: GuestPciDevice[];
  freeSlots: string[];
  lastEvent: string | null;
}

export interface HotslotState {
  /** Keyed by BDF. */
  devices: Readonly<Record<string, Device>>;
  iommu: boolean | null;
  guests: Readonly<Record<string, GuestState>>;
  /** Keyed by opId: those running, and for each device the newest that touched it (the log has them all). */
  operations: Readonly<Record<string, Operation>>;
  /**
   * The newest samples of /proc/interrupts, oldest first, each the totals per BDF as the host
   * watcher read them (a short window for sparklines; `interruptHistory` gives one device's).
   */
  interruptSamples: readonly Readonly<Record<string, number>>[];
  /** Time of the newest event seen, from the injected clock. */
  now: number;
}

export const initialState: HotslotState = { devices: {}, iommu: null, guests: {}, operations: {}, interruptSamples: [], now: 0 };

/** Samples kept: a minute at the host watcher's pace. */
export const INTERRUPT_HISTORY = 60;

/** One device's interrupt totals in the window, oldest first (samples it is missing from are left out). */
export function interruptHistory(state: HotslotState, bdf: string): number[] {
  const out: number[] = [];
  for (const sample of state.interruptSamples) {
    const count: number | undefined = sample[bdf];
    if (count !== undefined) out.push(count);
  }
  return out;
}
