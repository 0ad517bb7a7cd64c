/**
 * Names of PCI capabilities, in the words lspci (pciutils ls-caps.c, ls-ecaps.c) uses, so that an
 * operator who compares `hotslot inspect` with `lspci -vvv` reads the same names. Ids that lspci
 * only decodes by content (Express, MSI, ...) get the short name of what they are.
 */

/** Standard capability ids (the byte at the capability's offset). */
export const CapId = {
  powerManagement: 0x01,
  agp: 0x02,
  vpd: 0x03,
  slotId: 0x04,
  msi: 0x05,
  compactPciHotSwap: 0x06,
  pcix: 0x07,
  hyperTransport: 0x08,
  vendorSpecific: 0x09,
  debugPort: 0x0a,
  compactPciCentralResource: 0x0b,
  hotPlug: 0x0c,
  subsystemVendor: 0x0d,
  agp3: 0x0e,
  secureDevice: 0x0f,
  express: 0x10,
  msix: 0x11,
  sata: 0x12,
  advancedFeatures: 0x13,
  enhancedAllocation: 0x14,
  flatteningPortalBridge: 0x15,
} as const;

/** Extended capability ids (the low 16 bits of the header at 0x100 and onwards). */
export const ExtCapId = {
  aer: 0x0001,
  virtualChannel: 0x0002,
  serialNumber: 0x0003,
  powerBudgeting: 0x0004,
  acs: 0x000d,
  ari: 0x000e,
  ats: 0x000f,
  sriov: 0x0010,
} as const;

const STANDARD: Readonly<Record<number, string>> = {
  0x01: 'Power Management',
  0x02: 'AGP',
  0x03: 'Vital Product Data',
  0x04: 'Slot ID',
  0x05: 'MSI',
  0x06: 'CompactPCI hot-swap',
  0x07: 'PCI-X',
  0x08: 'HyperTransport',
  0x09: 'Vendor Specific Information',
  0x0a: 'Debug port',
  0x0b: 'CompactPCI central resource control',
  0x0c: 'Hot-plug capable',
  0x0d: 'Subsystem',
  0x0e: 'AGP3',
  0x0f: 'Secure device',
  0x10: 'Express',
  0x11: 'MSI-X',
  0x12: 'SATA HBA',
  0x13: 'PCI Advanced Features',
  0x14: 'Enhanced Allocation (EA)',
  0x15: 'Flattening Portal Bridge',
};

const EXTENDED: Readonly<Record<number, string>> = {
  0x00: 'Null',
  0x01: 'Advanced Error Reporting',
  0x02: 'Virtual Channel',
  0x03: 'Device Serial Number',
  0x04: 'Power Budgeting',
  0x05: 'Root Complex Link',
  0x06: 'Root Complex Internal Link',
  0x07: 'Root Complex Event Collector Endpoint Association',
  0x08: 'Multi-Function Virtual Channel',
  0x09: 'Virtual Channel',
  0x0a: 'Root Complex Register Block',
  0x0b: 'Vendor Specific Information',
  0x0c: 'Configuration Access Correlation',
  0x0d: 'Access Control Services',
  0x0e: 'Alternative Routing-ID Interpretation (ARI)',
  0x0f: 'Address Translation Service (ATS)',
  0x10: 'Single Root I/O Virtualization (SR-IOV)',
  0x11: 'Multi-Root I/O Virtualization',
  0x12: 'Multicast',
  0x13: 'Page Request Interface (PRI)',
  0x15: 'Physical Resizable BAR',
  0x16: 'Dynamic Power Allocation',
  0x17: 'Transaction Processing Hints',
  0x18: 'Latency Tolerance Reporting',
  0x19: 'Secondary PCI Express',
  0x1a: 'Protocol Multiplexing',
  0x1b: 'Process Address Space ID (PASID)',
  0x1c: 'LN Requester',
  0x1d: 'Downstream Port Containment',
  0x1e: 'L1 PM Substates',
  0x1f: 'Precision Time Measurement',
  0x20: 'PCI Express over M_PHY',
  0x21: 'FRS Queueing',
  0x22: 'Readiness Time Reporting',
  0x23: 'Designated Vendor-Specific',
  0x24: 'VF Resizable BAR',
  0x25: 'Data Link Feature',
  0x26: 'Physical Layer 16.0 GT/s',
  0x27: 'Lane Margining at the Receiver',
  0x28: 'Hierarchy ID',
  0x29: 'Native PCIe Enclosure Management',
  0x2a: 'Physical Layer 32.0 GT/s',
  0x2b: 'Alternate Protocol',
  0x2c: 'System Firmware Intermediary',
  0x2d: 'Shadow Functions',
  0x2e: 'Data Object Exchange',
  0x2f: 'Device 3',
  0x30: 'Integrity & Data Encryption',
  0x31: 'Physical Layer 64.0 GT/s',
  0x32: 'Flit Logging',
  0x33: 'Flit Performance Measurement',
  0x34: 'Flit Error Injection',
};

const hex = (n: number, width: number) => '0x' + n.toString(16).padStart(width, '0');

/** Name of a standard capability; unknown ids read as lspci's `#xx` would, e.g. `Capability 0x1f`. */
export function capabilityName(id: number): string {
  return STANDARD[id] ?? `Capability ${hex(id, 2)}`;
}

/** Name of an extended capability; unknown ids read `Extended Capability ID 0x..` as in lspci. */
export function extendedCapabilityName(id: number): string {
  return EXTENDED[id] ?? `Extended Capability ID ${hex(id, 2)}`;
}
