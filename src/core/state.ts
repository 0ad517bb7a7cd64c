import type { Device } from './device.js';

export interface GuestState {
  name: string;
  connected: boolean;
  qemuVersion: string | null;
  lastEvent: string | null;
}

export interface HotslotState {
  /** Keyed by BDF. */
  devices: Readonly<Record<string, Device>>;
  iommu: boolean | null;
  guests: Readonly<Record<string, GuestState>>;
  /** Time of the newest event seen, from the injected clock. */
  now: number;
}

export const initialState: HotslotState = { devices: {}, iommu: null, guests: {}, now: 0 };
