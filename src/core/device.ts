/**
 * The device record every reader produces and every view shows. Its JSON form is the contract
 * of `list --json`, `check --json` and `inspect --json` (DESIGN.md section 4). Fields that a
 * source cannot know (a dump has no driver) are null.
 */

export type HeaderType = 'endpoint' | 'bridge' | 'cardbus';

export type PcieType =
  | 'endpoint'
  | 'legacy-endpoint'
  | 'root-port'
  | 'upstream-port'
  | 'downstream-port'
  | 'pcie-to-pci-bridge'
  | 'pci-to-pcie-bridge'
  | 'root-complex-endpoint'
  | 'root-complex-event-collector';

export type OwnerKind = 'host' | 'vfio' | 'guest' | 'none';

export interface Owner {
  kind: OwnerKind;
  guest?: string;
  qdevId?: string;
}

/** Who owns a function that no guest holds, from its bound driver alone. */
export function ownerOfDriver(driver: string | null): Owner {
  if (driver === 'vfio-pci') return { kind: 'vfio' };
  return driver ? { kind: 'host' } : { kind: 'none' };
}

export type InterruptMode = 'intx' | 'msi' | 'msix' | 'none';

export interface Interrupts {
  pin: 'A' | 'B' | 'C' | 'D' | null;
  irq: number | null;
  msi: { capable: boolean; enabled: boolean; vectors: number | null; maxVectors: number | null };
  msix: { capable: boolean; enabled: boolean; tableSize: number | null };
  mode: InterruptMode;
}

export interface ResetInfo {
  /** The kernel's `reset_method` list, or what the config space allows when offline. */
  methods: string[];
  flr: boolean;
  afFlr: boolean;
  pmNoSoftReset: boolean | null;
  busResetPossible: boolean;
}

export interface AcsFlags {
  sourceValidation: boolean;
  translationBlocking: boolean;
  requestRedirect: boolean;
  completionRedirect: boolean;
  upstreamForwarding: boolean;
  egressControl: boolean;
  directTranslatedP2P: boolean;
}

export interface CapabilityRef {
  id: number;
  name: string;
  offset: number;
  extended: boolean;
}

export interface Reason {
  /** Stable, kebab-case; scripts match on it. */
  code: string;
  /** A sentence an operator understands. */
  message: string;
}

export interface Device {
  bdf: string;
  vendorId: string;
  deviceId: string;
  classCode: string;
  vendorName: string | null;
  deviceName: string | null;
  headerType: HeaderType | null;
  pcieType: PcieType | null;
  driver: string | null;
  iommuGroup: number | null;
  owner: Owner;
  interrupts: Interrupts;
  reset: ResetInfo;
  acs: { capable: boolean; flags: AcsFlags } | null;
  sriov: { totalVFs: number; numVFs: number } | null;
  capabilities: CapabilityRef[];
  assignable: { ok: boolean; reasons: Reason[] };
}
