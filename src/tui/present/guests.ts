import type { GuestState, HotslotState } from '../../core/state.js';
import { cell, type Cell, type Meaning } from './cells.js';
import type { Column } from './devices.js';

export type GuestColumnId = 'name' | 'state' | 'qemu' | 'held' | 'slots';

export function guestColumns(width: number): Column<GuestColumnId>[] {
  const fixed: Column<GuestColumnId>[] = [
    { id: 'name', header: 'GUEST', width: 0, align: 'left' },
    { id: 'state', header: 'STATE', width: 9, align: 'left' },
    { id: 'qemu', header: 'QEMU', width: 6, align: 'left' },
    { id: 'held', header: 'DEV', width: 3, align: 'right' },
    { id: 'slots', header: 'FREE', width: 4, align: 'right' },
  ];
  const used = fixed.reduce((n, c) => n + c.width, 0) + (fixed.length - 1);
  return fixed.map((c) => (c.id === 'name' ? { ...c, width: Math.max(4, width - used) } : c));
}

const sortedCache = new WeakMap<object, GuestState[]>();

export function sortedGuests(guests: HotslotState['guests']): GuestState[] {
  const cached = sortedCache.get(guests);
  if (cached) return cached;
  const list = Object.values(guests).sort((a, b) => a.name.localeCompare(b.name));
  sortedCache.set(guests, list);
  return list;
}

/** Host devices a guest holds through vfio-pci. */
export function heldDevices(g: GuestState): string[] {
  return g.devices.flatMap((d) => (d.hostBdf ? [d.hostBdf] : []));
}

function runStateMeaning(g: GuestState): Meaning {
  if (!g.connected) return 'muted';
  switch (g.runState) {
    case 'running':
      return 'ok';
    case 'internal-error':
    case 'guest-panicked':
    case 'io-error':
    case 'shutdown':
      return 'error';
    default:
      return 'pending';
  }
}

export function guestStateText(g: GuestState): string {
  return g.connected ? (g.runState ?? 'unknown') : 'gone';
}

export function guestRow(g: GuestState): Record<GuestColumnId, Cell> {
  const held = heldDevices(g).length;
  return {
    name: cell(g.name, g.connected ? 'normal' : 'muted'),
    state: cell(guestStateText(g), runStateMeaning(g)),
    qemu: cell(g.qemuVersion ?? '-', g.qemuVersion ? 'normal' : 'muted'),
    held: cell(String(held), held > 0 ? 'accent' : 'muted'),
    slots: cell(String(g.freeSlots.length), g.connected && g.freeSlots.length === 0 ? 'warn' : 'normal'),
  };
}

/** Guests a device can go to: connected ones, except the one that holds it now. */
export function targetGuests(state: HotslotState, except?: string): GuestState[] {
  return sortedGuests(state.guests).filter((g) => g.connected && g.name !== except);
}
