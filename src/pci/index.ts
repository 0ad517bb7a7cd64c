export { decodeConfigSpace } from './config-space.js';
export type { ConfigSpace } from './config-space-types.js';
export { capabilityName, extendedCapabilityName, CapId, ExtCapId } from './capability-names.js';
export { loadPciIds, parsePciIds, DEFAULT_PCI_IDS_PATHS, type PciNames } from './pci-ids.js';
export { describeFromConfig, busResetPossibleInDump, interruptMode, resetFromConfig } from './device-from-config.js';
export { parseBdf, normalizeBdf, formatBdf, isBdf, BdfError } from './bdf.js';
export { readLspciDump, LspciDumpError, type DumpFunction } from './lspci-dump.js';
