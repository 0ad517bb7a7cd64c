import type { AcsFlags, CapabilityRef, HeaderType, PcieType } from '../core/device.js';

/**
 * What the configuration-space decoder (`decodeConfigSpace` in `config-space.ts`) returns.
 * Every field that the given bytes do not cover (a 64-byte dump has no capabilities) is null
 * or empty; the decoder never throws.
 */
export interface ConfigSpace {
  /** How many bytes were given (64, 256, 4096, or anything). */
  length: number;
  vendorId: number;
  deviceId: number;
  /** 24-bit class code: base class, subclass, programming interface. */
  classCode: number;
  revision: number;
  /** Subsystem vendor and id (0x2c/0x2e of a type-0 header, 0x40/0x42 of a CardBus header); null otherwise. */
  subsystemVendorId: number | null;
  subsystemId: number | null;
  headerType: HeaderType | null;
  multiFunction: boolean;
  /** Command register bit 10. */
  intxDisabled: boolean;
  /** Status register bit 3 (PCI 2.3 INTx masking support is shown by it changing). */
  intxStatus: boolean;
  interruptPin: 'A' | 'B' | 'C' | 'D' | null;
  interruptLine: number | null;
  /** Type-1 headers only. */
  secondaryBus: number | null;
  subordinateBus: number | null;
  /** Standard chain then extended chain, in the order found; loops and bad pointers end a chain. */
  capabilities: CapabilityRef[];
  /** Why a chain ended early, in lspci's words where it has some (`standard chain looped at 0x50`). */
  chainProblems: string[];
  pcie: {
    portType: PcieType | null;
    version: number;
    flr: boolean;
    slotImplemented: boolean;
  } | null;
  pm: { noSoftReset: boolean } | null;
  msi: {
    enabled: boolean;
    vectorsCapable: number;
    vectorsEnabled: number;
    is64Bit: boolean;
    maskable: boolean;
  } | null;
  msix: { enabled: boolean; tableSize: number; functionMasked: boolean } | null;
  /** PCI Advanced Features capability. */
  af: { flr: boolean; transactionsPending: boolean } | null;
  acs: { flags: AcsFlags } | null;
  sriov: {
    totalVFs: number;
    numVFs: number;
    initialVFs: number;
    vfOffset: number;
    vfStride: number;
    vfDeviceId: number;
  } | null;
}
