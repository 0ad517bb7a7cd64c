/**
 * Writes configuration-space bytes for fixture functions: the header, a standard capability chain
 * (PM, MSI, MSI-X, PCIe, PCI Advanced Features) and, for PCIe functions, an extended chain (ACS,
 * SR-IOV), laid out as the PCI and PCIe base specifications place the registers, so that both
 * hotslot's decoder and lspci read them.
 */
import type { AcsFlags, HeaderType, PcieType } from '../core/device.js';

export interface ConfigSpec {
  vendorId: number;
  deviceId: number;
  classCode: number;
  revision: number;
  subsystemVendorId: number;
  subsystemDeviceId: number;
  headerType: HeaderType;
  multiFunction: boolean;
  /** A VF reads 0xffff for vendor and device (the PF's SR-IOV capability names them). */
  virtualFunction: boolean;
  interruptPin: 'A' | 'B' | 'C' | 'D' | null;
  interruptLine: number;
  bars: { index: number; address: bigint; space: 'mem' | 'io'; is64Bit: boolean; prefetchable: boolean }[];
  /** Type-1 headers. */
  bus?: { primary: number; secondary: number; subordinate: number };
  pm: { noSoftReset: boolean } | null;
  msi: { vectorsCapable: number; vectorsEnabled: number; enabled: boolean; is64Bit: boolean; maskable: boolean } | null;
  msix: { tableSize: number; enabled: boolean } | null;
  pcie: { type: PcieType; flr: boolean; slotImplemented: boolean } | null;
  af: { flr: boolean } | null;
  acs: AcsFlags | null;
  sriov: { totalVFs: number; numVFs: number; vfOffset: number; vfStride: number; vfDeviceId: number } | null;
}

const PCIE_TYPE_CODE: Record<PcieType, number> = {
  endpoint: 0x0,
  'legacy-endpoint': 0x1,
  'root-port': 0x4,
  'upstream-port': 0x5,
  'downstream-port': 0x6,
  'pcie-to-pci-bridge': 0x7,
  'pci-to-pcie-bridge': 0x8,
  'root-complex-endpoint': 0x9,
  'root-complex-event-collector': 0xa,
};

class Writer {
  readonly bytes: Uint8Array;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }
  u8(off: number, v: number) {
    this.bytes[off] = v & 0xff;
  }
  u16(off: number, v: number) {
    this.u8(off, v);
    this.u8(off + 1, v >> 8);
  }
  u32(off: number, v: number) {
    this.u16(off, v & 0xffff);
    this.u16(off + 2, (v >>> 16) & 0xffff);
  }
}

const log2 = (n: number) => Math.max(0, Math.ceil(Math.log2(Math.max(1, n))));

export function encodeConfigSpace(spec: ConfigSpec): Uint8Array {
  const extended = spec.pcie !== null;
  const w = new Writer(extended ? 4096 : 256);
  w.u16(0x00, spec.virtualFunction ? 0xffff : spec.vendorId);
  w.u16(0x02, spec.virtualFunction ? 0xffff : spec.deviceId);
  const msiOn = (spec.msi?.enabled ?? false) || (spec.msix?.enabled ?? false);
  // Memory, I/O and bus master on; the kernel sets INTx Disable while MSI or MSI-X is on.
  w.u16(0x04, 0x0007 | (msiOn ? 1 << 10 : 0));
  w.u8(0x08, spec.revision);
  w.u8(0x09, spec.classCode & 0xff);
  w.u8(0x0a, (spec.classCode >> 8) & 0xff);
  w.u8(0x0b, (spec.classCode >> 16) & 0xff);
  const headerCode = spec.headerType === 'bridge' ? 1 : spec.headerType === 'cardbus' ? 2 : 0;
  w.u8(0x0e, headerCode | (spec.multiFunction ? 0x80 : 0));

  const maxBars = headerCode === 1 ? 2 : 6;
  for (const bar of spec.bars) {
    if (bar.index >= maxBars) continue;
    const off = 0x10 + bar.index * 4;
    if (bar.space === 'io') {
      w.u32(off, Number(bar.address & 0xfffffffcn) | 0x1);
    } else {
      const flags = (bar.is64Bit ? 0x4 : 0) | (bar.prefetchable ? 0x8 : 0);
      w.u32(off, Number(bar.address & 0xfffffff0n) | flags);
      if (bar.is64Bit && bar.index + 1 < maxBars) w.u32(off + 4, Number(bar.address >> 32n));
    }
  }
  if (headerCode === 1) {
    const bus = spec.bus ?? { primary: 0, secondary: 0, subordinate: 0 };
    w.u8(0x18, bus.primary);
    w.u8(0x19, bus.secondary);
    w.u8(0x1a, bus.subordinate);
    // Windows closed (base above limit), as an idle bridge shows them.
    w.u8(0x1c, 0xf0);
    w.u16(0x20, 0xfff0);
    w.u16(0x24, 0xfff1);
    w.u16(0x26, 0x0001);
  } else {
    w.u16(0x2c, spec.subsystemVendorId);
    w.u16(0x2e, spec.subsystemDeviceId);
  }
  if (spec.interruptPin !== null) {
    w.u8(0x3c, spec.interruptLine);
    w.u8(0x3d, 'ABCD'.indexOf(spec.interruptPin) + 1);
  } else {
    w.u8(0x3c, 0xff);
  }

  const chain: { id: number; size: number; write: (off: number) => void }[] = [];
  if (spec.pm) {
    const pm = spec.pm;
    chain.push({
      id: 0x01,
      size: 8,
      write: (o) => {
        w.u16(o + 2, 0x0003);
        w.u16(o + 4, pm.noSoftReset ? 0x0008 : 0x0000);
      },
    });
  }
  if (spec.msi) {
    const msi = spec.msi;
    chain.push({
      id: 0x05,
      size: 0x18,
      write: (o) => {
        const ctrl =
          (msi.enabled ? 1 : 0) |
          (log2(msi.vectorsCapable) << 1) |
          (log2(msi.vectorsEnabled) << 4) |
          (msi.is64Bit ? 1 << 7 : 0) |
          (msi.maskable ? 1 << 8 : 0);
        w.u16(o + 2, ctrl);
      },
    });
  }
  if (spec.msix) {
    const msix = spec.msix;
    chain.push({
      id: 0x11,
      size: 0x0c,
      write: (o) => {
        w.u16(o + 2, ((msix.tableSize - 1) & 0x7ff) | (msix.enabled ? 1 << 15 : 0));
        w.u32(o + 4, 0x0000);
        w.u32(o + 8, 0x0800);
      },
    });
  }
  if (spec.pcie) {
    const pcie = spec.pcie;
    chain.push({
      id: 0x10,
      size: 0x3c,
      write: (o) => {
        w.u16(o + 2, 0x2 | (PCIE_TYPE_CODE[pcie.type] << 4) | (pcie.slotImplemented ? 1 << 8 : 0));
        // DevCap: 256-byte max payload, FLR capable (bit 28).
        w.u32(o + 4, 0x1 | (pcie.flr ? 1 << 28 : 0));
        // LinkCap: 2.5 GT/s x1; LinkStatus the same.
        w.u32(o + 0x0c, 0x11);
        w.u16(o + 0x12, 0x11);
      },
    });
  }
  if (spec.af) {
    const af = spec.af;
    chain.push({
      id: 0x13,
      size: 6,
      write: (o) => {
        w.u8(o + 2, 6);
        // Transactions Pending and FLR: the kernel offers af_flr only with both.
        w.u8(o + 3, af.flr ? 0x3 : 0x1);
      },
    });
  }
  let off = 0x40;
  let prev = -1;
  for (const cap of chain) {
    if (prev < 0) w.u8(0x34, off);
    else w.u8(prev + 1, off);
    w.u8(off, cap.id);
    cap.write(off);
    prev = off;
    off = (off + cap.size + 3) & ~3;
  }
  if (chain.length > 0) w.u16(0x06, 0x0010);

  if (extended) writeExtended(w, spec);
  return w.bytes;
}

function writeExtended(w: Writer, spec: ConfigSpec): void {
  const caps: { id: number; size: number; write: (off: number) => void }[] = [];
  if (spec.acs) {
    const f = spec.acs;
    caps.push({
      id: 0x0d,
      size: 8,
      write: (o) => {
        const bits = [
          f.sourceValidation,
          f.translationBlocking,
          f.requestRedirect,
          f.completionRedirect,
          f.upstreamForwarding,
          f.egressControl,
          f.directTranslatedP2P,
        ];
        w.u16(o + 4, bits.reduce((acc, b, i) => acc | (b ? 1 << i : 0), 0));
      },
    });
  }
  if (spec.sriov) {
    const s = spec.sriov;
    caps.push({
      id: 0x10,
      size: 0x40,
      write: (o) => {
        w.u16(o + 0x08, s.numVFs > 0 ? 0x9 : 0x0);
        w.u16(o + 0x0c, s.totalVFs);
        w.u16(o + 0x0e, s.totalVFs);
        w.u16(o + 0x10, s.numVFs);
        w.u16(o + 0x14, s.vfOffset);
        w.u16(o + 0x16, s.vfStride);
        w.u16(o + 0x1a, s.vfDeviceId);
        w.u32(o + 0x1c, 0x553);
        w.u32(o + 0x20, 0x1);
      },
    });
  }
  let off = 0x100;
  for (let i = 0; i < caps.length; i++) {
    const cap = caps[i];
    const next = i + 1 < caps.length ? (off + cap.size + 3) & ~3 : 0;
    w.u32(off, cap.id | (1 << 16) | (next << 20));
    cap.write(off);
    off = next;
  }
}
