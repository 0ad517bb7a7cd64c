import type { Device } from './device.js';
import type { OperationKind, OperationOutcome, StepStatus } from './operations.js';
import type { GuestPciDevice } from './state.js';

/**
 * Everything that happens is one of these. Sources turn the outside world into events; the
 * reducer is the only place state changes. Names are `room.what` so a recording reads plainly.
 * `at` is the injected clock's monotonic milliseconds.
 */
export type HotslotEvent =
  | { type: 'host.scanned'; at: number; iommu: boolean; devices: Device[] }
  | { type: 'host.device.added'; at: number; device: Device }
  | { type: 'host.device.removed'; at: number; bdf: string }
  | { type: 'host.device.changed'; at: number; device: Device; fields: string[] }
  | { type: 'host.interrupts'; at: number; counts: Record<string, number> }
  | { type: 'guest.connected'; at: number; guest: string; qemuVersion: string | null; runState: string | null }
  | { type: 'guest.disconnected'; at: number; guest: string; reason: string }
  | { type: 'guest.status'; at: number; guest: string; runState: string }
  | {
      type: 'guest.devices';
      at: number;
      guest: string;
      devices: GuestPciDevice[];
      /** qdev ids of empty hotplug-capable slots (pcie-root-ports with nothing below). */
      freeSlots: string[];
    }
  | { type: 'qmp.event'; at: number; guest: string; event: string; data: unknown; qemuTime: number | null }
  | { type: 'op.started'; at: number; opId: string; op: OperationKind; bdfs: string[]; guest?: string; fromGuest?: string }
  | { type: 'op.step'; at: number; opId: string; step: string; bdf?: string; status: StepStatus; ms?: number; detail?: string }
  | { type: 'op.finished'; at: number; opId: string; outcome: OperationOutcome; message: string };

export type HotslotEventType = HotslotEvent['type'];
