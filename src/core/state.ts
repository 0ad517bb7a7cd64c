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
  /** Keyed by opId; finished ones stay for the log. */
  operations: Readonly<Record<string, Operation>>;
  /** Interrupt counts per BDF from /proc/interrupts, newest last (a short window for sparklines). */
  interruptHistory: Readonly<Record<string, number[]>>;
  /** Time of the newest event seen, from the injected clock. */
  now: number;
}

export const initialState: HotslotState = { devices: {}, iommu: null, guests: {}, operations: {}, interruptHistory: {}, now: 0 };

export const INTERRUPT_HISTORY = 60;
