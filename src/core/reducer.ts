import type { HotslotEvent } from './events.js';
import type { HotslotState } from './state.js';

/** Pure: the one place state changes. Unknown events leave state as it was. */
export function reduce(state: HotslotState, event: HotslotEvent): HotslotState {
  const now = Math.max(state.now, event.at);
  switch (event.type) {
    case 'host.scanned': {
      const devices: Record<string, HotslotState['devices'][string]> = {};
      for (const d of event.devices) devices[d.bdf] = d;
      return { ...state, now, iommu: event.iommu, devices };
    }
    case 'host.device.added':
    case 'host.device.changed':
      return { ...state, now, devices: { ...state.devices, [event.device.bdf]: event.device } };
    case 'host.device.removed': {
      const { [event.bdf]: _gone, ...rest } = state.devices;
      return { ...state, now, devices: rest };
    }
    case 'guest.connected':
      return {
        ...state,
        now,
        guests: {
          ...state.guests,
          [event.guest]: { name: event.guest, connected: true, qemuVersion: event.qemuVersion, lastEvent: null },
        },
      };
    case 'guest.disconnected': {
      const g = state.guests[event.guest];
      if (!g) return { ...state, now };
      return { ...state, now, guests: { ...state.guests, [event.guest]: { ...g, connected: false } } };
    }
    case 'qmp.event': {
      const g = state.guests[event.guest];
      if (!g) return { ...state, now };
      return { ...state, now, guests: { ...state.guests, [event.guest]: { ...g, lastEvent: event.event } } };
    }
  }
}
