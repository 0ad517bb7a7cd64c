import type { Device } from './device.js';

/**
 * Everything that happens is one of these. Sources turn the outside world into events; the
 * reducer is the only place state changes. Names are `room.what` so a recording reads plainly.
 */
export type HotslotEvent =
  | { type: 'host.scanned'; at: number; iommu: boolean; devices: Device[] }
  | { type: 'host.device.added'; at: number; device: Device }
  | { type: 'host.device.removed'; at: number; bdf: string }
  | { type: 'host.device.changed'; at: number; device: Device; fields: string[] }
  | { type: 'guest.connected'; at: number; guest: string; qemuVersion: string | null }
  | { type: 'guest.disconnected'; at: number; guest: string; reason: string }
  | { type: 'qmp.event'; at: number; guest: string; event: string; data: unknown; qemuTime: number | null };

export type HotslotEventType = HotslotEvent['type'];
