/** Devices, guests and states for the dashboard tests, built through the real reducer. */
import type { Device } from '../../src/core/device.js';
import type { HotslotEvent } from '../../src/core/events.js';
import { reduce } from '../../src/core/reducer.js';
import { initialState, type HotslotState } from '../../src/core/state.js';

export function makeDevice(bdf: string, over: Partial<Device> = {}): Device {
  return {
    bdf,
    vendorId: '0x8086',
    deviceId: '0x10d3',
    classCode: '0x020000',
    vendorName: 'Intel Corporation',
    deviceName: '82574L Gigabit Network Connection',
    headerType: 'endpoint',
    pcieType: 'endpoint',
    driver: 'e1000e',
    iommuGroup: 8,
    owner: { kind: 'host' },
    interrupts: {
      pin: 'A',
      irq: 16,
      msi: { capable: true, enabled: false, vectors: null, maxVectors: 1 },
      msix: { capable: true, enabled: true, tableSize: 5 },
      mode: 'msix',
    },
    reset: { methods: ['pm', 'bus'], flr: false, afFlr: false, pmNoSoftReset: false, busResetPossible: true },
    acs: null,
    sriov: null,
    capabilities: [
      { id: 0x01, name: 'Power Management', offset: 0xc8, extended: false },
      { id: 0x05, name: 'MSI', offset: 0xd0, extended: false },
      { id: 0x10, name: 'PCI Express', offset: 0xe0, extended: false },
      { id: 0x11, name: 'MSI-X', offset: 0xa0, extended: false },
    ],
    assignable: { ok: true, reasons: [] },
    ...over,
  };
}

/** The lab host's devices (LAB.md), more or less. */
export function labDevices(): Device[] {
  return [
    makeDevice('0000:00:00.0', {
      deviceName: '82G33/G31/P35/P31 Express DRAM Controller',
      classCode: '0x060000',
      headerType: 'endpoint',
      pcieType: null,
      driver: null,
      owner: { kind: 'none' },
      iommuGroup: 0,
      reset: { methods: [], flr: false, afFlr: false, pmNoSoftReset: null, busResetPossible: false },
      interrupts: { pin: null, irq: null, msi: { capable: false, enabled: false, vectors: null, maxVectors: null }, msix: { capable: false, enabled: false, tableSize: null }, mode: 'none' },
      assignable: { ok: false, reasons: [{ code: 'host-bridge', message: 'host bridges are never assigned' }] },
    }),
    makeDevice('0000:01:00.0', { deviceId: '0x10c9', deviceName: '82576 Gigabit Network Connection', driver: 'igb', iommuGroup: 7, reset: { methods: ['flr', 'pm', 'bus'], flr: true, afFlr: false, pmNoSoftReset: false, busResetPossible: true }, sriov: { totalVFs: 7, numVFs: 0 }, assignable: { ok: false, reasons: [{ code: 'protected', message: 'protected because the default route goes through it (enp1s0)' }] } }),
    makeDevice('0000:02:00.0', { iommuGroup: 8 }),
    makeDevice('0000:03:00.0', {
      vendorId: '0x1b36',
      deviceId: '0x0010',
      vendorName: 'Red Hat, Inc.',
      deviceName: 'QEMU NVM Express Controller',
      classCode: '0x010802',
      driver: 'nvme',
      iommuGroup: 9,
      reset: { methods: ['flr', 'bus'], flr: true, afFlr: false, pmNoSoftReset: false, busResetPossible: true },
    }),
    makeDevice('0000:04:00.0', { vendorId: '0x1b36', deviceId: '0x000e', vendorName: 'Red Hat, Inc.', deviceName: 'QEMU PCIe-to-PCI bridge', classCode: '0x060400', headerType: 'bridge', pcieType: 'pcie-to-pci-bridge', driver: null, owner: { kind: 'none' }, iommuGroup: 11, reset: { methods: ['bus'], flr: false, afFlr: false, pmNoSoftReset: null, busResetPossible: true }, assignable: { ok: false, reasons: [{ code: 'not-endpoint', message: 'a bridge cannot be assigned' }] } }),
    makeDevice('0000:05:01.0', { deviceId: '0x100e', deviceName: '82540EM Gigabit Ethernet Controller', driver: 'e1000', iommuGroup: 11, pcieType: null, interrupts: { pin: 'A', irq: 21, msi: { capable: false, enabled: false, vectors: null, maxVectors: null }, msix: { capable: false, enabled: false, tableSize: null }, mode: 'intx' } }),
    makeDevice('0000:05:02.0', { deviceId: '0x100e', deviceName: '82540EM Gigabit Ethernet Controller', driver: 'e1000', iommuGroup: 11, pcieType: null, reset: { methods: [], flr: false, afFlr: false, pmNoSoftReset: null, busResetPossible: false } }),
  ];
}

export function build(events: HotslotEvent[], start: HotslotState = initialState): HotslotState {
  return events.reduce(reduce, start);
}

/** The lab host with two running guests (vm1 with two free slots, vm2 with one) and one gone. */
export function labEvents(): HotslotEvent[] {
  return [
    { type: 'host.scanned', at: 1, iommu: true, devices: labDevices() },
    { type: 'guest.connected', at: 2, guest: 'vm1', qemuVersion: '7.2.0', runState: 'running' },
    { type: 'guest.devices', at: 2, guest: 'vm1', devices: [], freeSlots: ['rp1', 'rp2'] },
    { type: 'guest.connected', at: 3, guest: 'vm2', qemuVersion: '7.2.0', runState: 'running' },
    { type: 'guest.devices', at: 3, guest: 'vm2', devices: [], freeSlots: ['rp1'] },
    { type: 'guest.connected', at: 4, guest: 'vm3', qemuVersion: '7.2.0', runState: 'paused' },
    { type: 'guest.disconnected', at: 5, guest: 'vm3', reason: 'socket closed' },
  ];
}

export function labState(): HotslotState {
  return build(labEvents());
}

/** The lab state with 0000:02:00.0 held by vm1 as hostdev0. */
export function withHeldDevice(state: HotslotState, bdf = '0000:02:00.0', guest = 'vm1'): HotslotState {
  return build(
    [
      { type: 'host.device.changed', at: 10, device: { ...state.devices[bdf], driver: 'vfio-pci', owner: { kind: 'vfio' } }, fields: ['driver'] },
      {
        type: 'guest.devices',
        at: 10,
        guest,
        devices: [{ qdevId: 'hostdev0', bus: 1, slot: 0, function: 0, classDescription: 'Ethernet controller', vendorId: 0x8086, deviceId: 0x10d3, hostBdf: bdf }],
        freeSlots: ['rp2'],
      },
    ],
    state,
  );
}

/** An event without its time, for each kind. */
type Untimed = HotslotEvent extends infer E ? (E extends HotslotEvent ? Omit<E, 'at'> : never) : never;

/**
 * A recorded session for the replay tests, 40 s long: the lab host and vm1; at 5 s an attach of
 * the NVMe drive 0000:03:00.0 to vm1 (done at 5.7 s); at 25 s its detach (done at 26.6 s).
 * Each event comes with its time into the session (`t`); the session's own clock (`at`) is 1 s ahead.
 */
export function replaySession(): { t: number; event: HotslotEvent }[] {
  const nvme = labDevices().find((d) => d.bdf === '0000:03:00.0')!;
  const held = { qdevId: 'hs-0000-03-00-0', bus: 1, slot: 0, function: 0, classDescription: 'NVMe', vendorId: 0x1b36, deviceId: 0x0010, hostBdf: nvme.bdf };
  const at = (t: number) => t + 1000;
  const timed = (t: number, e: Untimed) => ({ t, event: { ...e, at: at(t) } as HotslotEvent });
  return [
    timed(0, { type: 'host.scanned', iommu: true, devices: labDevices() }),
    timed(50, { type: 'guest.connected', guest: 'vm1', qemuVersion: '10.0.0', runState: 'running' }),
    timed(60, { type: 'guest.devices', guest: 'vm1', devices: [], freeSlots: ['rp1', 'rp2'] }),
    timed(5000, { type: 'op.started', opId: 'op1', op: 'attach', bdfs: [nvme.bdf], guest: 'vm1' }),
    timed(5010, { type: 'op.step', opId: 'op1', step: 'unbind', bdf: nvme.bdf, status: 'running' }),
    timed(5100, { type: 'op.step', opId: 'op1', step: 'unbind', bdf: nvme.bdf, status: 'ok', ms: 90, detail: 'from nvme' }),
    timed(5200, { type: 'op.step', opId: 'op1', step: 'device_add', bdf: nvme.bdf, status: 'running' }),
    timed(5600, { type: 'host.device.changed', device: { ...nvme, driver: 'vfio-pci', owner: { kind: 'vfio' } }, fields: ['driver', 'owner'] }),
    timed(5600, { type: 'guest.devices', guest: 'vm1', devices: [held], freeSlots: ['rp2'] }),
    timed(5600, { type: 'op.step', opId: 'op1', step: 'device_add', bdf: nvme.bdf, status: 'ok', ms: 400 }),
    timed(5700, { type: 'op.finished', opId: 'op1', outcome: 'done', message: `${nvme.bdf} is with guest vm1` }),
    timed(25_000, { type: 'op.started', opId: 'op2', op: 'detach', bdfs: [nvme.bdf], fromGuest: 'vm1' }),
    timed(25_100, { type: 'op.step', opId: 'op2', step: 'device_del', bdf: nvme.bdf, status: 'running' }),
    timed(26_000, { type: 'guest.devices', guest: 'vm1', devices: [], freeSlots: ['rp1', 'rp2'] }),
    timed(26_000, { type: 'op.step', opId: 'op2', step: 'device_del', bdf: nvme.bdf, status: 'ok', ms: 900 }),
    timed(26_500, { type: 'host.device.changed', device: nvme, fields: ['driver', 'owner'] }),
    timed(26_600, { type: 'op.finished', opId: 'op2', outcome: 'done', message: `${nvme.bdf} (nvme) is back on the host` }),
    timed(40_000, { type: 'guest.status', guest: 'vm1', runState: 'paused' }),
  ];
}
