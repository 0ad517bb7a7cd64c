/**
 * Decodes a function's configuration space (the bytes of sysfs `config` or of an `lspci -x` dump)
 * into the facts hotslot acts on: capability chains, PCIe port type, reset abilities, interrupt
 * modes, ACS and SR-IOV. It follows lspci (pciutils ls-caps.c / ls-ecaps.c) and the kernel's
 * capability walk, and never throws: a register the bytes do not cover reads as absent.
 */
import type { AcsFlags, CapabilityRef, HeaderType, PcieType } from '../core/device.js';
import { CapId, ExtCapId, capabilityName, extendedCapabilityName } from './capability-names.js';
import type { ConfigSpace } from './config-space-types.js';

/** Offsets in the common header (PCI Local Bus spec 3.0, 6.1). */
const REG = {
  vendorId: 0x00,
  deviceId: 0x02,
  command: 0x04,
  status: 0x06,
  revision: 0x08,
  classCode: 0x09,
  headerType: 0x0e,
  capabilityPointer: 0x34,
  cardbusCapabilityPointer: 0x14,
  secondaryBus: 0x19,
  subordinateBus: 0x1a,
  subsystemVendorId: 0x2c,
  subsystemId: 0x2e,
  cardbusSubsystemVendorId: 0x40,
  cardbusSubsystemId: 0x42,
  interruptLine: 0x3c,
  interruptPin: 0x3d,
} as const;

const COMMAND_INTX_DISABLE = 1 << 10;
const STATUS_INTX = 1 << 3;
const STATUS_CAP_LIST = 1 << 4;

/** Standard capabilities live after the 64-byte header; the extended chain starts at 0x100. */
const FIRST_STANDARD_CAP = 0x40;
const FIRST_EXTENDED_CAP = 0x100;
const STANDARD_SPACE = 0x100;

const PCIE_TYPES: Readonly<Record<number, PcieType>> = {
  0x0: 'endpoint',
  0x1: 'legacy-endpoint',
  0x4: 'root-port',
  0x5: 'upstream-port',
  0x6: 'downstream-port',
  0x7: 'pcie-to-pci-bridge',
  0x8: 'pci-to-pcie-bridge',
  0x9: 'root-complex-endpoint',
  0xa: 'root-complex-event-collector',
};

const HEADER_TYPES: Readonly<Record<number, HeaderType>> = { 0: 'endpoint', 1: 'bridge', 2: 'cardbus' };

/** Little-endian reads that answer null past the end of the bytes given. */
class Registers {
  constructor(private readonly bytes: Uint8Array) {}

  get length(): number {
    return this.bytes.length;
  }

  covers(offset: number, size: number): boolean {
    return offset >= 0 && offset + size <= this.bytes.length;
  }

  u8(offset: number): number | null {
    return this.covers(offset, 1) ? this.bytes[offset] : null;
  }

  u16(offset: number): number | null {
    return this.covers(offset, 2) ? this.bytes[offset] | (this.bytes[offset + 1] << 8) : null;
  }

  u32(offset: number): number | null {
    if (!this.covers(offset, 4)) return null;
    const b = this.bytes;
    return (b[offset] | (b[offset + 1] << 8) | (b[offset + 2] << 16) | (b[offset + 3] << 24)) >>> 0;
  }
}

const bit = (value: number, n: number) => (value & (1 << n)) !== 0;
const hex = (n: number) => '0x' + n.toString(16);

export function decodeConfigSpace(bytes: Uint8Array): ConfigSpace {
  const r = new Registers(bytes);
  const headerByte = r.u8(REG.headerType);
  const headerType = headerByte === null ? null : (HEADER_TYPES[headerByte & 0x7f] ?? null);
  const command = r.u16(REG.command) ?? 0;
  const status = r.u16(REG.status) ?? 0;
  const pinByte = r.u8(REG.interruptPin);
  const classLow = r.u8(REG.classCode);
  const classMid = r.u8(REG.classCode + 1);
  const classHigh = r.u8(REG.classCode + 2);

  const cs: ConfigSpace = {
    length: bytes.length,
    // An absent register reads as all ones, as a read of a missing function does.
    vendorId: r.u16(REG.vendorId) ?? 0xffff,
    deviceId: r.u16(REG.deviceId) ?? 0xffff,
    classCode: classLow === null || classMid === null || classHigh === null ? 0 : (classHigh << 16) | (classMid << 8) | classLow,
    revision: r.u8(REG.revision) ?? 0,
    subsystemVendorId: null,
    subsystemId: null,
    headerType,
    multiFunction: headerByte !== null && bit(headerByte, 7),
    intxDisabled: (command & COMMAND_INTX_DISABLE) !== 0,
    intxStatus: (status & STATUS_INTX) !== 0,
    interruptPin: pinByte !== null && pinByte >= 1 && pinByte <= 4 ? (['A', 'B', 'C', 'D'] as const)[pinByte - 1] : null,
    interruptLine: r.u8(REG.interruptLine),
    secondaryBus: headerType === 'bridge' ? r.u8(REG.secondaryBus) : null,
    subordinateBus: headerType === 'bridge' ? r.u8(REG.subordinateBus) : null,
    capabilities: [],
    chainProblems: [],
    pcie: null,
    pm: null,
    msi: null,
    msix: null,
    af: null,
    acs: null,
    sriov: null,
  };

  if (headerType === 'endpoint') {
    cs.subsystemVendorId = r.u16(REG.subsystemVendorId);
    cs.subsystemId = r.u16(REG.subsystemId);
  } else if (headerType === 'cardbus') {
    cs.subsystemVendorId = r.u16(REG.cardbusSubsystemVendorId);
    cs.subsystemId = r.u16(REG.cardbusSubsystemId);
  }

  // lspci decodes capabilities only for the three known header layouts, and only when the
  // status register says a list exists.
  if (headerType === null || (status & STATUS_CAP_LIST) === 0) return cs;
  const pointerRegister = headerType === 'cardbus' ? REG.cardbusCapabilityPointer : REG.capabilityPointer;
  const extendedPossible = walkStandardChain(r, pointerRegister, cs);
  // As lspci does: the extended chain only for PCIe (and PCI-X) functions whose bytes go past
  // the standard 256, so a 256-byte dump never reports extended capabilities.
  if (extendedPossible && r.length > STANDARD_SPACE) walkExtendedChain(r, cs);
  return cs;
}

/** Walks the standard chain; answers whether the function can have extended capabilities. */
function walkStandardChain(r: Registers, pointerRegister: number, cs: ConfigSpace): boolean {
  let extendedPossible = false;
  // An array, not a Set: a chain has a handful of entries, and a scan decodes thousands of chains.
  const seen: number[] = [];
  let where = (r.u8(pointerRegister) ?? 0) & ~3;
  while (where !== 0) {
    if (where < FIRST_STANDARD_CAP) {
      cs.chainProblems.push(`standard chain points into the header at ${hex(where)}`);
      break;
    }
    if (!r.covers(where, 4)) {
      cs.chainProblems.push(`standard chain points past the bytes given at ${hex(where)}`);
      break;
    }
    if (seen.includes(where)) {
      cs.chainProblems.push(`standard chain looped at ${hex(where)}`);
      break;
    }
    seen.push(where);
    const id = r.u8(where) ?? 0xff;
    if (id === 0xff) {
      cs.chainProblems.push(`standard chain broken at ${hex(where)}`);
      break;
    }
    cs.capabilities.push(capability(id, where, false));
    if (id === CapId.express || id === CapId.pcix) extendedPossible = true;
    decodeStandard(r, id, where, cs);
    where = (r.u8(where + 1) ?? 0) & ~3;
  }
  return extendedPossible;
}

function walkExtendedChain(r: Registers, cs: ConfigSpace): void {
  const seen: number[] = [];
  let where = FIRST_EXTENDED_CAP;
  while (where !== 0) {
    const header = r.u32(where);
    // lspci stops quietly on an unreadable, all-zero or all-ones header.
    if (header === null || header === 0 || header === 0xffffffff) break;
    if (seen.includes(where)) {
      cs.chainProblems.push(`extended chain looped at ${hex(where)}`);
      break;
    }
    seen.push(where);
    const id = header & 0xffff;
    cs.capabilities.push(capability(id, where, true));
    decodeExtended(r, id, where, cs);
    const next = (header >>> 20) & ~3;
    // The kernel never follows an extended pointer back into the standard space.
    if (next !== 0 && next < FIRST_EXTENDED_CAP) {
      cs.chainProblems.push(`extended chain points below 0x100 at ${hex(where)}`);
      break;
    }
    where = next;
  }
}

function capability(id: number, offset: number, extended: boolean): CapabilityRef {
  return { id, name: extended ? extendedCapabilityName(id) : capabilityName(id), offset, extended };
}

function decodeStandard(r: Registers, id: number, where: number, cs: ConfigSpace): void {
  switch (id) {
    case CapId.express:
      if (cs.pcie === null) cs.pcie = decodeExpress(r, where);
      break;
    case CapId.powerManagement:
      if (cs.pm === null) cs.pm = decodePowerManagement(r, where);
      break;
    case CapId.msi:
      if (cs.msi === null) cs.msi = decodeMsi(r, where);
      break;
    case CapId.msix:
      if (cs.msix === null) cs.msix = decodeMsix(r, where);
      break;
    case CapId.advancedFeatures:
      if (cs.af === null) cs.af = decodeAdvancedFeatures(r, where);
      break;
  }
}

function decodeExtended(r: Registers, id: number, where: number, cs: ConfigSpace): void {
  switch (id) {
    case ExtCapId.acs:
      if (cs.acs === null) cs.acs = decodeAcs(r, where);
      break;
    case ExtCapId.sriov:
      if (cs.sriov === null) cs.sriov = decodeSriov(r, where);
      break;
  }
}

/** PCI Express Capability: flags at +2 (version, port type, slot), Device Capabilities at +4. */
function decodeExpress(r: Registers, where: number): ConfigSpace['pcie'] {
  const flags = r.u16(where + 2);
  if (flags === null) return null;
  const devcap = r.u32(where + 4);
  return {
    portType: PCIE_TYPES[(flags >> 4) & 0xf] ?? null,
    version: flags & 0xf,
    flr: devcap !== null && bit(devcap, 28),
    slotImplemented: bit(flags, 8),
  };
}

/** Power Management: PMCSR at +4, bit 3 No_Soft_Reset. */
function decodePowerManagement(r: Registers, where: number): ConfigSpace['pm'] {
  const pmcsr = r.u16(where + 4);
  return pmcsr === null ? null : { noSoftReset: bit(pmcsr, 3) };
}

/** MSI: Message Control at +2 (enable, multiple message capable/enable, 64-bit, per-vector masking). */
function decodeMsi(r: Registers, where: number): ConfigSpace['msi'] {
  const control = r.u16(where + 2);
  if (control === null) return null;
  return {
    enabled: bit(control, 0),
    vectorsCapable: 1 << ((control >> 1) & 7),
    vectorsEnabled: 1 << ((control >> 4) & 7),
    is64Bit: bit(control, 7),
    maskable: bit(control, 8),
  };
}

/** MSI-X: Message Control at +2 (table size N-1 in bits 10:0, function mask bit 14, enable bit 15). */
function decodeMsix(r: Registers, where: number): ConfigSpace['msix'] {
  const control = r.u16(where + 2);
  if (control === null) return null;
  return { enabled: bit(control, 15), tableSize: (control & 0x7ff) + 1, functionMasked: bit(control, 14) };
}

/** PCI Advanced Features: AF Capabilities at +3 (bit 0 transactions pending, bit 1 FLR). */
function decodeAdvancedFeatures(r: Registers, where: number): ConfigSpace['af'] {
  const caps = r.u8(where + 3);
  return caps === null ? null : { transactionsPending: bit(caps, 0), flr: bit(caps, 1) };
}

/** ACS: ACS Capability register at +4, bits 0..6. */
function decodeAcs(r: Registers, where: number): ConfigSpace['acs'] {
  const caps = r.u16(where + 4);
  if (caps === null) return null;
  const flags: AcsFlags = {
    sourceValidation: bit(caps, 0),
    translationBlocking: bit(caps, 1),
    requestRedirect: bit(caps, 2),
    completionRedirect: bit(caps, 3),
    upstreamForwarding: bit(caps, 4),
    egressControl: bit(caps, 5),
    directTranslatedP2P: bit(caps, 6),
  };
  return { flags };
}

/** SR-IOV: InitialVFs +0x0c, TotalVFs +0x0e, NumVFs +0x10, First VF Offset +0x14, Stride +0x16, VF Device ID +0x1a. */
function decodeSriov(r: Registers, where: number): ConfigSpace['sriov'] {
  const initialVFs = r.u16(where + 0x0c);
  const totalVFs = r.u16(where + 0x0e);
  const numVFs = r.u16(where + 0x10);
  const vfOffset = r.u16(where + 0x14);
  const vfStride = r.u16(where + 0x16);
  const vfDeviceId = r.u16(where + 0x1a);
  if (initialVFs === null || totalVFs === null || numVFs === null || vfOffset === null || vfStride === null || vfDeviceId === null) {
    return null;
  }
  return { totalVFs, numVFs, initialVFs, vfOffset, vfStride, vfDeviceId };
}
