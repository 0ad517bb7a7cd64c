/**
 * Vendor, device and class names from the system's pci.ids (the file lspci reads). The file is
 * read and indexed on the first lookup only; a missing or unreadable file gives null names, never
 * an error, because names are a courtesy and every decision is made on the numbers.
 */
import { readFileSync } from 'node:fs';

/** The two lookups every caller needs; the rest are optional so that a test can fake names in one line. */
export interface PciNames {
  vendor(vendorId: number): string | null;
  device(vendorId: number, deviceId: number): string | null;
  /** Subsystem name (lspci's `Subsystem:` line), when pci.ids lists one. */
  subsystem?(vendorId: number, deviceId: number, subVendorId: number, subDeviceId: number): string | null;
  /** Name of a 24-bit class code as lspci shows it: the subclass (`Ethernet controller`), else the base class. */
  className?(classCode: number): string | null;
  /** Name of the programming interface of a 24-bit class code (`UHCI`), if pci.ids has one. */
  progIfName?(classCode: number): string | null;
  /** The file the names come from, or null when none could be read (known after a lookup). */
  readonly path?: string | null;
}

/** Where distributions put pci.ids, in lspci's order of preference. */
export const DEFAULT_PCI_IDS_PATHS = ['/usr/share/misc/pci.ids', '/usr/share/hwdata/pci.ids', '/usr/share/pci.ids'];

interface VendorEntry {
  name: string;
  devices: Map<number, DeviceEntry>;
}

interface DeviceEntry {
  name: string;
  /** Key: subVendor << 16 | subDevice. */
  subsystems: Map<number, string>;
}

interface Index {
  path: string | null;
  vendors: Map<number, VendorEntry>;
  /** Key: `base`, `base.sub` or `base.sub.progIf` (see classKey). */
  classes: Map<string, string>;
}

const EMPTY: Index = { path: null, vendors: new Map(), classes: new Map() };

/**
 * Names from `path`, or from the first of the usual places that exists. Nothing is read until the
 * first lookup.
 */
export function loadPciIds(path?: string): PciNames {
  let index: Index | null = null;
  return namesFrom(() => (index ??= readIndex(path === undefined ? DEFAULT_PCI_IDS_PATHS : [path])));
}

/** Names parsed from the text of a pci.ids file (for tests and for callers that hold the text). */
export function parsePciIds(text: string, path: string | null = null): PciNames {
  const index = parseIndex(text, path);
  return namesFrom(() => index);
}

function namesFrom(get: () => Index): PciNames {
  const deviceEntry = (v: number, d: number) => get().vendors.get(v)?.devices.get(d);
  return {
    vendor: (v) => get().vendors.get(v)?.name ?? null,
    device: (v, d) => deviceEntry(v, d)?.name ?? null,
    subsystem: (v, d, sv, sd) => deviceEntry(v, d)?.subsystems.get(sv * 0x10000 + sd) ?? null,
    className: (code) => {
      const c = get().classes;
      const base = (code >> 16) & 0xff;
      return c.get(classKey(base, (code >> 8) & 0xff)) ?? c.get(classKey(base)) ?? null;
    },
    progIfName: (code) => get().classes.get(classKey((code >> 16) & 0xff, (code >> 8) & 0xff, code & 0xff)) ?? null,
    get path() {
      return get().path;
    },
  };
}

function classKey(base: number, sub?: number, progIf?: number): string {
  return progIf !== undefined ? `${base}.${sub}.${progIf}` : sub !== undefined ? `${base}.${sub}` : `${base}`;
}

function readIndex(paths: string[]): Index {
  for (const p of paths) {
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch {
      continue;
    }
    return parseIndex(text, p);
  }
  return EMPTY;
}

const HEX4 = /^[0-9a-fA-F]{4}$/;
const HEX2 = /^[0-9a-fA-F]{2}$/;

/**
 * The format: `vvvv  Vendor`, then `\tdddd  Device`, then `\t\tssss ssss  Subsystem`; after a
 * `C cc  Class` line, `\tss  Subclass` and `\t\tpp  Prog-if`. `#` starts a comment. Lines that do
 * not fit are skipped, as lspci skips them.
 */
function parseIndex(text: string, path: string | null): Index {
  const vendors = new Map<number, VendorEntry>();
  const classes = new Map<string, string>();
  let vendor: VendorEntry | null = null;
  let device: DeviceEntry | null = null;
  let inClasses = false;
  let classBase = -1;
  let classSub = -1;

  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length === 0 || line[0] === '#') continue;

    const depth = line.startsWith('\t\t') ? 2 : line.startsWith('\t') ? 1 : 0;
    const body = line.slice(depth);

    if (depth === 0) {
      device = null;
      if (body.startsWith('C ')) {
        inClasses = true;
        vendor = null;
        const id = body.slice(2, 4);
        classBase = HEX2.test(id) ? parseInt(id, 16) : -1;
        classSub = -1;
        if (classBase >= 0) classes.set(classKey(classBase), nameAfter(body, 4));
        continue;
      }
      inClasses = false;
      classBase = -1;
      const id = body.slice(0, 4);
      if (!HEX4.test(id)) {
        // Other top-level sections (e.g. `X` for known-device lists in some versions): skip them.
        vendor = null;
        continue;
      }
      const v = parseInt(id, 16);
      vendor = vendors.get(v) ?? { name: nameAfter(body, 4), devices: new Map() };
      vendors.set(v, vendor);
    } else if (inClasses) {
      if (classBase < 0) continue;
      const id = body.slice(0, 2);
      if (!HEX2.test(id)) continue;
      if (depth === 1) {
        classSub = parseInt(id, 16);
        classes.set(classKey(classBase, classSub), nameAfter(body, 2));
      } else if (classSub >= 0) {
        classes.set(classKey(classBase, classSub, parseInt(id, 16)), nameAfter(body, 2));
      }
    } else if (depth === 1) {
      if (!vendor) continue;
      const id = body.slice(0, 4);
      if (!HEX4.test(id)) continue;
      device = { name: nameAfter(body, 4), subsystems: new Map() };
      vendor.devices.set(parseInt(id, 16), device);
    } else {
      if (!device) continue;
      const sv = body.slice(0, 4);
      const sd = body.slice(5, 9);
      if (!HEX4.test(sv) || body[4] !== ' ' || !HEX4.test(sd)) continue;
      device.subsystems.set(parseInt(sv, 16) * 0x10000 + parseInt(sd, 16), nameAfter(body, 9));
    }
  }
  return { path, vendors, classes };
}

function nameAfter(body: string, idLength: number): string {
  return body.slice(idLength).trim();
}
