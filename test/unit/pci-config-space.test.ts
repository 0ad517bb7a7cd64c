import { describe, expect, it } from 'vitest';
import { decodeConfigSpace } from '../../src/pci/config-space.js';

/** A configuration space written register by register, little-endian, as hardware lays it out. */
class Space {
  readonly bytes: Uint8Array;
  constructor(length: number) {
    this.bytes = new Uint8Array(length);
  }
  u8(at: number, v: number): this {
    this.bytes[at] = v & 0xff;
    return this;
  }
  u16(at: number, v: number): this {
    return this.u8(at, v).u8(at + 1, v >> 8);
  }
  u32(at: number, v: number): this {
    return this.u16(at, v & 0xffff).u16(at + 2, v >>> 16);
  }
  /** Type-0 header of an Intel NIC with a capability list starting at `first`. */
  endpoint(first: number): this {
    return this.u16(0, 0x8086).u16(2, 0x10c9).u16(6, 0x0010).u8(0x0b, 0x02).u8(0x0e, 0x00).u8(0x34, first);
  }
  cap(at: number, id: number, next: number, flags = 0): this {
    return this.u8(at, id).u8(at + 1, next).u16(at + 2, flags);
  }
  /** Extended capability header: id, version 1, next offset. */
  ecap(at: number, id: number, next: number): this {
    return this.u32(at, (id & 0xffff) | (1 << 16) | (next << 20));
  }
  /** A PCIe endpoint capability at `at` (version 2, Device Capabilities with FLR as given). */
  express(at: number, next: number, { flr = false, type = 0, slot = false } = {}): this {
    return this.cap(at, 0x10, next, 2 | (type << 4) | (slot ? 0x100 : 0)).u32(at + 4, flr ? 1 << 28 : 0);
  }
  decode() {
    return decodeConfigSpace(this.bytes);
  }
}

const offsets = (caps: { offset: number; extended: boolean }[], extended: boolean) =>
  caps.filter((c) => c.extended === extended).map((c) => c.offset);

describe('header', () => {
  it('reads ids, class, header type, interrupt pin and line from the first 64 bytes', () => {
    const cs = new Space(64).endpoint(0).u8(0x08, 0x01).u8(0x09, 0x00).u8(0x0a, 0x00).u8(0x0e, 0x80).u8(0x3c, 11).u8(0x3d, 1).decode();
    expect(cs.vendorId).toBe(0x8086);
    expect(cs.deviceId).toBe(0x10c9);
    expect(cs.classCode).toBe(0x020000);
    expect(cs.revision).toBe(1);
    expect(cs.headerType).toBe('endpoint');
    expect(cs.multiFunction).toBe(true);
    expect(cs.interruptPin).toBe('A');
    expect(cs.interruptLine).toBe(11);
    expect(cs.length).toBe(64);
  });

  it('gives bus numbers for a bridge only', () => {
    const bridge = new Space(64).u8(0x0e, 0x01).u8(0x19, 3).u8(0x1a, 5).decode();
    expect(bridge.headerType).toBe('bridge');
    expect([bridge.secondaryBus, bridge.subordinateBus]).toEqual([3, 5]);
    const ep = new Space(64).endpoint(0).u8(0x19, 3).decode();
    expect(ep.secondaryBus).toBeNull();
  });

  it('treats an unknown header layout as unknown and reads no capabilities from it', () => {
    const cs = new Space(256).endpoint(0x40).u8(0x0e, 0x05).cap(0x40, 0x05, 0).decode();
    expect(cs.headerType).toBeNull();
    expect(cs.capabilities).toEqual([]);
  });

  it('reads an empty or tiny buffer as a missing function (all ones) without throwing', () => {
    const empty = decodeConfigSpace(new Uint8Array());
    expect(empty.vendorId).toBe(0xffff);
    expect(empty.headerType).toBeNull();
    expect(empty.interruptLine).toBeNull();
    expect(decodeConfigSpace(new Uint8Array([0x86])).vendorId).toBe(0xffff);
  });

  it('reads INTx disable (command bit 10) and INTx status (status bit 3)', () => {
    const cs = new Space(64).endpoint(0).u16(4, 1 << 10).u16(6, 0x0018).decode();
    expect(cs.intxDisabled).toBe(true);
    expect(cs.intxStatus).toBe(true);
  });
});

describe('standard capability chain', () => {
  it('is ignored when the status register says there is no capability list (bit 4), as lspci does', () => {
    const cs = new Space(256).endpoint(0x40).u16(6, 0).cap(0x40, 0x01, 0).decode();
    expect(cs.capabilities).toEqual([]);
  });

  it('masks the two low bits of every pointer', () => {
    const cs = new Space(256).endpoint(0x43).cap(0x40, 0x01, 0x52).cap(0x50, 0x05, 0).decode();
    expect(offsets(cs.capabilities, false)).toEqual([0x40, 0x50]);
  });

  it('ends at a loop and lists each capability once', () => {
    const cs = new Space(256).endpoint(0x40).cap(0x40, 0x01, 0x50).cap(0x50, 0x05, 0x40).decode();
    expect(offsets(cs.capabilities, false)).toEqual([0x40, 0x50]);
    expect(cs.chainProblems).toEqual(['standard chain looped at 0x40']);
  });

  it('ends at a capability that points to itself', () => {
    const cs = new Space(256).endpoint(0x40).cap(0x40, 0x01, 0x40).decode();
    expect(offsets(cs.capabilities, false)).toEqual([0x40]);
  });

  it('refuses pointers into the 64-byte header', () => {
    const cs = new Space(256).endpoint(0x40).cap(0x40, 0x01, 0x10).decode();
    expect(offsets(cs.capabilities, false)).toEqual([0x40]);
    expect(cs.chainProblems[0]).toMatch(/into the header at 0x10/);
  });

  it('ends at id 0xff (a broken chain, as lspci says)', () => {
    const cs = new Space(256).endpoint(0x40).cap(0x40, 0x01, 0x50).cap(0x50, 0xff, 0x60).cap(0x60, 0x05, 0).decode();
    expect(offsets(cs.capabilities, false)).toEqual([0x40]);
    expect(cs.chainProblems[0]).toMatch(/broken at 0x50/);
  });

  it('reads no capabilities from a 64-byte dump (lspci -x), whose list lies beyond it', () => {
    const full = new Space(256).endpoint(0x40).cap(0x40, 0x01, 0);
    const cs = decodeConfigSpace(full.bytes.slice(0, 64));
    expect(cs.capabilities).toEqual([]);
    expect(cs.chainProblems[0]).toMatch(/past the bytes given at 0x40/);
  });

  it('lists a capability whose registers are cut off, but decodes nothing from them', () => {
    const full = new Space(256).endpoint(0xfc).cap(0xfc, 0x01, 0);
    const cs = full.decode();
    expect(offsets(cs.capabilities, false)).toEqual([0xfc]);
    expect(cs.pm).toBeNull();
  });

  it('reads the chain of a CardBus bridge from 0x14', () => {
    const cs = new Space(256).u16(6, 0x10).u8(0x0e, 0x02).u8(0x14, 0x80).cap(0x80, 0x01, 0).decode();
    expect(cs.headerType).toBe('cardbus');
    expect(offsets(cs.capabilities, false)).toEqual([0x80]);
  });

  it('names capabilities as lspci does', () => {
    const cs = new Space(256).endpoint(0x40).cap(0x40, 0x01, 0x50).cap(0x50, 0x13, 0x60).cap(0x60, 0x3f, 0).decode();
    expect(cs.capabilities.map((c) => c.name)).toEqual(['Power Management', 'PCI Advanced Features', 'Capability 0x3f']);
  });
});

describe('extended capability chain', () => {
  const pcie = (length: number) => new Space(length).endpoint(0x40).express(0x40, 0);

  it('starts at 0x100 for a PCIe function with 4096 bytes', () => {
    const cs = pcie(4096).ecap(0x100, 0x01, 0x140).ecap(0x140, 0x0d, 0x200).ecap(0x200, 0x10, 0).decode();
    expect(offsets(cs.capabilities, true)).toEqual([0x100, 0x140, 0x200]);
    expect(cs.capabilities.filter((c) => c.extended).map((c) => c.name)).toEqual([
      'Advanced Error Reporting',
      'Access Control Services',
      'Single Root I/O Virtualization (SR-IOV)',
    ]);
  });

  it('is not read from a 256-byte dump, as lspci does not', () => {
    const full = pcie(4096).ecap(0x100, 0x01, 0);
    expect(offsets(decodeConfigSpace(full.bytes.slice(0, 256)).capabilities, true)).toEqual([]);
  });

  it('is not read for a conventional PCI function, whatever the bytes past 256 say', () => {
    const cs = new Space(4096).endpoint(0x40).cap(0x40, 0x01, 0).ecap(0x100, 0x01, 0).decode();
    expect(offsets(cs.capabilities, true)).toEqual([]);
  });

  it('is read for a PCI-X function with 4096 bytes (PCI-X 2.0 has extended space), as lspci does', () => {
    const cs = new Space(4096).endpoint(0x40).cap(0x40, 0x07, 0).ecap(0x100, 0x01, 0).decode();
    expect(offsets(cs.capabilities, true)).toEqual([0x100]);
    expect(cs.pcie).toBeNull();
  });

  it('ends at a loop', () => {
    const cs = pcie(4096).ecap(0x100, 0x01, 0x140).ecap(0x140, 0x03, 0x100).decode();
    expect(offsets(cs.capabilities, true)).toEqual([0x100, 0x140]);
    expect(cs.chainProblems).toEqual(['extended chain looped at 0x100']);
  });

  it('ends at a pointer back into the standard space', () => {
    const cs = pcie(4096).ecap(0x100, 0x01, 0x40).decode();
    expect(offsets(cs.capabilities, true)).toEqual([0x100]);
    expect(cs.chainProblems[0]).toMatch(/below 0x100/);
  });

  it('ends quietly at an all-zero or all-ones header', () => {
    expect(offsets(pcie(4096).ecap(0x100, 0x01, 0x140).decode().capabilities, true)).toEqual([0x100]);
    const ones = pcie(4096).ecap(0x100, 0x01, 0x140).u32(0x140, 0xffffffff).decode();
    expect(offsets(ones.capabilities, true)).toEqual([0x100]);
    expect(ones.chainProblems).toEqual([]);
  });

  it('ends at a pointer past the end of a truncated dump', () => {
    const full = pcie(4096).ecap(0x100, 0x01, 0x300).ecap(0x300, 0x03, 0);
    expect(offsets(decodeConfigSpace(full.bytes.slice(0, 0x200)).capabilities, true)).toEqual([0x100]);
  });

  it('follows the last aligned slot (0xffc) and stops there', () => {
    const cs = pcie(4096).ecap(0x100, 0x01, 0xffc).ecap(0xffc, 0x03, 0).decode();
    expect(offsets(cs.capabilities, true)).toEqual([0x100, 0xffc]);
  });
});

describe('decoded registers', () => {
  it('PCIe: port type, version, slot and FLR from Device Capabilities', () => {
    const cs = new Space(256).endpoint(0x40).express(0x40, 0, { flr: true, type: 4, slot: true }).decode();
    expect(cs.pcie).toEqual({ portType: 'root-port', version: 2, flr: true, slotImplemented: true });
    const types = [0, 1, 4, 5, 6, 7, 8, 9, 10, 3].map((type) => new Space(256).endpoint(0x40).express(0x40, 0, { type }).decode().pcie?.portType);
    expect(types).toEqual([
      'endpoint',
      'legacy-endpoint',
      'root-port',
      'upstream-port',
      'downstream-port',
      'pcie-to-pci-bridge',
      'pci-to-pcie-bridge',
      'root-complex-endpoint',
      'root-complex-event-collector',
      null,
    ]);
  });

  it('PM: No_Soft_Reset from PMCSR bit 3', () => {
    expect(new Space(256).endpoint(0x40).cap(0x40, 0x01, 0).u16(0x44, 0x0008).decode().pm).toEqual({ noSoftReset: true });
    expect(new Space(256).endpoint(0x40).cap(0x40, 0x01, 0).u16(0x44, 0x0000).decode().pm).toEqual({ noSoftReset: false });
  });

  it('MSI: enable, vectors enabled and capable, 64-bit, per-vector masking', () => {
    // Multiple Message Capable = 2 (4 vectors), Enable = 1 (2 vectors), 64-bit, maskable, enabled.
    const control = 1 | (2 << 1) | (1 << 4) | (1 << 7) | (1 << 8);
    const cs = new Space(256).endpoint(0x50).cap(0x50, 0x05, 0, control).decode();
    expect(cs.msi).toEqual({ enabled: true, vectorsCapable: 4, vectorsEnabled: 2, is64Bit: true, maskable: true });
  });

  it('MSI-X: enable, function mask and table size (N-1 encoded)', () => {
    const cs = new Space(256).endpoint(0x70).cap(0x70, 0x11, 0, (1 << 15) | 9).decode();
    expect(cs.msix).toEqual({ enabled: true, tableSize: 10, functionMasked: false });
    expect(new Space(256).endpoint(0x70).cap(0x70, 0x11, 0, (1 << 14) | 0x7ff).decode().msix).toEqual({
      enabled: false,
      tableSize: 2048,
      functionMasked: true,
    });
  });

  it('PCI Advanced Features: TP and FLR bits', () => {
    const cs = new Space(256).endpoint(0x50).cap(0x50, 0x13, 0, 0x0306).decode();
    expect(cs.af).toEqual({ transactionsPending: true, flr: true });
  });

  it('ACS: each capability bit on its own', () => {
    const names = ['sourceValidation', 'translationBlocking', 'requestRedirect', 'completionRedirect', 'upstreamForwarding', 'egressControl', 'directTranslatedP2P'];
    names.forEach((name, n) => {
      const cs = new Space(4096).endpoint(0x40).express(0x40, 0).ecap(0x100, 0x0d, 0).u16(0x104, 1 << n).decode();
      const on = Object.entries(cs.acs?.flags ?? {}).filter(([, v]) => v).map(([k]) => k);
      expect(on).toEqual([name]);
    });
  });

  it('SR-IOV: initial, total and current VFs, offset, stride and VF device id', () => {
    const cs = new Space(4096)
      .endpoint(0x40)
      .express(0x40, 0)
      .ecap(0x160, 0x10, 0)
      .ecap(0x100, 0x01, 0x160)
      .u16(0x16c, 8)
      .u16(0x16e, 7)
      .u16(0x170, 3)
      .u16(0x174, 0x180)
      .u16(0x176, 2)
      .u16(0x17a, 0x10ca)
      .decode();
    expect(cs.sriov).toEqual({ initialVFs: 8, totalVFs: 7, numVFs: 3, vfOffset: 0x180, vfStride: 2, vfDeviceId: 0x10ca });
  });

  it('SR-IOV whose registers run past the end of the bytes is listed but not decoded', () => {
    const full = new Space(4096).endpoint(0x40).express(0x40, 0).ecap(0x100, 0x10, 0);
    const cs = decodeConfigSpace(full.bytes.slice(0, 0x110));
    expect(offsets(cs.capabilities, true)).toEqual([0x100]);
    expect(cs.sriov).toBeNull();
  });
});
