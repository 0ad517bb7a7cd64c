import type { Device } from '../../src/core/device.js';

/** A core device record of an e1000e-like NIC on `driver`, for reducer-level tests. */
export function deviceRecord(bdf: string, driver: string | null, overrides: Partial<Device> = {}): Device {
  return {
    bdf,
    vendorId: '0x8086',
    deviceId: '0x10d3',
    classCode: '0x020000',
    vendorName: null,
    deviceName: null,
    headerType: 'endpoint',
    pcieType: 'endpoint',
    driver,
    iommuGroup: 8,
    owner: { kind: driver === 'vfio-pci' ? 'vfio' : driver ? 'host' : 'none' },
    interrupts: { pin: 'A', irq: 16, msi: { capable: true, enabled: false, vectors: null, maxVectors: 1 }, msix: { capable: false, enabled: false, tableSize: null }, mode: 'intx' },
    reset: { methods: ['pm', 'bus'], flr: false, afFlr: false, pmNoSoftReset: false, busResetPossible: true },
    acs: null,
    sriov: null,
    capabilities: [],
    assignable: { ok: true, reasons: [] },
    ...overrides,
  };
}
