import type { Device } from './device.js';
import type { Intent, OperationKind, OperationOutcome, StepStatus } from './operations.js';
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

/**
 * What a session recording keeps besides the events: things that happened but change no state.
 * The reducer never sees these; a replay skips them, and any kind it does not know.
 */
export type SessionNote =
  /** A QMP message hotslot sent to a guest, as sent. */
  | { type: 'qmp.sent'; at: number; guest: string; message: Record<string, unknown> }
  /** A QMP message a guest sent: the greeting and replies (its events are `qmp.event`). */
  | { type: 'qmp.received'; at: number; guest: string; message: Record<string, unknown> }
  /** What the operator asked hotslot to do (after confirming it, in the dashboard). */
  | { type: 'operator.intent'; at: number; intent: Intent }
  /** The operator's answer to a question: `question` is its title, `about` what it would do. */
  | { type: 'operator.answer'; at: number; question: string; about: string; answer: 'yes' | 'no' }
  | { type: 'terminal.resized'; at: number; cols: number; rows: number };

/** Everything a recording holds, one per line. */
export type SessionRecord = HotslotEvent | SessionNote;

/** Every kind the reducer reads: a new kind of event does not compile until it is listed here. */
const STATE_EVENT_TYPES: Readonly<Record<HotslotEventType, true>> = {
  'host.scanned': true,
  'host.device.added': true,
  'host.device.removed': true,
  'host.device.changed': true,
  'host.interrupts': true,
  'guest.connected': true,
  'guest.disconnected': true,
  'guest.status': true,
  'guest.devices': true,
  'qmp.event': true,
  'op.started': true,
  'op.step': true,
  'op.finished': true,
};

/** Whether a recorded kind goes through the reducer; notes and kinds from elsewhere do not. */
export function changesState(e: { type: string }): e is HotslotEvent {
  return Object.hasOwn(STATE_EVENT_TYPES, e.type);
}
