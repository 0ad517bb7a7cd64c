/**
 * The device record (DESIGN.md section 4) as far as a configuration space alone can tell it. Used
 * by `inspect --dump`, and by the sysfs reader as the base it fills with what only a live host
 * knows (driver, IOMMU group, owner, the kernel's reset_method).
 */
import type { Device, InterruptMode, Reason, ResetInfo } from '../core/device.js';
import type { ConfigSpace } from './config-space-types.js';
import type { PciNames } from './pci-ids.js';

const hex = (n: number, width: number) => '0x' + n.toString(16).padStart(width, '0');

export interface OfflineContext {
  /**
   * Whether a secondary bus reset could reach this function alone, when the caller knows the
   * topology (see `busResetPossibleInDump`). A single configuration space cannot tell.
   */
  busResetPossible?: boolean;
}

export function describeFromConfig(bdf: string, cfg: ConfigSpace, names?: PciNames, context: OfflineContext = {}): Device {
  const reasons: Reason[] = [
    {
      code: 'offline',
      message: 'decoded from a configuration-space dump: the driver, IOMMU group and owner need the live host',
    },
  ];
  if (cfg.headerType !== 'endpoint') {
    reasons.push({
      code: 'not-endpoint',
      message: `header type is ${cfg.headerType ?? 'unknown'}: only endpoints (header type 0) can be assigned to a guest`,
    });
  }
  return {
    bdf,
    vendorId: hex(cfg.vendorId, 4),
    deviceId: hex(cfg.deviceId, 4),
    classCode: hex(cfg.classCode, 6),
    vendorName: names?.vendor(cfg.vendorId) ?? null,
    deviceName: names?.device(cfg.vendorId, cfg.deviceId) ?? null,
    headerType: cfg.headerType,
    pcieType: cfg.pcie?.portType ?? null,
    driver: null,
    iommuGroup: null,
    owner: { kind: 'none' },
    interrupts: {
      pin: cfg.interruptPin,
      irq: irqFromConfig(cfg),
      msi: {
        capable: cfg.msi !== null,
        enabled: cfg.msi?.enabled ?? false,
        vectors: cfg.msi?.vectorsEnabled ?? null,
        maxVectors: cfg.msi?.vectorsCapable ?? null,
      },
      msix: { capable: cfg.msix !== null, enabled: cfg.msix?.enabled ?? false, tableSize: cfg.msix?.tableSize ?? null },
      mode: interruptMode(cfg),
    },
    reset: resetFromConfig(cfg, context.busResetPossible ?? false),
    acs: acsOf(cfg),
    sriov: cfg.sriov ? { totalVFs: cfg.sriov.totalVFs, numVFs: cfg.sriov.numVFs } : null,
    capabilities: capabilitiesOf(cfg),
    assignable: { ok: false, reasons },
  };
}

/** The record's `acs`: the capability's flags, copied. */
export function acsOf(cfg: ConfigSpace): Device['acs'] {
  return cfg.acs ? { capable: true, flags: { ...cfg.acs.flags } } : null;
}

/** The record's `capabilities`, copied so that the record never shares objects with the decoding. */
export function capabilitiesOf(cfg: ConfigSpace): Device['capabilities'] {
  return cfg.capabilities.map((c) => ({ ...c }));
}

/** MSI-X enabled wins over MSI enabled, which wins over a wired pin: the order the kernel uses them. */
export function interruptMode(cfg: ConfigSpace): InterruptMode {
  if (cfg.msix?.enabled) return 'msix';
  if (cfg.msi?.enabled) return 'msi';
  if (cfg.interruptPin !== null) return 'intx';
  return 'none';
}

/** The Interrupt Line register, when the function has a pin; 0xff means "not connected" on x86. */
function irqFromConfig(cfg: ConfigSpace): number | null {
  if (cfg.interruptPin === null || cfg.interruptLine === null || cfg.interruptLine === 0xff) return null;
  return cfg.interruptLine;
}

/**
 * The reset methods the configuration space allows, named and ordered as the kernel's
 * `reset_method` (drivers/pci/pci.c): `flr` needs PCIe DevCap FLR; `af_flr` needs both the TP and
 * FLR bits of PCI Advanced Features; `pm` needs a PM capability without No_Soft_Reset; `bus`
 * needs the topology. Device-specific and ACPI methods cannot be seen in configuration space.
 */
export function resetFromConfig(cfg: ConfigSpace, busResetPossible: boolean): ResetInfo {
  const flr = cfg.pcie?.flr ?? false;
  const afFlr = cfg.af?.flr ?? false;
  const methods: string[] = [];
  if (flr) methods.push('flr');
  if (afFlr && cfg.af?.transactionsPending) methods.push('af_flr');
  if (cfg.pm && !cfg.pm.noSoftReset) methods.push('pm');
  if (busResetPossible) methods.push('bus');
  return { methods, flr, afFlr, pmNoSoftReset: cfg.pm ? cfg.pm.noSoftReset : null, busResetPossible };
}

export interface FunctionInDump {
  bdf: string;
  cfg: ConfigSpace;
}

/**
 * For a dump of a whole machine: a function can be reset through its parent bridge's secondary
 * bus reset when, as the kernel requires (pci_parent_bus_reset), it is not itself a bridge, its
 * parent bridge is present, and it is alone on that bus. A dump that lacks the parent bridge
 * tells nothing, so the answer is then false.
 */
export function busResetPossibleInDump(functions: readonly FunctionInDump[]): Map<string, boolean> {
  const onBus = new Map<string, number>();
  const bridged = new Set<string>();
  const busKey = (bdf: string) => bdf.slice(0, 7);
  for (const f of functions) {
    onBus.set(busKey(f.bdf), (onBus.get(busKey(f.bdf)) ?? 0) + 1);
    if (f.cfg.headerType === 'bridge' && f.cfg.secondaryBus !== null && f.cfg.secondaryBus !== 0) {
      bridged.add(`${f.bdf.slice(0, 4)}:${f.cfg.secondaryBus.toString(16).padStart(2, '0')}`);
    }
  }
  const result = new Map<string, boolean>();
  for (const f of functions) {
    const key = busKey(f.bdf);
    result.set(f.bdf, f.cfg.headerType === 'endpoint' && bridged.has(key) && onBus.get(key) === 1);
  }
  return result;
}
