import { ownerOfDriver, type Device } from './device.js';
import type { HotslotEvent } from './events.js';
import type { Operation } from './operations.js';
import { INTERRUPT_HISTORY, type GuestState, type HotslotState } from './state.js';

type Devices = Record<string, Device>;

/** A device that a connected guest holds through vfio-pci is owned by that guest, whatever sysfs says. */
function withOwner(device: Device, guests: HotslotState['guests']): Device {
  for (const g of Object.values(guests)) {
    if (!g.connected) continue;
    const held = g.devices.find((d) => d.hostBdf === device.bdf);
    if (held) {
      if (device.owner.kind === 'guest' && device.owner.guest === g.name && device.owner.qdevId === (held.qdevId ?? undefined)) return device;
      return { ...device, owner: { kind: 'guest', guest: g.name, ...(held.qdevId ? { qdevId: held.qdevId } : {}) } };
    }
  }
  if (device.owner.kind !== 'guest') return device;
  // No guest holds it any more: fall back to what the driver says.
  return { ...device, owner: ownerOfDriver(device.driver) };
}

function reowned(devices: Readonly<Devices>, guests: HotslotState['guests']): Devices {
  const out: Devices = {};
  for (const [bdf, d] of Object.entries(devices)) out[bdf] = withOwner(d, guests);
  return out;
}

function guest(state: HotslotState, name: string): GuestState {
  return (
    state.guests[name] ?? { name, connected: false, runState: null, qemuVersion: null, devices: [], freeSlots: [], lastEvent: null }
  );
}

function updateOp(state: HotslotState, opId: string, f: (op: Operation) => Operation): HotslotState {
  const op = state.operations[opId];
  if (!op) return state;
  return { ...state, operations: { ...state.operations, [opId]: f(op) } };
}

/**
 * The operations with `op` added, and without the finished ones it leaves no view for: what is
 * shown of operations is those running and, for each device, the newest that touched it. So the
 * state stays as large as the host, however long the session (the log keeps the history), and an
 * operation's events do not cost more with every operation before it.
 */
function withOperation(operations: Readonly<Record<string, Operation>>, op: Operation): Record<string, Operation> {
  const newest = new Map<string, number>();
  for (const b of op.bdfs) newest.set(b, op.startedAt);
  for (const id in operations) for (const b of operations[id].bdfs) newest.set(b, Math.max(newest.get(b) ?? -Infinity, operations[id].startedAt));
  const out: Record<string, Operation> = {};
  for (const id in operations) {
    const o = operations[id];
    if (o.outcome === null || o.bdfs.some((b) => newest.get(b) === o.startedAt)) out[id] = o;
  }
  out[op.opId] = op;
  return out;
}

/** Pure: the one place state changes. */
export function reduce(prev: HotslotState, event: HotslotEvent): HotslotState {
  const state = { ...prev, now: Math.max(prev.now, event.at) };
  switch (event.type) {
    case 'host.scanned': {
      const devices: Devices = {};
      for (const d of event.devices) devices[d.bdf] = withOwner(d, state.guests);
      return { ...state, iommu: event.iommu, devices };
    }
    case 'host.device.added':
    case 'host.device.changed':
      return { ...state, devices: { ...state.devices, [event.device.bdf]: withOwner(event.device, state.guests) } };
    case 'host.device.removed': {
      const { [event.bdf]: _gone, ...rest } = state.devices;
      return { ...state, devices: rest };
    }
    case 'host.interrupts': {
      // The most frequent event of a long session (one a second): the window keeps the samples as
      // they came, so a new one costs a few dozen references rather than a copy of each device's history.
      const samples = state.interruptSamples.length >= INTERRUPT_HISTORY ? state.interruptSamples.slice(1 - INTERRUPT_HISTORY) : state.interruptSamples.slice();
      samples.push(event.counts);
      return { ...state, interruptSamples: samples };
    }
    case 'guest.connected': {
      const g = { ...guest(state, event.guest), connected: true, qemuVersion: event.qemuVersion, runState: event.runState };
      const guests = { ...state.guests, [event.guest]: g };
      return { ...state, guests, devices: reowned(state.devices, guests) };
    }
    case 'guest.disconnected': {
      if (!state.guests[event.guest]) return state;
      const guests = { ...state.guests, [event.guest]: { ...guest(state, event.guest), connected: false, runState: null } };
      return { ...state, guests, devices: reowned(state.devices, guests) };
    }
    case 'guest.status':
      return { ...state, guests: { ...state.guests, [event.guest]: { ...guest(state, event.guest), runState: event.runState } } };
    case 'guest.devices': {
      const g = { ...guest(state, event.guest), devices: event.devices, freeSlots: event.freeSlots };
      const guests = { ...state.guests, [event.guest]: g };
      return { ...state, guests, devices: reowned(state.devices, guests) };
    }
    case 'qmp.event': {
      if (!state.guests[event.guest]) return state;
      return { ...state, guests: { ...state.guests, [event.guest]: { ...guest(state, event.guest), lastEvent: event.event } } };
    }
    case 'op.started': {
      const op: Operation = {
        opId: event.opId,
        op: event.op,
        bdfs: event.bdfs,
        ...(event.guest !== undefined ? { guest: event.guest } : {}),
        ...(event.fromGuest !== undefined ? { fromGuest: event.fromGuest } : {}),
        startedAt: event.at,
        steps: [],
        outcome: null,
        message: null,
        finishedAt: null,
      };
      return { ...state, operations: withOperation(state.operations, op) };
    }
    case 'op.step':
      return updateOp(state, event.opId, (op) => {
        const steps = [...op.steps];
        const i = steps.findLastIndex((s) => s.step === event.step && s.bdf === event.bdf && s.status === 'running');
        const detail = event.detail !== undefined ? { detail: event.detail } : {};
        if (i >= 0 && event.status !== 'running') {
          steps[i] = { ...steps[i], status: event.status, ms: event.ms ?? event.at - steps[i].startedAt, ...detail };
        } else {
          steps.push({
            step: event.step,
            ...(event.bdf !== undefined ? { bdf: event.bdf } : {}),
            status: event.status,
            startedAt: event.at,
            ms: event.status === 'running' ? null : (event.ms ?? 0),
            ...detail,
          });
        }
        return { ...op, steps };
      });
    case 'op.finished':
      return updateOp(state, event.opId, (op) => ({ ...op, outcome: event.outcome, message: event.message, finishedAt: event.at }));
  }
}
