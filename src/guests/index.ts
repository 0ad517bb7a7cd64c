export { Guest, connectGuests, type GuestSnapshot } from './guest.js';
export { readGuestPci, readQueryPci, type GuestPciView } from './guest-pci.js';
export { parseGuestOption, guestsInDir, mergeGuestSpecs, checkGuestName, GuestSpecError, type GuestSpec } from './guest-specs.js';
export { pidListeningOn, memlockLimit } from './qemu-process.js';
